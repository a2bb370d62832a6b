-- Video and sound products: how long they last (the gallery filters on it) and what was probed
-- (container, codecs, frame rate, sample rate, channels).
ALTER TABLE products ADD COLUMN duration_ms integer, ADD COLUMN av_info jsonb;
CREATE INDEX products_by_duration ON products (project_id, duration_ms) WHERE duration_ms IS NOT NULL;
