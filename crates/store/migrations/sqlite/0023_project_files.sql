-- A repair project's files: documents of a funding application, receipts of
-- an expense (photos or PDFs), before and after photos of a milestone. The
-- bytes live in the file store under the name the server made.
CREATE TABLE project_files (
    id INTEGER PRIMARY KEY,
    project_id INTEGER NOT NULL REFERENCES projects (id),
    -- document, receipt, before or after
    kind TEXT NOT NULL,
    funding_id INTEGER REFERENCES fundings (id),
    expense_id INTEGER REFERENCES expenses (id),
    milestone_id INTEGER REFERENCES milestones (id),
    stored_name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX project_files_project ON project_files (project_id);
