-- Repair projects (修缮项目) on buildings, the hazard cases they fix, their
-- money in fen (budget lines, funding applications, expenses), milestones,
-- and the residents' acceptance votes.
CREATE TABLE projects (
    id INTEGER PRIMARY KEY,
    community_id INTEGER NOT NULL REFERENCES org_nodes (id),
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    stage TEXT NOT NULL,
    warranty_months INTEGER NOT NULL,
    -- the votes the acceptance needs at least
    quorum INTEGER NOT NULL,
    created_by INTEGER REFERENCES users (id),
    created_at INTEGER NOT NULL,
    started_at INTEGER,
    voting_at INTEGER,
    accepted_at INTEGER,
    warranty_until INTEGER,
    version INTEGER NOT NULL DEFAULT 1,
    UNIQUE (community_id, title)
);

CREATE TABLE project_buildings (
    project_id INTEGER NOT NULL REFERENCES projects (id),
    building_id INTEGER NOT NULL REFERENCES buildings (id),
    PRIMARY KEY (project_id, building_id)
);
CREATE INDEX project_buildings_building ON project_buildings (building_id);

CREATE TABLE project_cases (
    project_id INTEGER NOT NULL REFERENCES projects (id),
    case_id INTEGER NOT NULL REFERENCES cases (id),
    PRIMARY KEY (project_id, case_id)
);

CREATE TABLE budget_lines (
    id INTEGER PRIMARY KEY,
    project_id INTEGER NOT NULL REFERENCES projects (id),
    name TEXT NOT NULL,
    amount INTEGER NOT NULL,
    UNIQUE (project_id, name)
);

CREATE TABLE fundings (
    id INTEGER PRIMARY KEY,
    project_id INTEGER NOT NULL REFERENCES projects (id),
    source TEXT NOT NULL,
    asked INTEGER NOT NULL,
    approved INTEGER,
    -- applied, approved or rejected
    status TEXT NOT NULL,
    note TEXT NOT NULL,
    applied_by TEXT NOT NULL,
    applied_at INTEGER NOT NULL,
    decided_by TEXT,
    decided_at INTEGER,
    decision_note TEXT
);
CREATE INDEX fundings_project ON fundings (project_id);

CREATE TABLE expenses (
    id INTEGER PRIMARY KEY,
    project_id INTEGER NOT NULL REFERENCES projects (id),
    line_id INTEGER NOT NULL REFERENCES budget_lines (id),
    amount INTEGER NOT NULL,
    payee TEXT NOT NULL,
    description TEXT NOT NULL,
    spent_on TEXT NOT NULL,
    -- recorded (within the community's limit), pending (for the street
    -- officer), approved or rejected; recorded and approved ones are spent
    status TEXT NOT NULL,
    recorded_by TEXT NOT NULL,
    recorded_at INTEGER NOT NULL,
    decided_by TEXT,
    decided_at INTEGER
);
CREATE INDEX expenses_project ON expenses (project_id);

CREATE TABLE milestones (
    id INTEGER PRIMARY KEY,
    project_id INTEGER NOT NULL REFERENCES projects (id),
    title TEXT NOT NULL,
    due_on TEXT NOT NULL,
    done_on TEXT,
    note TEXT NOT NULL
);

CREATE TABLE acceptance_votes (
    project_id INTEGER NOT NULL REFERENCES projects (id),
    resident_id INTEGER NOT NULL REFERENCES residents (id),
    accept BOOLEAN NOT NULL,
    voted_at INTEGER NOT NULL,
    PRIMARY KEY (project_id, resident_id)
);
