-- The first due date of a plan: an on-time share counts someone only once
-- their first visit was due (before it, nothing could be late). NULL for
-- plans made before it was kept: they count as before.
ALTER TABLE care_plans ADD COLUMN first_due_on TEXT;
