-- Categories a community adds itself, beside the built-in ones; a resident
-- holds one as the code `c<id>`.
CREATE TABLE community_categories (
    id INTEGER PRIMARY KEY,
    community_id INTEGER NOT NULL REFERENCES org_nodes (id),
    name TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (community_id, name)
);

-- an export of one category keeps the category's name as it was asked for
ALTER TABLE export_approvals ADD COLUMN category_name TEXT;
