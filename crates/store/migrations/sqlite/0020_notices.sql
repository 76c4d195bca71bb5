-- Notices (公告) to a community, one of its grids, or one building, shown
-- to residents within their publication window; who read each is kept.
CREATE TABLE notices (
    id INTEGER PRIMARY KEY,
    community_id INTEGER NOT NULL REFERENCES org_nodes (id),
    grid_id INTEGER REFERENCES org_nodes (id),
    building_id INTEGER REFERENCES buildings (id),
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    pinned BOOLEAN NOT NULL,
    publish_from INTEGER NOT NULL,
    publish_until INTEGER,
    author_id INTEGER REFERENCES users (id),
    author_name TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    withdrawn_at INTEGER
);
CREATE INDEX notices_community ON notices (community_id, publish_from);

CREATE TABLE notice_reads (
    notice_id INTEGER NOT NULL REFERENCES notices (id),
    user_id INTEGER NOT NULL REFERENCES users (id),
    read_at INTEGER NOT NULL,
    PRIMARY KEY (notice_id, user_id)
);
