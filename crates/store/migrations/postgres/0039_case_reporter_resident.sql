-- The resident a case was filed for: by his own account, or by a family
-- member acting for him (代办). He sees it among his requests either way,
-- and so does the family member allowed to file for him.
ALTER TABLE cases ADD COLUMN reporter_resident_id BIGINT REFERENCES residents (id);
CREATE INDEX cases_reporter_resident ON cases (reporter_resident_id, created_at);
