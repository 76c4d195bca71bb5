-- Children and age ranges are counted per grid by birth date.
CREATE INDEX residents_grid_birth ON residents (grid_id, birth_date);
