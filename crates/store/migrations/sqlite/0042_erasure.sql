-- Crypto-shredding: each resident's own data key, wrapped by the master
-- key. No backup carries this table (its rows are zeroed in the snapshot);
-- erasing a person deletes their row, and every copy of their sealed
-- fields, old backups included, stops opening.
CREATE TABLE resident_keys (
    resident_id INTEGER PRIMARY KEY REFERENCES residents (id),
    wrapped TEXT NOT NULL
);

-- when the person's data was erased: the row stays for the counts, with
-- nothing personal left in it
ALTER TABLE residents ADD COLUMN erased_at INTEGER;

-- how long a community keeps the data of people who left or died
ALTER TABLE org_nodes ADD COLUMN retention_years INTEGER NOT NULL DEFAULT 3 CHECK (retention_years BETWEEN 1 AND 30);

-- A person's requests about their record: a correction (answered in the
-- record's history) or an erasure (decided by the secretary with a reason).
CREATE TABLE record_requests (
    id INTEGER PRIMARY KEY,
    resident_id INTEGER NOT NULL REFERENCES residents (id),
    community_id INTEGER NOT NULL REFERENCES org_nodes (id),
    kind TEXT NOT NULL,
    body TEXT NOT NULL,
    evidence TEXT NOT NULL,
    -- staff asking for someone without a phone say why
    for_reason TEXT,
    state TEXT NOT NULL,
    asked_by INTEGER REFERENCES users (id),
    asked_by_name TEXT NOT NULL,
    asked_at INTEGER NOT NULL,
    decided_by_name TEXT,
    decided_at INTEGER,
    answer TEXT
);
CREATE INDEX record_requests_community ON record_requests (community_id, state, id);
CREATE INDEX record_requests_resident ON record_requests (resident_id, id);

-- An erasure empties the personal fields of the audit entries about the
-- person (who they were, from where, what was said) and names itself in
-- `erased_by`; the entry's hash and links stay, so the chain still holds.
ALTER TABLE audit_log ADD COLUMN erased_by INTEGER;
DROP TRIGGER audit_log_no_update;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
WHEN NOT (OLD.erased_by IS NULL AND NEW.erased_by IS NOT NULL AND NEW.erased_by > OLD.seq
    AND NEW.seq = OLD.seq AND NEW.at = OLD.at AND NEW.actor_id IS OLD.actor_id AND NEW.action = OLD.action
    AND NEW.outcome = OLD.outcome AND NEW.object = OLD.object AND NEW.org_path = OLD.org_path
    AND NEW.prev_hash = OLD.prev_hash AND NEW.hash = OLD.hash
    AND NEW.detail = '' AND NEW.ip IN ('', OLD.ip) AND NEW.actor_name IN ('', OLD.actor_name))
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

-- the latest erasure, looked up once a minute by the backup schedule
CREATE INDEX residents_erased ON residents (erased_at) WHERE erased_at IS NOT NULL;
