-- Characters made by the generator, per project: the seed and the locked fields they were
-- made from (so a reroll or a changed lock regenerates them), and the whole sheet as the
-- generator made it (so a later generator version never changes a saved character).
CREATE TABLE characters (
    id bigserial PRIMARY KEY,
    project_id bigint NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    seed bigint NOT NULL,
    locks jsonb NOT NULL DEFAULT '{}',
    sheet jsonb NOT NULL,
    generator integer NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX characters_by_project ON characters (project_id, id DESC);
-- Search by name within a project (case-insensitive, anywhere in the name).
CREATE INDEX characters_by_name ON characters (project_id, lower(name));
