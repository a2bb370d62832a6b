-- Pipelines: a named graph of steps per project, every saved edit a new version (runs record
-- the version they ran), and the step cache shared by every process: a step's key (see
-- factory::pipelines::keys) -> the products it made.
CREATE TABLE pipelines (
    id bigserial PRIMARY KEY,
    project_id bigint NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (project_id, name)
);

CREATE TABLE pipeline_versions (
    pipeline_id bigint NOT NULL REFERENCES pipelines (id) ON DELETE CASCADE,
    version integer NOT NULL CHECK (version >= 1),
    graph jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (pipeline_id, version)
);

CREATE TABLE step_cache (
    key text PRIMARY KEY CHECK (key ~ '^[0-9a-f]{64}$'),
    product_ids bigint[] NOT NULL CHECK (cardinality(product_ids) >= 1),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX step_cache_products ON step_cache USING gin (product_ids);

-- A product deleted for good takes the entries that name it along: the step runs again.
-- (A product in the trash only hides its entries; restoring it brings them back.)
CREATE FUNCTION forget_cached_steps() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM step_cache WHERE product_ids @> ARRAY[OLD.id];
    RETURN OLD;
END;
$$;
CREATE TRIGGER products_forget_cached_steps AFTER DELETE ON products
    FOR EACH ROW EXECUTE FUNCTION forget_cached_steps();
