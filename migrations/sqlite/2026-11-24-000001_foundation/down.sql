DROP TABLE outbox;
DROP TABLE login_failures;
DROP TABLE password_resets;
DROP TABLE api_keys;
DROP TABLE users;
