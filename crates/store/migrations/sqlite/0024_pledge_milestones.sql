-- A committed pledge's milestones (a day it is due, the day it was done),
-- and the photos of its progress updates, shown on the public board. The
-- bytes live in the file store under the name the server made.
CREATE TABLE pledge_milestones (
    id INTEGER PRIMARY KEY,
    pledge_id INTEGER NOT NULL REFERENCES pledges (id),
    title TEXT NOT NULL,
    due_on TEXT NOT NULL,
    done_on TEXT,
    note TEXT NOT NULL
);
CREATE INDEX pledge_milestones_pledge ON pledge_milestones (pledge_id, due_on);

CREATE TABLE pledge_photos (
    id INTEGER PRIMARY KEY,
    update_id INTEGER NOT NULL REFERENCES pledge_updates (id),
    stored_name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX pledge_photos_update ON pledge_photos (update_id);
