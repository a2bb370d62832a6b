-- A provider's rates set on the Settings page (per minute; NULL is no limit), over the
-- published defaults. Flags and art-factory.toml take precedence.
CREATE TABLE provider_limits (
    provider                TEXT PRIMARY KEY,
    submissions_per_minute  INTEGER CHECK (submissions_per_minute > 0),
    calls_per_minute        INTEGER CHECK (calls_per_minute > 0),
    updated_at              TIMESTAMPTZ NOT NULL DEFAULT now()
);
