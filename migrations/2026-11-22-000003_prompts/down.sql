DROP TABLE templates;
DROP TABLE wildcards;
ALTER TABLE batches ALTER COLUMN expansion_mode SET DEFAULT 'single';
ALTER TABLE batches DROP COLUMN tokens, DROP COLUMN seed_mode;
