-- How many of a provider's jobs may be in flight at once, set on the Settings page; NULL keeps
-- the default (flags and art-factory.toml take precedence).
ALTER TABLE provider_limits ADD COLUMN concurrency INTEGER CHECK (concurrency > 0);
