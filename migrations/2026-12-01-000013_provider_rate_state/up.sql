-- The GCRA state of each provider's rate limits, shared by every process on this database: the
-- theoretical arrival time of the next call in each bucket (`submit`, `call`). A call reserves
-- its turn with one statement (see factory::providers::limits::reserve), so processes together
-- never call a provider faster than its limit.
CREATE TABLE provider_rate_state (
    provider text NOT NULL,
    bucket text NOT NULL CHECK (bucket IN ('submit', 'call')),
    tat timestamptz NOT NULL,
    PRIMARY KEY (provider, bucket)
);
