-- An export with personal data in full happens only after a secretary or
-- street officer (not the one asking) approves it; it is downloaded once.
CREATE TABLE export_approvals (
    id INTEGER PRIMARY KEY,
    community_id INTEGER NOT NULL REFERENCES org_nodes (id),
    category TEXT,
    reason TEXT NOT NULL,
    requested_by INTEGER NOT NULL REFERENCES users (id),
    requested_name TEXT NOT NULL,
    requested_at INTEGER NOT NULL,
    decided_by INTEGER REFERENCES users (id),
    decided_name TEXT,
    decided_at INTEGER,
    status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected', 'used')),
    used_at INTEGER
);
CREATE INDEX export_approvals_community ON export_approvals (community_id, requested_at);
