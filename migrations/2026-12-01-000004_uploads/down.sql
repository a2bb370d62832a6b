DROP INDEX products_parent_idx;
DELETE FROM products WHERE kind = 'upload';
ALTER TABLE products DROP CONSTRAINT products_kind_check;
ALTER TABLE products ADD CONSTRAINT products_kind_check
    CHECK (kind IN ('image', 'video', 'audio', 'model3d'));
