-- An adjustment above the community's limit waits here for a second
-- person; approved, it goes through the ledger under the same client id.
CREATE TABLE point_approvals (
    client_id TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    community_id BIGINT NOT NULL REFERENCES org_nodes (id),
    -- the transfers asked for, as JSON
    legs TEXT NOT NULL,
    asked_by BIGINT REFERENCES users (id),
    asked_by_name TEXT NOT NULL,
    asked_at BIGINT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
    decided_by TEXT,
    decided_at BIGINT,
    reason TEXT
);
CREATE INDEX point_approvals_community ON point_approvals (community_id, status);
