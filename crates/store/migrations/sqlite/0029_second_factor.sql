-- A second factor (TOTP, RFC 6238): the secret sealed like personal data,
-- in use once a first code confirms it; the last time step taken, so that
-- no code is accepted twice.
CREATE TABLE user_totp (
    user_id INTEGER PRIMARY KEY REFERENCES users (id),
    secret_sealed TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    confirmed_at INTEGER,
    last_step INTEGER NOT NULL DEFAULT 0
);

-- One-time recovery codes, kept as hashes.
CREATE TABLE recovery_codes (
    user_id INTEGER NOT NULL REFERENCES users (id),
    code_hash TEXT NOT NULL,
    used_at INTEGER,
    PRIMARY KEY (user_id, code_hash)
);

-- What a person is shown of their sessions: the browser that opened it.
ALTER TABLE sessions ADD COLUMN user_agent TEXT NOT NULL DEFAULT '';
