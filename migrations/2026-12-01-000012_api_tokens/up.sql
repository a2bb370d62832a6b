-- API tokens for scripts and other tools (REST API v1): the SHA-256 of the token (the token
-- itself is shown once, when made), a name, what it may do, and when it was last used.
CREATE TABLE api_tokens (
    id bigserial PRIMARY KEY,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 80),
    scope text NOT NULL CHECK (scope IN ('read_only', 'full')),
    token_sha256 bytea NOT NULL UNIQUE,
    -- The token's last four characters, so the person can tell tokens apart.
    hint text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz
);
