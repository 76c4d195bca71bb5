-- A resident's whole life in the registry: here, moved away (out of yijia),
-- or deceased, since a day, each change a line in resident_events with its
-- date, reason, source and who recorded it. Only people here are counted,
-- planned and listed; the others stay on record (history intact) until the
-- community's retention runs out.
ALTER TABLE residents ADD COLUMN status TEXT NOT NULL DEFAULT 'present';
ALTER TABLE residents ADD COLUMN status_on TEXT;

CREATE TABLE resident_events (
    id INTEGER PRIMARY KEY,
    resident_id INTEGER NOT NULL REFERENCES residents (id),
    kind TEXT NOT NULL,
    on_date TEXT NOT NULL,
    reason TEXT NOT NULL,
    source TEXT NOT NULL,
    -- what the change did (account disabled, points settled, cases closed)
    detail TEXT NOT NULL,
    by_user TEXT NOT NULL,
    by_name TEXT NOT NULL,
    at INTEGER NOT NULL
);
CREATE INDEX resident_events_resident ON resident_events (resident_id, id);
CREATE INDEX residents_status ON residents (status, status_on);

-- the people per grid count those here only
DROP TRIGGER headcounts_resident_in;
DROP TRIGGER headcounts_resident_out;
DROP TRIGGER headcounts_resident_moved;
DROP TRIGGER headcounts_category_in;
DROP TRIGGER headcounts_category_out;
DROP TRIGGER headcounts_category_changed;

CREATE TRIGGER headcounts_resident_in AFTER INSERT ON residents WHEN NEW.status = 'present' BEGIN
    INSERT INTO headcounts (grid_id, category, n) VALUES (NEW.grid_id, '', 1)
    ON CONFLICT (grid_id, category) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER headcounts_resident_out AFTER DELETE ON residents WHEN OLD.status = 'present' BEGIN
    UPDATE headcounts SET n = n - 1 WHERE grid_id = OLD.grid_id
        AND (category = '' OR category IN (SELECT category FROM resident_categories WHERE resident_id = OLD.id));
END;

CREATE TRIGGER headcounts_resident_moved AFTER UPDATE OF grid_id, status ON residents
WHEN OLD.grid_id IS NOT NEW.grid_id OR OLD.status IS NOT NEW.status BEGIN
    UPDATE headcounts SET n = n - 1 WHERE OLD.status = 'present' AND grid_id = OLD.grid_id
        AND (category = '' OR category IN (SELECT category FROM resident_categories WHERE resident_id = OLD.id));
    INSERT INTO headcounts (grid_id, category, n)
    SELECT NEW.grid_id, '', 1 WHERE NEW.status = 'present'
    ON CONFLICT (grid_id, category) DO UPDATE SET n = n + 1;
    INSERT INTO headcounts (grid_id, category, n)
    SELECT NEW.grid_id, category, 1 FROM resident_categories WHERE resident_id = NEW.id AND NEW.status = 'present'
    ON CONFLICT (grid_id, category) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER headcounts_category_in AFTER INSERT ON resident_categories BEGIN
    INSERT INTO headcounts (grid_id, category, n)
    SELECT grid_id, NEW.category, 1 FROM residents WHERE id = NEW.resident_id AND status = 'present'
    ON CONFLICT (grid_id, category) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER headcounts_category_out AFTER DELETE ON resident_categories BEGIN
    UPDATE headcounts SET n = n - 1 WHERE category = OLD.category
        AND grid_id = (SELECT grid_id FROM residents WHERE id = OLD.resident_id AND status = 'present');
END;

CREATE TRIGGER headcounts_category_changed AFTER UPDATE OF category, resident_id ON resident_categories
WHEN OLD.category IS NOT NEW.category OR OLD.resident_id IS NOT NEW.resident_id BEGIN
    UPDATE headcounts SET n = n - 1 WHERE category = OLD.category
        AND grid_id = (SELECT grid_id FROM residents WHERE id = OLD.resident_id AND status = 'present');
    INSERT INTO headcounts (grid_id, category, n)
    SELECT grid_id, NEW.category, 1 FROM residents WHERE id = NEW.resident_id AND status = 'present'
    ON CONFLICT (grid_id, category) DO UPDATE SET n = n + 1;
END;
