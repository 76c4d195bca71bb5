-- Visits per worker are counted within a grid's days (visits_grid); an index
-- by visitor was kept up on every insert and read by nothing.
DROP INDEX visits_visitor;
