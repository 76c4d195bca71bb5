-- Residents. The ID number, the phone and category details are sealed
-- (AES-256-GCM, key outside the database); exact search goes through keyed
-- hashes (blind indexes). `uid` is bound into every sealed value of the row.
CREATE TABLE residents (
    id INTEGER PRIMARY KEY,
    uid TEXT NOT NULL UNIQUE,
    grid_id INTEGER NOT NULL REFERENCES org_nodes (id),
    household_id INTEGER REFERENCES households (id),
    name TEXT NOT NULL,
    -- for search: cuixiaohong / cxh
    name_pinyin TEXT NOT NULL,
    name_initials TEXT NOT NULL,
    sex TEXT,
    birth_date TEXT,
    id_number_sealed TEXT,
    id_number_index TEXT,
    id_number_masked TEXT,
    phone_sealed TEXT,
    phone_index TEXT,
    phone_masked TEXT,
    relation TEXT NOT NULL,
    residence TEXT NOT NULL,
    notes TEXT NOT NULL,
    -- contradictions between stated data and the ID number, for a person to check
    flags TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    version INTEGER NOT NULL
);
CREATE UNIQUE INDEX residents_id_number ON residents (id_number_index);
CREATE INDEX residents_phone ON residents (phone_index);
CREATE INDEX residents_grid_name ON residents (grid_id, name);
CREATE INDEX residents_name ON residents (name);
CREATE INDEX residents_name_pinyin ON residents (name_pinyin);
CREATE INDEX residents_name_initials ON residents (name_initials);
CREATE INDEX residents_household ON residents (household_id);

CREATE TABLE resident_categories (
    resident_id INTEGER NOT NULL REFERENCES residents (id),
    category TEXT NOT NULL,
    details_sealed TEXT,
    since INTEGER NOT NULL,
    PRIMARY KEY (resident_id, category)
);
CREATE INDEX resident_categories_category ON resident_categories (category, resident_id);

CREATE TABLE category_history (
    id INTEGER PRIMARY KEY,
    resident_id INTEGER NOT NULL REFERENCES residents (id),
    category TEXT NOT NULL,
    change TEXT NOT NULL CHECK (change IN ('added', 'removed', 'changed')),
    reason TEXT NOT NULL,
    by_user TEXT NOT NULL,
    at INTEGER NOT NULL
);
CREATE INDEX category_history_resident ON category_history (resident_id, at);

-- who looked at whose record: the audit log, searched by object
CREATE INDEX audit_log_object ON audit_log (object, seq);
