-- The generation engine: a batch is one launch, a job is one generation (a durable queue row),
-- a product is one stored result.

CREATE TABLE batches (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id      BIGINT      NOT NULL REFERENCES projects (id) ON DELETE RESTRICT,
    provider        TEXT        NOT NULL,
    model           TEXT        NOT NULL,
    prompt_template TEXT        NOT NULL,
    negative_prompt TEXT        NOT NULL DEFAULT '',
    params          JSONB       NOT NULL DEFAULT '{}',
    expansion_mode  TEXT        NOT NULL DEFAULT 'single',
    batch_seed      BIGINT      NOT NULL,
    item_count      INTEGER     NOT NULL CHECK (item_count > 0),
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX batches_project_idx ON batches (project_id, created_at DESC);

CREATE TABLE jobs (
    id                   BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    batch_id             BIGINT      NOT NULL REFERENCES batches (id) ON DELETE CASCADE,
    project_id           BIGINT      NOT NULL REFERENCES projects (id) ON DELETE RESTRICT,
    item_index           INTEGER     NOT NULL,
    provider             TEXT        NOT NULL,
    model                TEXT        NOT NULL,
    -- Everything the provider is sent (prompt, negative prompt, parameters, seed).
    input                JSONB       NOT NULL,
    -- Which value each prompt token chose for this item (for X/Y grids).
    bindings             JSONB       NOT NULL DEFAULT '{}',
    seed                 BIGINT      NOT NULL,
    state                TEXT        NOT NULL DEFAULT 'queued' CHECK (state IN
                         ('queued', 'submitting', 'running', 'downloading', 'retry_wait',
                          'succeeded', 'failed', 'canceled')),
    -- Higher runs first; "move to front" sets it above every other job.
    priority             BIGINT      NOT NULL DEFAULT 0,
    attempts             INTEGER     NOT NULL DEFAULT 0,
    max_attempts         INTEGER     NOT NULL DEFAULT 5 CHECK (max_attempts > 0),
    run_after            TIMESTAMPTZ NOT NULL DEFAULT now(),
    lease_owner          TEXT,
    lease_expires_at     TIMESTAMPTZ,
    -- Set before a submission is sent; with no request id after a crash, the job may have
    -- reached the provider: it is flagged, never hidden.
    submit_started_at    TIMESTAMPTZ,
    provider_request_id  TEXT,
    possibly_duplicated  BOOLEAN     NOT NULL DEFAULT false,
    provider_status      TEXT,
    progress             REAL CHECK (progress IS NULL OR (progress >= 0 AND progress <= 1)),
    error                TEXT,
    cancel_requested     BOOLEAN     NOT NULL DEFAULT false,
    created_at           TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at           TIMESTAMPTZ NOT NULL DEFAULT now(),
    started_at           TIMESTAMPTZ,
    finished_at          TIMESTAMPTZ,
    UNIQUE (batch_id, item_index)
);
-- Claiming: the next runnable job, front of the queue first.
CREATE INDEX jobs_claimable_idx ON jobs (priority DESC, id) WHERE state IN ('queued', 'retry_wait');
-- Recovery: in-flight jobs whose worker stopped renewing its lease.
CREATE INDEX jobs_in_flight_idx ON jobs (lease_expires_at) WHERE state IN ('submitting', 'running', 'downloading');
CREATE INDEX jobs_batch_idx ON jobs (batch_id, item_index);
CREATE INDEX jobs_recent_idx ON jobs (updated_at DESC);

CREATE TABLE products (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id      BIGINT      NOT NULL REFERENCES projects (id) ON DELETE RESTRICT,
    kind            TEXT        NOT NULL DEFAULT 'image' CHECK (kind IN ('image', 'video', 'audio', 'model3d')),
    content_hash    TEXT        NOT NULL CHECK (content_hash ~ '^[0-9a-f]{64}$'),
    path            TEXT        NOT NULL,
    mime            TEXT        NOT NULL,
    width           INTEGER,
    height          INTEGER,
    bytes           BIGINT      NOT NULL,
    prompt          TEXT        NOT NULL DEFAULT '',
    negative_prompt TEXT        NOT NULL DEFAULT '',
    params          JSONB       NOT NULL DEFAULT '{}',
    provider        TEXT,
    model           TEXT,
    seed            BIGINT,
    job_id          BIGINT REFERENCES jobs (id) ON DELETE SET NULL,
    batch_id        BIGINT REFERENCES batches (id) ON DELETE SET NULL,
    output_index    INTEGER     NOT NULL DEFAULT 0,
    bindings        JSONB       NOT NULL DEFAULT '{}',
    parent_id       BIGINT REFERENCES products (id) ON DELETE SET NULL,
    rating          SMALLINT CHECK (rating IS NULL OR rating BETWEEN 0 AND 5),
    favourite       BOOLEAN     NOT NULL DEFAULT false,
    rejected        BOOLEAN     NOT NULL DEFAULT false,
    tags            TEXT[]      NOT NULL DEFAULT '{}',
    thumbhash       TEXT,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    prompt_tsv      TSVECTOR GENERATED ALWAYS AS (to_tsvector('simple', prompt)) STORED
);
-- A job's outputs are stored exactly once, however often a download is retried.
CREATE UNIQUE INDEX products_job_output_key ON products (job_id, output_index) WHERE job_id IS NOT NULL;
CREATE INDEX products_gallery_idx ON products (project_id, created_at DESC, id DESC);
CREATE INDEX products_batch_idx ON products (batch_id);
CREATE INDEX products_hash_idx ON products (project_id, content_hash);
CREATE INDEX products_prompt_tsv_idx ON products USING gin (prompt_tsv);

-- The queue's switches (one row): pausing survives restarts.
CREATE TABLE queue_settings (
    id     BOOLEAN PRIMARY KEY DEFAULT true CHECK (id),
    paused BOOLEAN NOT NULL DEFAULT false
);
INSERT INTO queue_settings DEFAULT VALUES;
