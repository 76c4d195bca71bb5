-- One-time SMS codes a resident logs in with. The phone and the code are
-- kept only as keyed hashes; a code lives five minutes and is used once.
CREATE TABLE login_codes (
    id INTEGER PRIMARY KEY,
    phone_key TEXT NOT NULL,
    code_hash TEXT NOT NULL,
    ip TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    used_at INTEGER
);
CREATE INDEX login_codes_phone ON login_codes (phone_key, created_at);
CREATE INDEX login_codes_ip ON login_codes (ip, created_at);
