-- A fencing token per claim: every claim bumps it, and every write a worker makes about a job
-- names the token it claimed with, so a worker that lost its lease (stalled, or a second task
-- in the same process) can never overwrite the state of the claim that replaced it.
ALTER TABLE jobs ADD COLUMN lease_token BIGINT NOT NULL DEFAULT 0;
