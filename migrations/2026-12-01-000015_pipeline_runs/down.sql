DROP TABLE pipeline_run_steps;
DROP TABLE pipeline_runs;
