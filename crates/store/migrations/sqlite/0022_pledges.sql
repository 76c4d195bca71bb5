-- Pledges (十件实事): a community's year (its phase and how many votes a
-- resident has), the pledges proposed, residents' votes, progress updates,
-- and residents' verdicts at the end.
CREATE TABLE pledge_years (
    community_id INTEGER NOT NULL REFERENCES org_nodes (id),
    year INTEGER NOT NULL,
    phase TEXT NOT NULL,
    votes_per_resident INTEGER NOT NULL,
    opened_at INTEGER NOT NULL,
    PRIMARY KEY (community_id, year)
);

CREATE TABLE pledges (
    id INTEGER PRIMARY KEY,
    community_id INTEGER NOT NULL REFERENCES org_nodes (id),
    year INTEGER NOT NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    -- the resident who proposed it, or none when staff did
    proposed_by INTEGER REFERENCES residents (id),
    -- proposed, shortlisted, committed or not_chosen
    status TEXT NOT NULL,
    owner TEXT,
    progress INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    UNIQUE (community_id, year, title)
);

CREATE TABLE pledge_votes (
    pledge_id INTEGER NOT NULL REFERENCES pledges (id),
    resident_id INTEGER NOT NULL REFERENCES residents (id),
    voted_at INTEGER NOT NULL,
    PRIMARY KEY (pledge_id, resident_id)
);

CREATE TABLE pledge_updates (
    id INTEGER PRIMARY KEY,
    pledge_id INTEGER NOT NULL REFERENCES pledges (id),
    at INTEGER NOT NULL,
    progress INTEGER NOT NULL,
    text TEXT NOT NULL,
    by_name TEXT NOT NULL
);
CREATE INDEX pledge_updates_pledge ON pledge_updates (pledge_id, at);

CREATE TABLE pledge_verdicts (
    pledge_id INTEGER NOT NULL REFERENCES pledges (id),
    resident_id INTEGER NOT NULL REFERENCES residents (id),
    kept BOOLEAN NOT NULL,
    satisfaction INTEGER NOT NULL,
    at INTEGER NOT NULL,
    PRIMARY KEY (pledge_id, resident_id)
);
