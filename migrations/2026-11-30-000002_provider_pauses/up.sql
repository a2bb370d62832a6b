-- A provider that answered 429 is paused for every worker in every process until the reset it
-- announced: no claim and no call is made for it before `until`.
CREATE TABLE provider_pauses (
    provider   TEXT PRIMARY KEY,
    until      TIMESTAMPTZ NOT NULL,
    reason     TEXT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
