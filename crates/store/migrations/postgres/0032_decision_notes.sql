-- What the approver said, kept beside the decision for everyone who opens
-- the item afterwards (fundings had it already).
ALTER TABLE expenses ADD COLUMN decision_note TEXT;
ALTER TABLE export_approvals ADD COLUMN decision_note TEXT;
