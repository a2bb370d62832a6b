-- Projects: the top-level folder for everything a person makes.
CREATE TABLE projects (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        TEXT        NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
    slug        TEXT        NOT NULL CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
    description TEXT        NOT NULL DEFAULT '' CHECK (char_length(description) <= 2000),
    archived_at TIMESTAMPTZ,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- "Moodboard" and "moodboard" are the same project to a person.
CREATE UNIQUE INDEX projects_name_key ON projects (lower(name));
CREATE UNIQUE INDEX projects_slug_key ON projects (slug);
-- The projects page lists active or archived projects, most recently changed first.
CREATE INDEX projects_listing_idx ON projects ((archived_at IS NULL), updated_at DESC);
