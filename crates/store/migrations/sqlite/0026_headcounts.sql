-- People per grid and category for the dashboard, kept by triggers in the
-- same transaction as each change: category '' counts everyone. Children
-- are counted by birth date when asked (that changes with the clock).
CREATE TABLE headcounts (
    grid_id INTEGER NOT NULL REFERENCES org_nodes (id),
    category TEXT NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (grid_id, category)
) WITHOUT ROWID;

INSERT INTO headcounts (grid_id, category, n)
SELECT grid_id, '', COUNT(*) FROM residents GROUP BY grid_id
UNION ALL
SELECT r.grid_id, rc.category, COUNT(*) FROM resident_categories rc JOIN residents r ON r.id = rc.resident_id
GROUP BY r.grid_id, rc.category;

CREATE TRIGGER headcounts_resident_in AFTER INSERT ON residents BEGIN
    INSERT INTO headcounts (grid_id, category, n) VALUES (NEW.grid_id, '', 1)
    ON CONFLICT (grid_id, category) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER headcounts_resident_out AFTER DELETE ON residents BEGIN
    UPDATE headcounts SET n = n - 1 WHERE grid_id = OLD.grid_id
        AND (category = '' OR category IN (SELECT category FROM resident_categories WHERE resident_id = OLD.id));
END;

CREATE TRIGGER headcounts_resident_moved AFTER UPDATE OF grid_id ON residents WHEN OLD.grid_id IS NOT NEW.grid_id BEGIN
    UPDATE headcounts SET n = n - 1 WHERE grid_id = OLD.grid_id
        AND (category = '' OR category IN (SELECT category FROM resident_categories WHERE resident_id = OLD.id));
    INSERT INTO headcounts (grid_id, category, n)
    SELECT NEW.grid_id, '', 1 WHERE true
    ON CONFLICT (grid_id, category) DO UPDATE SET n = n + 1;
    INSERT INTO headcounts (grid_id, category, n)
    SELECT NEW.grid_id, category, 1 FROM resident_categories WHERE resident_id = NEW.id
    ON CONFLICT (grid_id, category) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER headcounts_category_in AFTER INSERT ON resident_categories BEGIN
    INSERT INTO headcounts (grid_id, category, n)
    SELECT grid_id, NEW.category, 1 FROM residents WHERE id = NEW.resident_id
    ON CONFLICT (grid_id, category) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER headcounts_category_out AFTER DELETE ON resident_categories BEGIN
    UPDATE headcounts SET n = n - 1
    WHERE category = OLD.category AND grid_id = (SELECT grid_id FROM residents WHERE id = OLD.resident_id);
END;

CREATE TRIGGER headcounts_category_changed AFTER UPDATE OF category, resident_id ON resident_categories
WHEN OLD.category IS NOT NEW.category OR OLD.resident_id IS NOT NEW.resident_id BEGIN
    UPDATE headcounts SET n = n - 1
    WHERE category = OLD.category AND grid_id = (SELECT grid_id FROM residents WHERE id = OLD.resident_id);
    INSERT INTO headcounts (grid_id, category, n)
    SELECT grid_id, NEW.category, 1 FROM residents WHERE id = NEW.resident_id
    ON CONFLICT (grid_id, category) DO UPDATE SET n = n + 1;
END;
