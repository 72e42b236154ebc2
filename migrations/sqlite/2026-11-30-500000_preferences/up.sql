-- A person's own settings: the time zone pages show times in, and the label size printed
-- when none is asked for.
ALTER TABLE users ADD COLUMN timezone TEXT NOT NULL DEFAULT 'Asia/Shanghai';
ALTER TABLE users ADD COLUMN label_size TEXT NOT NULL DEFAULT '4x6';
