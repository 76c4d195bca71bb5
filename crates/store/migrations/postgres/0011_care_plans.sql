-- A resident's plan in a narrow table of its own: a visit moves its dates,
-- and on the residents table that rewrote every index of the row (eleven on
-- PostgreSQL, where a changed indexed column rules out an update in place).
-- grid_id is the resident's, kept with each write of the plan, so that the
-- walk list is one range on an index.
CREATE TABLE care_plans (
    resident_id BIGINT PRIMARY KEY REFERENCES residents (id),
    grid_id BIGINT NOT NULL REFERENCES org_nodes (id),
    last_contact_on TEXT,
    -- NULL: under no plan
    due_on TEXT,
    days BIGINT
);
CREATE INDEX care_plans_due ON care_plans (grid_id, due_on) WHERE due_on IS NOT NULL;
INSERT INTO care_plans (resident_id, grid_id, last_contact_on, due_on, days)
    SELECT id, grid_id, last_contact_on, visit_due_on, plan_days FROM residents
    WHERE last_contact_on IS NOT NULL OR visit_due_on IS NOT NULL;
DROP INDEX residents_visit_due;
ALTER TABLE residents DROP COLUMN last_contact_on;
ALTER TABLE residents DROP COLUMN visit_due_on;
ALTER TABLE residents DROP COLUMN plan_days;
