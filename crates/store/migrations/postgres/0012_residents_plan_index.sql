-- What logging a visit reads of a resident (their grid, household and own
-- interval) from an index alone: the residents table is wide, and reading
-- fifty of its rows for a phone's batch cost more than writing the visits.
CREATE INDEX residents_plan ON residents (id) INCLUDE (grid_id, household_id, visit_interval_days);
