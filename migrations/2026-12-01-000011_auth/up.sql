-- Password mode: the password's Argon2id hash (one row; none: the studio answers only on
-- loopback), and the browser sessions signed in with it, by the SHA-256 of their token (the
-- token itself is only ever in the browser's cookie).
CREATE TABLE auth_password (
    id boolean PRIMARY KEY DEFAULT true CHECK (id),
    hash text NOT NULL,
    set_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE auth_sessions (
    token_sha256 bytea PRIMARY KEY,
    created_at timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    -- The address and browser it signed in from, for the person's own review.
    client text NOT NULL DEFAULT ''
);
