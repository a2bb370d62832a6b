-- Models a person picked from a provider's catalog for a project (Civitai checkpoints and
-- LoRAs, by AIR), offered again first the next time they generate in it.
CREATE TABLE project_picks (
    project_id     BIGINT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    provider       TEXT NOT NULL,
    air            TEXT NOT NULL,
    kind           TEXT NOT NULL CHECK (kind IN ('checkpoint', 'lora')),
    name           TEXT NOT NULL,
    base_model     TEXT NOT NULL,
    preview_url    TEXT,
    trained_words  JSONB NOT NULL DEFAULT '[]',
    picked_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (project_id, provider, air)
);
CREATE INDEX project_picks_recent ON project_picks (project_id, picked_at DESC);
