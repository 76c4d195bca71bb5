-- What logging a visit reads of a resident (their grid, household and own
-- interval) from an index alone, as on PostgreSQL.
CREATE INDEX residents_plan ON residents (id, grid_id, household_id, visit_interval_days);
