-- A visit may keep one photo (a file in the file store, cleaned like a
-- case's). A visit to a household counts as contact with its members.
ALTER TABLE visits ADD COLUMN photo_file TEXT;
ALTER TABLE visits ADD COLUMN photo_type TEXT;
CREATE INDEX visits_household ON visits (household_id, visited_on) WHERE resident_id IS NULL;
-- the interval the plan asks for now (own, the community's or the
-- category's default), kept with the due date it produced
ALTER TABLE residents ADD COLUMN plan_days BIGINT;
