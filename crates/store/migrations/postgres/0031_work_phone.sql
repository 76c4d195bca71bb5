-- A staff member's work phone, shown to the residents of their grid (who
-- call their grid worker, not a switchboard). Never a resident's own phone.
ALTER TABLE users ADD COLUMN work_phone TEXT;
