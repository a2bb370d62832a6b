-- The Queue page lists batches, not jobs: which batches still have work (and which have none)
-- is read from the unfinished jobs alone, however many finished ones the table holds.
CREATE INDEX jobs_unfinished_batch_idx ON jobs (batch_id, priority DESC, id)
    WHERE state IN ('queued', 'submitting', 'running', 'downloading', 'retry_wait');
