-- Volunteer activities and who signed up; hours attended turn into points
-- when the organiser confirms the activity.
CREATE TABLE activities (
    id INTEGER PRIMARY KEY,
    community_id INTEGER NOT NULL REFERENCES org_nodes (id),
    title TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    place TEXT NOT NULL,
    starts_at INTEGER NOT NULL,
    ends_at INTEGER NOT NULL,
    capacity INTEGER NOT NULL CHECK (capacity > 0),
    -- NULL: any resident of the community; else residents in this category
    who_may_join TEXT,
    points_rule TEXT NOT NULL CHECK (points_rule IN ('per_hour', 'fixed')),
    points INTEGER NOT NULL CHECK (points > 0),
    organiser TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('open', 'cancelled', 'confirmed')),
    created_by INTEGER REFERENCES users (id),
    created_at INTEGER NOT NULL,
    confirmed_at INTEGER,
    confirmed_by TEXT,
    CHECK (ends_at > starts_at)
);
CREATE INDEX activities_community ON activities (community_id, starts_at);

CREATE TABLE activity_signups (
    id INTEGER PRIMARY KEY,
    activity_id INTEGER NOT NULL REFERENCES activities (id),
    resident_id INTEGER NOT NULL REFERENCES residents (id),
    status TEXT NOT NULL CHECK (status IN ('signed_up', 'waiting', 'cancelled')),
    signed_at INTEGER NOT NULL,
    checked_in_at INTEGER,
    checked_out_at INTEGER,
    -- set when the activity is confirmed
    minutes INTEGER,
    points INTEGER,
    UNIQUE (activity_id, resident_id)
);
CREATE INDEX activity_signups_resident ON activity_signups (resident_id);
