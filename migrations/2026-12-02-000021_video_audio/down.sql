DROP INDEX products_by_duration;
ALTER TABLE products DROP COLUMN av_info, DROP COLUMN duration_ms;
