-- The love-points shop: items, every change of their stock, redemptions.
CREATE TABLE shop_items (
    id INTEGER PRIMARY KEY,
    community_id INTEGER NOT NULL REFERENCES org_nodes (id),
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    price INTEGER NOT NULL CHECK (price > 0),
    stock INTEGER NOT NULL DEFAULT 0 CHECK (stock >= 0),
    -- per person per month; NULL: no limit
    monthly_limit INTEGER CHECK (monthly_limit > 0),
    photo_file TEXT,
    photo_type TEXT,
    active INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (community_id, name)
);

CREATE TABLE redemptions (
    id INTEGER PRIMARY KEY,
    -- the request that took the points; its id was chosen by the client
    client_id TEXT NOT NULL UNIQUE REFERENCES point_requests (client_id),
    item_id INTEGER NOT NULL REFERENCES shop_items (id),
    resident_id INTEGER NOT NULL REFERENCES residents (id),
    quantity INTEGER NOT NULL CHECK (quantity > 0),
    points INTEGER NOT NULL CHECK (points > 0),
    pickup_code TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('waiting', 'handed_over', 'cancelled')),
    -- YYYY-MM in Asia/Shanghai, for the monthly limit and report
    month TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    created_by INTEGER REFERENCES users (id),
    closed_at INTEGER,
    closed_by TEXT,
    cancel_reason TEXT
);
CREATE INDEX redemptions_person ON redemptions (resident_id, item_id, month);
CREATE INDEX redemptions_item ON redemptions (item_id, status);
CREATE UNIQUE INDEX redemptions_pickup ON redemptions (pickup_code) WHERE status = 'waiting';

-- Every change of stock, with why: redemptions and their cancelling by
-- reference, everything else with a reason. Never changed or removed.
CREATE TABLE stock_changes (
    id INTEGER PRIMARY KEY,
    item_id INTEGER NOT NULL REFERENCES shop_items (id),
    change INTEGER NOT NULL CHECK (change <> 0),
    reason TEXT NOT NULL,
    redemption_id INTEGER REFERENCES redemptions (id),
    by_name TEXT NOT NULL,
    at INTEGER NOT NULL
);
CREATE INDEX stock_changes_item ON stock_changes (item_id, at);
CREATE TRIGGER stock_changes_no_update BEFORE UPDATE ON stock_changes
BEGIN
    SELECT RAISE(ABORT, 'stock_changes is append-only');
END;
CREATE TRIGGER stock_changes_no_delete BEFORE DELETE ON stock_changes
BEGIN
    SELECT RAISE(ABORT, 'stock_changes is append-only');
END;
