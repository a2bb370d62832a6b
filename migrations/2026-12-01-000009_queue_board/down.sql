DROP INDEX jobs_unfinished_batch_idx;
