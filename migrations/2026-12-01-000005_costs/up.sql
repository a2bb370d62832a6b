-- What generations cost, in micro-dollars (1 USD = 1,000,000): the estimate made at launch
-- from the price table, and what the provider reported once done (Civitai's job cost,
-- Replicate's predict_time priced per GPU second).
ALTER TABLE jobs ADD COLUMN estimated_cost_micros BIGINT CHECK (estimated_cost_micros >= 0);
ALTER TABLE jobs ADD COLUMN cost_micros BIGINT CHECK (cost_micros >= 0);
CREATE INDEX jobs_project_cost_idx ON jobs (project_id, created_at);

-- A project's budget: in total, and per calendar month (UTC). NULL is no limit.
CREATE TABLE project_budgets (
    project_id    BIGINT PRIMARY KEY REFERENCES projects (id) ON DELETE CASCADE,
    total_micros  BIGINT CHECK (total_micros >= 0),
    month_micros  BIGINT CHECK (month_micros >= 0),
    updated_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Prices set on the Settings page, over the table shipped with the app (factory/data/prices.json).
CREATE TABLE model_prices (
    provider     TEXT NOT NULL,
    model        TEXT NOT NULL,
    unit         TEXT NOT NULL CHECK (unit IN ('image', 'megapixel', 'gpu_second')),
    usd          DOUBLE PRECISION NOT NULL CHECK (usd >= 0 AND usd < 1000),
    updated_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (provider, model)
);
