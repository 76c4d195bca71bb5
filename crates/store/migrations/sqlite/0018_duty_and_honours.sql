-- Duty posts (门岗): a shift at a post is an activity with its post, so
-- that sign-up, check-in and points work as for any activity.
CREATE TABLE duty_posts (
    id INTEGER PRIMARY KEY,
    community_id INTEGER NOT NULL REFERENCES org_nodes (id),
    name TEXT NOT NULL,
    place TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (community_id, name)
);
ALTER TABLE activities ADD COLUMN post_id INTEGER REFERENCES duty_posts (id);

-- Whether a resident's name may appear on the public honours board: their
-- own choice; without a row it does not.
CREATE TABLE honour_consents (
    resident_id INTEGER PRIMARY KEY REFERENCES residents (id),
    public BOOLEAN NOT NULL,
    changed_at INTEGER NOT NULL
);
