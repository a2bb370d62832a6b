DROP TABLE model_prices;
DROP TABLE project_budgets;
DROP INDEX jobs_project_cost_idx;
ALTER TABLE jobs DROP COLUMN cost_micros;
ALTER TABLE jobs DROP COLUMN estimated_cost_micros;
