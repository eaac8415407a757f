-- Dashboard sessions (issue 14, docs/dashboard.md): a coordinator or an agency exchanges its API token for
-- a session cookie. Only the SHA-256 of the cookie's secret is stored. The session lasts while its token
-- is unrevoked and unexpired, until it expires or its holder signs out. `csrf` is the form token every
-- state-changing form of the session carries.
CREATE TABLE dashboard_sessions (
    secret_sha256 bytea PRIMARY KEY CHECK (length(secret_sha256) = 32),
    token_id uuid NOT NULL REFERENCES api_tokens (id),
    csrf text NOT NULL CHECK (length(csrf) BETWEEN 32 AND 100),
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    ended_at timestamptz,
    CHECK (expires_at > created_at)
);
CREATE INDEX dashboard_sessions_by_expiry ON dashboard_sessions (expires_at);
