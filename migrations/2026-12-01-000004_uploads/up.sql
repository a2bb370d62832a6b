-- A picture a person uploads or pastes, kept as a product so it can be the input of an
-- image-to-image generation (and the lineage of what it made leads back to it).
ALTER TABLE products DROP CONSTRAINT products_kind_check;
ALTER TABLE products ADD CONSTRAINT products_kind_check
    CHECK (kind IN ('image', 'video', 'audio', 'model3d', 'upload'));
CREATE INDEX products_parent_idx ON products (parent_id) WHERE parent_id IS NOT NULL;
