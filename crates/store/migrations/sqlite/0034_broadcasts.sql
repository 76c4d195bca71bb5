-- Emergency broadcasts: one warning to an area, told through every channel
-- by the dispatcher (outbox event `broadcast.sent`, message key
-- broadcast:ID), shown as a banner to those told until it ends.
CREATE TABLE broadcasts (
    id INTEGER PRIMARY KEY,
    -- the community or subdistrict the area lies in: whose staff see it
    org_id INTEGER NOT NULL REFERENCES org_nodes (id),
    org_path TEXT NOT NULL,
    level TEXT NOT NULL,
    reason TEXT NOT NULL,
    body TEXT NOT NULL,
    area TEXT NOT NULL,
    building_id INTEGER REFERENCES buildings (id),
    estate_id INTEGER REFERENCES estates (id),
    -- the area's grids: all of them, for a building or an estate too
    grid_ids TEXT NOT NULL,
    area_name TEXT NOT NULL,
    state TEXT NOT NULL,
    sent_by INTEGER NOT NULL REFERENCES users (id),
    sent_by_name TEXT NOT NULL,
    confirmed_by INTEGER REFERENCES users (id),
    confirmed_by_name TEXT,
    created_at INTEGER NOT NULL,
    started_at INTEGER,
    ended_at INTEGER,
    ended_by_name TEXT
);
CREATE INDEX broadcasts_state ON broadcasts (state, org_path);
CREATE INDEX broadcasts_path ON broadcasts (org_path, id);

-- 报平安: the vulnerable people of a broadcast's area, each to be reached.
CREATE TABLE rollcalls (
    id INTEGER PRIMARY KEY,
    broadcast_id INTEGER NOT NULL UNIQUE REFERENCES broadcasts (id),
    -- category codes, comma-separated
    categories TEXT NOT NULL,
    opened_at INTEGER NOT NULL,
    closed_at INTEGER
);

CREATE TABLE rollcall_people (
    rollcall_id INTEGER NOT NULL REFERENCES rollcalls (id),
    resident_id INTEGER NOT NULL REFERENCES residents (id),
    grid_id INTEGER NOT NULL REFERENCES org_nodes (id),
    state TEXT NOT NULL,
    tries INTEGER NOT NULL DEFAULT 0,
    answered_at INTEGER,
    answered_by INTEGER REFERENCES users (id),
    -- worker, self or family
    answered_as TEXT,
    case_id INTEGER REFERENCES cases (id),
    PRIMARY KEY (rollcall_id, resident_id)
);
CREATE INDEX rollcall_people_grid ON rollcall_people (rollcall_id, grid_id, state);
CREATE INDEX rollcall_people_resident ON rollcall_people (resident_id);
