-- A resident's account is linked to their record in the registry: staff
-- give a one-time invitation code, the resident redeems it to sign up.
ALTER TABLE users ADD COLUMN resident_id INTEGER REFERENCES residents (id);
CREATE UNIQUE INDEX users_resident ON users (resident_id) WHERE resident_id IS NOT NULL;

CREATE TABLE resident_invitations (
    -- SHA-256 of the code: the code itself is shown once and never stored
    code_hash TEXT PRIMARY KEY,
    resident_id INTEGER NOT NULL REFERENCES residents (id),
    created_by INTEGER REFERENCES users (id),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at INTEGER,
    used_by INTEGER REFERENCES users (id)
);
CREATE INDEX resident_invitations_resident ON resident_invitations (resident_id);
