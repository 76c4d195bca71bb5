-- Cases: requests, disputes and hazards in one workflow with deadlines.

-- The catalogue a community edits: each category is of one kind and has a
-- default priority; its deadlines are per priority (case_deadlines).
CREATE TABLE case_categories (
    id INTEGER PRIMARY KEY,
    community_id INTEGER NOT NULL REFERENCES org_nodes (id),
    code TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('request', 'dispute', 'hazard')),
    name TEXT NOT NULL,
    name_en TEXT NOT NULL,
    description TEXT NOT NULL,
    priority TEXT NOT NULL CHECK (priority IN ('emergency', 'urgent', 'ordinary', 'complex')),
    active INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL,
    UNIQUE (community_id, code)
);

CREATE TABLE case_deadlines (
    category_id INTEGER NOT NULL REFERENCES case_categories (id),
    priority TEXT NOT NULL CHECK (priority IN ('emergency', 'urgent', 'ordinary', 'complex')),
    accept_ms INTEGER NOT NULL,
    resolve_ms INTEGER NOT NULL,
    PRIMARY KEY (category_id, priority)
);

CREATE TABLE cases (
    id INTEGER PRIMARY KEY,
    community_id INTEGER NOT NULL REFERENCES org_nodes (id),
    -- NULL: not placed in a grid yet, on the community's dispatch list
    grid_id INTEGER REFERENCES org_nodes (id),
    -- the grid's path, or the community's while on the dispatch list
    org_path TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('request', 'dispute', 'hazard')),
    category_id INTEGER NOT NULL REFERENCES case_categories (id),
    priority TEXT NOT NULL,
    state TEXT NOT NULL,
    -- 1 while someone still has work on it (submitted, accepted, in progress, escalated)
    open INTEGER NOT NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    channel TEXT NOT NULL CHECK (channel IN ('walk_in', 'phone', 'visit', 'portal', 'open311')),
    building_id INTEGER REFERENCES buildings (id),
    household_id INTEGER REFERENCES households (id),
    lon REAL,
    lat REAL,
    address TEXT NOT NULL,
    reporter_user_id INTEGER REFERENCES users (id),
    reporter_name TEXT NOT NULL,
    reporter_phone_sealed TEXT,
    created_by INTEGER REFERENCES users (id),
    created_by_name TEXT NOT NULL,
    assignee_id INTEGER REFERENCES users (id),
    assignee_name TEXT,
    accept_due INTEGER NOT NULL,
    resolve_due INTEGER NOT NULL,
    -- the deadline that counts now, the time it turns "near", and the next
    -- time the deadline sweep must look at the case (NULL: nothing to do)
    due_at INTEGER,
    near_at INTEGER,
    next_alarm_at INTEGER,
    accepted_at INTEGER,
    resolved_at INTEGER,
    closed_at INTEGER,
    escalated_at INTEGER,
    rating INTEGER CHECK (rating BETWEEN 1 AND 5),
    rating_comment TEXT,
    rated_at INTEGER,
    -- hazards: what is at risk
    at_risk TEXT,
    -- disputes: parties, mediation record and agreement, sealed
    dispute_sealed TEXT,
    -- handed to an Open311 client that posted it
    token TEXT UNIQUE,
    version INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX cases_open ON cases (org_path, due_at) WHERE open = 1;
CREATE INDEX cases_path ON cases (org_path, id);
CREATE INDEX cases_community ON cases (community_id, created_at);
CREATE INDEX cases_assignee ON cases (assignee_id, open);
CREATE INDEX cases_reporter ON cases (reporter_user_id, created_at);
CREATE INDEX cases_building ON cases (building_id, created_at);
CREATE INDEX cases_alarm ON cases (next_alarm_at) WHERE next_alarm_at IS NOT NULL;

-- The residents a case concerns.
CREATE TABLE case_residents (
    case_id INTEGER NOT NULL REFERENCES cases (id),
    resident_id INTEGER NOT NULL REFERENCES residents (id),
    PRIMARY KEY (case_id, resident_id)
);
CREATE INDEX case_residents_resident ON case_residents (resident_id);

-- The timeline: everything that happened to a case, never changed.
CREATE TABLE case_events (
    id INTEGER PRIMARY KEY,
    case_id INTEGER NOT NULL REFERENCES cases (id),
    at INTEGER NOT NULL,
    actor_id INTEGER REFERENCES users (id),
    actor_name TEXT NOT NULL,
    action TEXT NOT NULL,
    from_state TEXT,
    to_state TEXT,
    note TEXT NOT NULL
);
CREATE INDEX case_events_case ON case_events (case_id, id);
CREATE TRIGGER case_events_no_update BEFORE UPDATE ON case_events
BEGIN
    SELECT RAISE(ABORT, 'case_events is append-only');
END;

-- Dispute revisits, 7 and 30 days after resolving.
CREATE TABLE case_revisits (
    id INTEGER PRIMARY KEY,
    case_id INTEGER NOT NULL REFERENCES cases (id),
    due_at INTEGER NOT NULL,
    done_at INTEGER,
    done_by TEXT,
    note TEXT,
    UNIQUE (case_id, due_at)
);
CREATE INDEX case_revisits_due ON case_revisits (due_at) WHERE done_at IS NULL;

-- Events for the world outside (webhooks), written in the same transaction
-- as the change they tell of.
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    event TEXT NOT NULL,
    org_path TEXT NOT NULL,
    object TEXT NOT NULL,
    payload TEXT NOT NULL
);
CREATE INDEX outbox_object ON outbox (object, id);

-- Photos of a case, re-encoded without their metadata and kept under a
-- generated name in the file store.
CREATE TABLE case_photos (
    id INTEGER PRIMARY KEY,
    case_id INTEGER NOT NULL REFERENCES cases (id),
    name TEXT NOT NULL UNIQUE,
    content_type TEXT NOT NULL,
    bytes INTEGER NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    created_by INTEGER REFERENCES users (id),
    created_by_name TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX case_photos_case ON case_photos (case_id, id);

-- Keys that let an outside client (Open311) file requests; only a hash is kept.
CREATE TABLE api_keys (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE,
    org_id INTEGER NOT NULL REFERENCES org_nodes (id),
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);

-- Where events go out, signed with the webhook's secret (sealed).
CREATE TABLE webhooks (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES org_nodes (id),
    url TEXT NOT NULL,
    secret_sealed TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    disabled_at INTEGER,
    -- the last outbox entry delivered, and the back-off after failures
    cursor INTEGER NOT NULL DEFAULT 0,
    failures INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL DEFAULT 0,
    last_error TEXT
);
