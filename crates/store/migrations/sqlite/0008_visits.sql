-- Visits and care plans. A community may change the visit interval of a
-- category; a resident may have their own. The date of the last contact and
-- of the next visit due are kept on the resident (calendar days,
-- Asia/Shanghai, YYYY-MM-DD), so that a walk list is one range on an index.

CREATE TABLE care_intervals (
    community_id INTEGER NOT NULL REFERENCES org_nodes (id),
    -- a built-in category code, or c<id> for a community's own
    category TEXT NOT NULL,
    days INTEGER NOT NULL CHECK (days BETWEEN 1 AND 365),
    PRIMARY KEY (community_id, category)
);

ALTER TABLE residents ADD COLUMN visit_interval_days INTEGER CHECK (visit_interval_days BETWEEN 1 AND 365);
ALTER TABLE residents ADD COLUMN last_contact_on TEXT;
-- NULL: under no care plan
ALTER TABLE residents ADD COLUMN visit_due_on TEXT;
CREATE INDEX residents_visit_due ON residents (grid_id, visit_due_on) WHERE visit_due_on IS NOT NULL;

CREATE TABLE visits (
    id INTEGER PRIMARY KEY,
    -- chosen on the phone, so that a visit sent twice is recorded once
    client_id TEXT NOT NULL UNIQUE,
    resident_id INTEGER REFERENCES residents (id),
    household_id INTEGER REFERENCES households (id),
    grid_id INTEGER NOT NULL REFERENCES org_nodes (id),
    visitor_id INTEGER REFERENCES users (id),
    visitor_name TEXT NOT NULL,
    visited_at INTEGER NOT NULL,
    visited_on TEXT NOT NULL,
    mode TEXT NOT NULL CHECK (mode IN ('at_home', 'phone', 'outside')),
    health TEXT NOT NULL CHECK (health IN ('well', 'watch', 'act')),
    living TEXT NOT NULL CHECK (living IN ('well', 'watch', 'act')),
    needs TEXT NOT NULL CHECK (needs IN ('well', 'watch', 'act')),
    safety TEXT NOT NULL CHECK (safety IN ('well', 'watch', 'act')),
    -- free notes, sealed like other personal data
    notes_sealed TEXT,
    next_visit_on TEXT,
    case_id INTEGER REFERENCES cases (id),
    created_at INTEGER NOT NULL
);
CREATE INDEX visits_resident ON visits (resident_id, visited_at);
CREATE INDEX visits_grid ON visits (grid_id, visited_on);
CREATE INDEX visits_visitor ON visits (visitor_id, visited_on);
