-- Places. An estate (小区) belongs to a community; rosters show one estate's
-- buildings in several grids, so the grid is kept on the household.
CREATE TABLE estates (
    id INTEGER PRIMARY KEY,
    community_id INTEGER NOT NULL REFERENCES org_nodes (id),
    -- the grid its point lies in, when it has one
    grid_id INTEGER REFERENCES org_nodes (id),
    name TEXT NOT NULL,
    lon REAL,
    lat REAL,
    created_at INTEGER NOT NULL,
    UNIQUE (community_id, name)
);
CREATE INDEX estates_grid ON estates (grid_id);

CREATE TABLE buildings (
    id INTEGER PRIMARY KEY,
    estate_id INTEGER NOT NULL REFERENCES estates (id),
    name TEXT NOT NULL,
    lon REAL,
    lat REAL,
    created_at INTEGER NOT NULL,
    UNIQUE (estate_id, name)
);

CREATE TABLE households (
    id INTEGER PRIMARY KEY,
    grid_id INTEGER NOT NULL REFERENCES org_nodes (id),
    building_id INTEGER NOT NULL REFERENCES buildings (id),
    entrance TEXT NOT NULL,
    door TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (grid_id, building_id, entrance, door)
);
CREATE INDEX households_building ON households (building_id);
