-- How many records one person read in the last hour is counted from the
-- audit log (reads are audited anyway): by actor and time.
CREATE INDEX audit_log_actor_at ON audit_log (actor_id, at);
