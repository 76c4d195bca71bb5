-- A topic chosen "daily": its SMS and email wait for one summary each
-- morning (its in-app messages still come at once).
ALTER TABLE notify_choices ADD COLUMN digest INTEGER NOT NULL DEFAULT 0;
