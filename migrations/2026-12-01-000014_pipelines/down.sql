DROP TRIGGER products_forget_cached_steps ON products;
DROP FUNCTION forget_cached_steps();
DROP TABLE step_cache;
DROP TABLE pipeline_versions;
DROP TABLE pipelines;
