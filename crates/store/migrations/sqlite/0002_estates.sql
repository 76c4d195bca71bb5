-- Estates (小区), each in one grid; buildings, entrances and households
-- follow with the registry.
CREATE TABLE estates (
    id INTEGER PRIMARY KEY,
    grid_id INTEGER NOT NULL REFERENCES org_nodes (id),
    name TEXT NOT NULL,
    lon REAL,
    lat REAL,
    created_at INTEGER NOT NULL,
    UNIQUE (grid_id, name)
);
CREATE INDEX estates_grid ON estates (grid_id);
