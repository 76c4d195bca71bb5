-- A resident's whole life in the registry (see the SQLite migration): only
-- people here are counted, planned and listed.
ALTER TABLE residents ADD COLUMN status TEXT NOT NULL DEFAULT 'present';
ALTER TABLE residents ADD COLUMN status_on TEXT;

CREATE TABLE resident_events (
    id BIGSERIAL PRIMARY KEY,
    resident_id BIGINT NOT NULL REFERENCES residents (id),
    kind TEXT NOT NULL,
    on_date TEXT NOT NULL,
    reason TEXT NOT NULL,
    source TEXT NOT NULL,
    detail TEXT NOT NULL,
    by_user TEXT NOT NULL,
    by_name TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX resident_events_resident ON resident_events (resident_id, id);
CREATE INDEX residents_status ON residents (status, status_on);

CREATE OR REPLACE FUNCTION headcounts_residents() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.status = 'present' AND (TG_OP = 'DELETE'
        OR OLD.grid_id IS DISTINCT FROM NEW.grid_id OR OLD.status IS DISTINCT FROM NEW.status) THEN
        UPDATE headcounts SET n = n - 1 WHERE grid_id = OLD.grid_id
            AND (category = '' OR category IN (SELECT category FROM resident_categories WHERE resident_id = OLD.id));
    END IF;
    IF TG_OP = 'INSERT' AND NEW.status = 'present' THEN
        PERFORM headcount_add(NEW.grid_id, '', 1);
    ELSIF TG_OP = 'UPDATE' AND NEW.status = 'present'
        AND (OLD.grid_id IS DISTINCT FROM NEW.grid_id OR OLD.status IS DISTINCT FROM NEW.status) THEN
        PERFORM headcount_add(NEW.grid_id, '', 1);
        PERFORM headcount_add(NEW.grid_id, category, 1) FROM resident_categories WHERE resident_id = NEW.id;
    END IF;
    RETURN NULL;
END $$;

DROP TRIGGER headcounts_residents ON residents;
CREATE TRIGGER headcounts_residents AFTER INSERT OR DELETE OR UPDATE OF grid_id, status ON residents
FOR EACH ROW EXECUTE FUNCTION headcounts_residents();

CREATE OR REPLACE FUNCTION headcounts_categories() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE headcounts SET n = n - 1 WHERE category = OLD.category
            AND grid_id = (SELECT grid_id FROM residents WHERE id = OLD.resident_id AND status = 'present');
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM headcount_add(grid_id, NEW.category, 1) FROM residents WHERE id = NEW.resident_id AND status = 'present';
    END IF;
    RETURN NULL;
END $$;
