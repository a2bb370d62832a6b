-- Runs of a pipeline: the version and run seed they ran, and each step's state. Provider steps
-- run as batches of ordinary jobs (so lease, retry, rate limits and crash recovery apply); the
-- steps that run on this machine are held under a lease while they run, like jobs.
CREATE TABLE pipeline_runs (
    id bigserial PRIMARY KEY,
    pipeline_id bigint NOT NULL,
    version integer NOT NULL,
    project_id bigint NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    run_seed bigint NOT NULL CHECK (run_seed >= 0),
    -- The picture a run started from ("run this pipeline on this image").
    input_product_id bigint REFERENCES products (id) ON DELETE SET NULL,
    -- A re-run: the run it re-ran, and the step it re-ran from.
    rerun_of bigint REFERENCES pipeline_runs (id) ON DELETE SET NULL,
    state text NOT NULL DEFAULT 'running'
        CHECK (state IN ('running', 'succeeded', 'failed', 'canceled')),
    created_at timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    FOREIGN KEY (pipeline_id, version) REFERENCES pipeline_versions (pipeline_id, version)
        ON DELETE CASCADE
);
CREATE INDEX pipeline_runs_by_pipeline ON pipeline_runs (pipeline_id, id DESC);
CREATE INDEX pipeline_runs_active ON pipeline_runs (id) WHERE state = 'running';

CREATE TABLE pipeline_run_steps (
    run_id bigint NOT NULL REFERENCES pipeline_runs (id) ON DELETE CASCADE,
    step_index integer NOT NULL CHECK (step_index >= 0),
    name text NOT NULL,
    key text NOT NULL CHECK (key ~ '^[0-9a-f]{64}$'),
    seed bigint,
    -- The steps (by index) whose outputs it takes, in its inputs' order.
    depends_on integer[] NOT NULL DEFAULT '{}',
    -- Runs even when the cache has its key (a re-run from this step or one before it).
    forced boolean NOT NULL DEFAULT false,
    state text NOT NULL DEFAULT 'waiting' CHECK (state IN
        ('waiting', 'cached', 'queued', 'running', 'succeeded', 'failed', 'blocked', 'canceled')),
    -- A provider step's jobs.
    batch_id bigint REFERENCES batches (id) ON DELETE SET NULL,
    -- A step on this machine while it runs: a process that dies loses it when this passes.
    lease_expires_at timestamptz,
    lease_token bigint NOT NULL DEFAULT 0,
    product_ids bigint[] NOT NULL DEFAULT '{}',
    error text,
    started_at timestamptz,
    finished_at timestamptz,
    PRIMARY KEY (run_id, step_index)
);
CREATE INDEX pipeline_run_steps_batch ON pipeline_run_steps (batch_id) WHERE batch_id IS NOT NULL;
