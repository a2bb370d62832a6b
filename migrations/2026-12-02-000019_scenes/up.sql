-- A scene: models placed with transforms, lights and cameras, as a graph of named nodes. The
-- scene row holds what is the scene's own; each node is a row whose parent is another node of
-- the same scene (by its place in the list). A model node names its asset by foreign key: a
-- scene can never name a model that does not exist, and a model a scene places cannot be
-- purged from under it.
CREATE TABLE scenes (
    id bigserial PRIMARY KEY,
    project_id bigint NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    -- Light from every direction, linear RGB.
    environment double precision[] NOT NULL CHECK (array_length(environment, 1) = 3),
    -- Bumped by every save: a save based on an older revision is refused, not merged.
    revision integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX scenes_by_project ON scenes (project_id, id DESC);

CREATE TABLE scene_nodes (
    scene_id bigint NOT NULL REFERENCES scenes (id) ON DELETE CASCADE,
    position integer NOT NULL CHECK (position >= 0),
    name text NOT NULL,
    parent integer,
    kind text NOT NULL CHECK (kind IN ('model', 'light', 'camera', 'group')),
    asset_id bigint REFERENCES assets (id) ON DELETE RESTRICT,
    -- The node as the API writes it (transform, light, camera, material override).
    node jsonb NOT NULL,
    PRIMARY KEY (scene_id, position),
    UNIQUE (scene_id, name),
    FOREIGN KEY (scene_id, parent) REFERENCES scene_nodes (scene_id, position)
        DEFERRABLE INITIALLY DEFERRED,
    CHECK ((kind = 'model') = (asset_id IS NOT NULL))
);
CREATE INDEX scene_nodes_by_asset ON scene_nodes (asset_id) WHERE asset_id IS NOT NULL;

-- Renders name their scene in their parameters; a scene's renders are found by this.
CREATE INDEX products_by_scene ON products ((params ->> 'scene_id'))
    WHERE params ? 'scene_id';
