-- Models read from a provider's catalog (a Replicate model's published input schema), as the
-- form offers them: `id` is what jobs are sent with (pinned to a version), `reference` what the
-- person typed. Kept so the form, launches and restarts do not ask the provider again.
CREATE TABLE provider_models (
    provider    TEXT NOT NULL,
    id          TEXT NOT NULL,
    reference   TEXT NOT NULL,
    info        JSONB NOT NULL,
    fetched_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (provider, id)
);
CREATE INDEX provider_models_reference ON provider_models (provider, reference, fetched_at DESC);
