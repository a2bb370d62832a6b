-- A 3D asset: a checked glTF model stored as one GLB. The file is a product of kind `model3d`
-- (so the gallery, backups and the media store treat it like any result, and its rendered
-- preview is the product's thumbnail); this row holds its name, what was measured, and the
-- warnings the checks found.
CREATE TABLE assets (
    id bigserial PRIMARY KEY,
    product_id bigint NOT NULL UNIQUE REFERENCES products (id) ON DELETE CASCADE,
    project_id bigint NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    name text NOT NULL,
    info jsonb NOT NULL,
    warnings jsonb NOT NULL DEFAULT '[]',
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX assets_by_project ON assets (project_id, id DESC);
