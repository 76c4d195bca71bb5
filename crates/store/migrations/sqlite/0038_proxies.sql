-- A family member acting for a resident (代办): their own account, linked
-- by staff with the resident's consent recorded (how, when, by whom, the
-- signed paper's photo), limited to the acts the resident chose, ending
-- when either asks or by itself at expires_at unless renewed. Until the
-- family member joins, the link waits with a one-time code (its hash) and
-- the phone they will log in with (a keyed hash).
CREATE TABLE proxies (
    id INTEGER PRIMARY KEY,
    resident_id INTEGER NOT NULL REFERENCES residents (id),
    user_id INTEGER REFERENCES users (id),
    family_name TEXT NOT NULL,
    relation TEXT NOT NULL,
    phone_key TEXT NOT NULL,
    acts TEXT NOT NULL,
    consent TEXT NOT NULL,
    consent_file TEXT,
    linked_by TEXT NOT NULL,
    linked_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    code_hash TEXT UNIQUE,
    code_expires_at INTEGER,
    ended_at INTEGER,
    ended_by TEXT,
    end_reason TEXT
);
CREATE INDEX proxies_resident ON proxies (resident_id);
CREATE INDEX proxies_user ON proxies (user_id);
