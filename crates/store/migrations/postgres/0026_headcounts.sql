-- People per grid and category for the dashboard, kept by triggers in the
-- same transaction as each change (see the SQLite migration).
CREATE TABLE headcounts (
    grid_id BIGINT NOT NULL REFERENCES org_nodes (id),
    category TEXT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (grid_id, category)
);

INSERT INTO headcounts (grid_id, category, n)
SELECT grid_id, '', COUNT(*) FROM residents GROUP BY grid_id
UNION ALL
SELECT r.grid_id, rc.category, COUNT(*) FROM resident_categories rc JOIN residents r ON r.id = rc.resident_id
GROUP BY r.grid_id, rc.category;

CREATE FUNCTION headcount_add(grid BIGINT, cat TEXT, dn BIGINT) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO headcounts (grid_id, category, n) VALUES (grid, cat, dn)
    ON CONFLICT (grid_id, category) DO UPDATE SET n = headcounts.n + excluded.n
$$;

CREATE FUNCTION headcounts_residents() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND OLD.grid_id IS DISTINCT FROM NEW.grid_id) THEN
        UPDATE headcounts SET n = n - 1 WHERE grid_id = OLD.grid_id
            AND (category = '' OR category IN (SELECT category FROM resident_categories WHERE resident_id = OLD.id));
    END IF;
    IF TG_OP = 'INSERT' THEN
        PERFORM headcount_add(NEW.grid_id, '', 1);
    ELSIF TG_OP = 'UPDATE' AND OLD.grid_id IS DISTINCT FROM NEW.grid_id THEN
        PERFORM headcount_add(NEW.grid_id, '', 1);
        PERFORM headcount_add(NEW.grid_id, category, 1) FROM resident_categories WHERE resident_id = NEW.id;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER headcounts_residents AFTER INSERT OR DELETE OR UPDATE OF grid_id ON residents
FOR EACH ROW EXECUTE FUNCTION headcounts_residents();

CREATE FUNCTION headcounts_categories() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE headcounts SET n = n - 1
        WHERE category = OLD.category AND grid_id = (SELECT grid_id FROM residents WHERE id = OLD.resident_id);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM headcount_add(grid_id, NEW.category, 1) FROM residents WHERE id = NEW.resident_id;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER headcounts_categories AFTER INSERT OR DELETE OR UPDATE OF category, resident_id ON resident_categories
FOR EACH ROW EXECUTE FUNCTION headcounts_categories();
