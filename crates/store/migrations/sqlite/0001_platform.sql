-- Platform: org tree, users and grants, sessions, login attempts, audit log, jobs.
-- Times are milliseconds since the Unix epoch (UTC).

CREATE TABLE org_nodes (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('root', 'subdistrict', 'community', 'grid')),
    name TEXT NOT NULL,
    parent_id INTEGER REFERENCES org_nodes (id),
    path TEXT NOT NULL UNIQUE,
    boundary TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX org_nodes_parent ON org_nodes (parent_id);
INSERT INTO org_nodes (code, kind, name, parent_id, path, created_at, updated_at)
VALUES ('root', 'root', '全域', NULL, '/root/', 0, 0);

CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    password_set_at INTEGER NOT NULL,
    disabled_at INTEGER,
    created_at INTEGER NOT NULL
);

CREATE TABLE grants (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id),
    role TEXT NOT NULL,
    org_id INTEGER NOT NULL REFERENCES org_nodes (id),
    created_at INTEGER NOT NULL,
    UNIQUE (user_id, role, org_id)
);
CREATE INDEX grants_org ON grants (org_id);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id),
    csrf_token TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    ip TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE login_attempts (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL,
    ip TEXT NOT NULL,
    at INTEGER NOT NULL,
    success INTEGER NOT NULL
);
CREATE INDEX login_attempts_username ON login_attempts (username, at);
CREATE INDEX login_attempts_ip ON login_attempts (ip, at);

CREATE TABLE lockouts (
    username TEXT PRIMARY KEY,
    locked_at INTEGER NOT NULL,
    until INTEGER NOT NULL
);

CREATE TABLE audit_log (
    seq INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    actor_id INTEGER,
    actor_name TEXT NOT NULL,
    action TEXT NOT NULL,
    outcome TEXT NOT NULL,
    object TEXT NOT NULL,
    org_path TEXT NOT NULL,
    ip TEXT NOT NULL,
    detail TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX audit_log_org ON audit_log (org_path, seq);
CREATE INDEX audit_log_actor ON audit_log (actor_id, seq);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

-- The head of the chain: one row, updated with every append, which also
-- serialises appenders.
CREATE TABLE audit_head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

CREATE TABLE jobs (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    unique_key TEXT UNIQUE,
    run_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL,
    locked_by TEXT,
    locked_until INTEGER,
    done_at INTEGER,
    failed_at INTEGER,
    last_error TEXT,
    created_at INTEGER NOT NULL
);
CREATE INDEX jobs_due ON jobs (done_at, failed_at, run_at);

-- One row per execution of a job, so that "each job runs once" can be seen.
CREATE TABLE job_runs (
    id INTEGER PRIMARY KEY,
    job_id INTEGER NOT NULL REFERENCES jobs (id),
    runner TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    finished_at INTEGER,
    error TEXT
);
CREATE INDEX job_runs_job ON job_runs (job_id);

CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
