-- Signed-in browser sessions, kept on the server so that signing out, a password change or an
-- operator can end them (the cookie only names one). They replace users.session_epoch.
CREATE TABLE sessions (
    -- SHA-256 of the random token in the cookie: a copy of this table opens no session.
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP
);
CREATE INDEX sessions_user ON sessions (user_id);

ALTER TABLE users DROP COLUMN session_epoch;
