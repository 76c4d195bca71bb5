-- How each vote came in: the resident's phone, a family member acting for
-- them, or paper (a signed slip or a vote at the door) recorded by staff,
-- with who recorded it, the slip's photo (a stored file) and a witness.
-- The primary keys stay (one vote a resident, whatever the channel).
ALTER TABLE acceptance_votes ADD COLUMN channel TEXT NOT NULL DEFAULT 'phone';
ALTER TABLE acceptance_votes ADD COLUMN recorded_by TEXT;
ALTER TABLE acceptance_votes ADD COLUMN slip TEXT;
ALTER TABLE acceptance_votes ADD COLUMN witness TEXT;

ALTER TABLE pledge_votes ADD COLUMN channel TEXT NOT NULL DEFAULT 'phone';
ALTER TABLE pledge_votes ADD COLUMN recorded_by TEXT;
ALTER TABLE pledge_votes ADD COLUMN slip TEXT;
ALTER TABLE pledge_votes ADD COLUMN witness TEXT;

ALTER TABLE pledge_verdicts ADD COLUMN channel TEXT NOT NULL DEFAULT 'phone';
ALTER TABLE pledge_verdicts ADD COLUMN recorded_by TEXT;
ALTER TABLE pledge_verdicts ADD COLUMN slip TEXT;
ALTER TABLE pledge_verdicts ADD COLUMN witness TEXT;
