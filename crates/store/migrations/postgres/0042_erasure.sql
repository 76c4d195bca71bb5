-- Crypto-shredding: each resident's own data key, wrapped by the master
-- key. A backup leaves this table's rows out (pg_dump
-- --exclude-table-data=resident_keys); erasing a person deletes their row,
-- and every copy of their sealed fields, old backups included, stops opening.
CREATE TABLE resident_keys (
    resident_id BIGINT PRIMARY KEY REFERENCES residents (id),
    wrapped TEXT NOT NULL
);

-- when the person's data was erased: the row stays for the counts, with
-- nothing personal left in it
ALTER TABLE residents ADD COLUMN erased_at BIGINT;

-- how long a community keeps the data of people who left or died
ALTER TABLE org_nodes ADD COLUMN retention_years INTEGER NOT NULL DEFAULT 3 CHECK (retention_years BETWEEN 1 AND 30);

-- A person's requests about their record: a correction (answered in the
-- record's history) or an erasure (decided by the secretary with a reason).
CREATE TABLE record_requests (
    id BIGSERIAL PRIMARY KEY,
    resident_id BIGINT NOT NULL REFERENCES residents (id),
    community_id BIGINT NOT NULL REFERENCES org_nodes (id),
    kind TEXT NOT NULL,
    body TEXT NOT NULL,
    evidence TEXT NOT NULL,
    -- staff asking for someone without a phone say why
    for_reason TEXT,
    state TEXT NOT NULL,
    asked_by BIGINT REFERENCES users (id),
    asked_by_name TEXT NOT NULL,
    asked_at BIGINT NOT NULL,
    decided_by_name TEXT,
    decided_at BIGINT,
    answer TEXT
);
CREATE INDEX record_requests_community ON record_requests (community_id, state, id);
CREATE INDEX record_requests_resident ON record_requests (resident_id, id);

-- An erasure empties the personal fields of the audit entries about the
-- person (who they were, from where, what was said) and names itself in
-- `erased_by`; the entry's hash and links stay, so the chain still holds.
ALTER TABLE audit_log ADD COLUMN erased_by BIGINT;
DROP TRIGGER audit_log_no_change ON audit_log;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE FUNCTION audit_log_only_erasure() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.erased_by IS NULL AND NEW.erased_by IS NOT NULL AND NEW.erased_by > OLD.seq
        AND NEW.seq = OLD.seq AND NEW.at = OLD.at AND NEW.actor_id IS NOT DISTINCT FROM OLD.actor_id
        AND NEW.action = OLD.action AND NEW.outcome = OLD.outcome AND NEW.object = OLD.object
        AND NEW.org_path = OLD.org_path AND NEW.prev_hash = OLD.prev_hash AND NEW.hash = OLD.hash
        AND NEW.detail = '' AND NEW.ip IN ('', OLD.ip) AND NEW.actor_name IN ('', OLD.actor_name) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit_log is append-only';
END;
$$;
CREATE TRIGGER audit_log_no_change BEFORE UPDATE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_only_erasure();

-- the latest erasure, looked up once a minute by the backup schedule
CREATE INDEX residents_erased ON residents (erased_at) WHERE erased_at IS NOT NULL;
