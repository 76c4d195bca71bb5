-- A resident handed over to another community in yijia: asked by the
-- community they leave, accepted (or refused) by the one they join. The
-- record itself moves on acceptance, with its categories and history.
CREATE TABLE transfers (
    id BIGSERIAL PRIMARY KEY,
    resident_id BIGINT NOT NULL REFERENCES residents (id),
    from_community_id BIGINT NOT NULL REFERENCES org_nodes (id),
    to_community_id BIGINT NOT NULL REFERENCES org_nodes (id),
    on_date TEXT NOT NULL,
    reason TEXT NOT NULL,
    source TEXT NOT NULL,
    -- the new address as the sender heard it; the receiver places them
    new_address TEXT NOT NULL,
    state TEXT NOT NULL,
    asked_by_name TEXT NOT NULL,
    asked_at BIGINT NOT NULL,
    decided_by_name TEXT,
    decided_at BIGINT,
    decision_note TEXT
);
CREATE UNIQUE INDEX transfers_one_pending ON transfers (resident_id) WHERE state = 'pending';
CREATE INDEX transfers_to ON transfers (to_community_id, state);
CREATE INDEX transfers_from ON transfers (from_community_id, state);
