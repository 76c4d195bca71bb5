-- The points ledger (double entry). Each account belongs to a community; a
-- resident's account also to the resident. Its balance is kept on the row,
-- moved in the same transaction as each transfer; it always equals the sum
-- of the account's transfers (the model test checks it after every step).
CREATE TABLE point_accounts (
    id INTEGER PRIMARY KEY,
    community_id INTEGER NOT NULL REFERENCES org_nodes (id),
    kind TEXT NOT NULL CHECK (kind IN ('resident', 'pool', 'shop', 'adjustment')),
    resident_id INTEGER REFERENCES residents (id),
    balance INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    CHECK ((kind = 'resident') = (resident_id IS NOT NULL)),
    -- the last line of defence: the service refuses a shortfall before this
    CHECK (kind <> 'resident' OR balance >= 0)
);
CREATE UNIQUE INDEX point_accounts_resident ON point_accounts (resident_id) WHERE resident_id IS NOT NULL;
CREATE UNIQUE INDEX point_accounts_community ON point_accounts (community_id, kind) WHERE resident_id IS NULL;

-- One row per client id: what was asked (its fingerprint) and how it ended.
-- A request that failed stays failed: sending it again answers the same.
CREATE TABLE point_requests (
    client_id TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    outcome TEXT NOT NULL CHECK (outcome IN ('done', 'failed')),
    -- for a failed one: why (points, stock, limit) and which transfer fell short
    reason TEXT CHECK (reason IN ('points', 'stock', 'limit')),
    failed_leg INTEGER,
    community_id INTEGER NOT NULL REFERENCES org_nodes (id),
    created_by INTEGER REFERENCES users (id),
    created_at INTEGER NOT NULL
);

-- Transfers are never changed or removed; a mistake is undone by a
-- reversing transfer, at most one per transfer.
CREATE TABLE point_transfers (
    id INTEGER PRIMARY KEY,
    client_id TEXT NOT NULL REFERENCES point_requests (client_id),
    leg INTEGER NOT NULL,
    debit_id INTEGER NOT NULL REFERENCES point_accounts (id),
    credit_id INTEGER NOT NULL REFERENCES point_accounts (id),
    amount INTEGER NOT NULL CHECK (amount > 0),
    kind TEXT NOT NULL CHECK (kind IN ('award', 'redeem', 'refund', 'reversal', 'adjust')),
    memo TEXT NOT NULL,
    reverses_id INTEGER REFERENCES point_transfers (id),
    created_by INTEGER REFERENCES users (id),
    created_by_name TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    -- the day in Asia/Shanghai, for monthly statements
    created_on TEXT NOT NULL,
    CHECK (debit_id <> credit_id),
    UNIQUE (client_id, leg)
);
CREATE INDEX point_transfers_debit ON point_transfers (debit_id, created_on);
CREATE INDEX point_transfers_credit ON point_transfers (credit_id, created_on);
CREATE UNIQUE INDEX point_transfers_reverses ON point_transfers (reverses_id) WHERE reverses_id IS NOT NULL;
CREATE TRIGGER point_transfers_no_update BEFORE UPDATE ON point_transfers
BEGIN
    SELECT RAISE(ABORT, 'point_transfers is append-only');
END;
CREATE TRIGGER point_transfers_no_delete BEFORE DELETE ON point_transfers
BEGIN
    SELECT RAISE(ABORT, 'point_transfers is append-only');
END;
CREATE TRIGGER point_requests_no_update BEFORE UPDATE ON point_requests
BEGIN
    SELECT RAISE(ABORT, 'point_requests is append-only');
END;
CREATE TRIGGER point_requests_no_delete BEFORE DELETE ON point_requests
BEGIN
    SELECT RAISE(ABORT, 'point_requests is append-only');
END;
