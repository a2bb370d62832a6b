-- The prompt language: how a batch was expanded and seeded, the tokens its jobs bind (for
-- grids), wildcard lists, and saved Generate-form templates. A NULL project_id is global.

ALTER TABLE batches
    ADD COLUMN seed_mode TEXT  NOT NULL DEFAULT 'derived',
    ADD COLUMN tokens    JSONB NOT NULL DEFAULT '[]';
ALTER TABLE batches ALTER COLUMN expansion_mode SET DEFAULT 'combinatorial';

CREATE TABLE wildcards (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id BIGINT REFERENCES projects (id) ON DELETE CASCADE,
    name       TEXT        NOT NULL CHECK (name ~ '^[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*$' AND length(name) <= 100),
    items      TEXT[]      NOT NULL DEFAULT '{}',
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX wildcards_global_name_idx ON wildcards (name) WHERE project_id IS NULL;
CREATE UNIQUE INDEX wildcards_project_name_idx ON wildcards (project_id, name) WHERE project_id IS NOT NULL;

CREATE TABLE templates (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id BIGINT REFERENCES projects (id) ON DELETE CASCADE,
    name       TEXT        NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    form       JSONB       NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX templates_global_name_idx ON templates (lower(name)) WHERE project_id IS NULL;
CREATE UNIQUE INDEX templates_project_name_idx ON templates (project_id, lower(name)) WHERE project_id IS NOT NULL;
CREATE INDEX templates_recent_idx ON templates (updated_at DESC);
