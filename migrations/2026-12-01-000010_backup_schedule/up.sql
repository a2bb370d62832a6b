-- Scheduled backups: one row, its settings and when the next one is due. Any process may make
-- the due backup; the one whose UPDATE moves next_due_at on is the one that does.
CREATE TABLE backup_schedule (
    id boolean PRIMARY KEY DEFAULT true CHECK (id),
    enabled boolean NOT NULL DEFAULT false,
    keep_last integer NOT NULL DEFAULT 7 CHECK (keep_last BETWEEN 1 AND 365),
    next_due_at timestamptz,
    last_error text,
    updated_at timestamptz NOT NULL DEFAULT now()
);
