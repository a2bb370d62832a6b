ALTER TABLE provider_limits DROP COLUMN concurrency;
