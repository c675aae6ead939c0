-- The DrChrono connector's state per tenant: the OAuth refresh token in use and the hash
-- of the last snapshot that JetStream acknowledged.
--
-- DrChrono rotates refresh tokens: each refresh returns a new one and the old one stops
-- working. The connector writes the new token here before it uses the access token, so a
-- crash after the refresh cannot strand the tenant with a spent token.
-- NOTE: the token is stored as text, protected by row-level security and the database's
-- own access control and encryption at rest; Rollcall adds no encryption of its own.

CREATE TABLE rollcall.drchrono_state (
    tenant_id text PRIMARY KEY REFERENCES rollcall.tenants (tenant_id),
    refresh_token text NOT NULL CHECK (refresh_token <> ''),
    -- SHA-256 (hex) of the token in the configured refresh token file when the stored
    -- token was derived from it. A different file hash means an administrator authorized
    -- Rollcall again, and the file's token replaces the stored one.
    seed_sha256 text NOT NULL CHECK (seed_sha256 ~ '^[0-9a-f]{64}$'),
    refreshed_at timestamptz NOT NULL,
    -- SHA-256 of the canonical encoding of the last snapshot JetStream acknowledged, with
    -- its collection time left out, so an unchanged practice is not published again.
    published_hash text,
    published_at timestamptz
);

ALTER TABLE rollcall.drchrono_state ENABLE ROW LEVEL SECURITY;
ALTER TABLE rollcall.drchrono_state FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON rollcall.drchrono_state
    USING (tenant_id = rollcall.current_tenant())
    WITH CHECK (tenant_id = rollcall.current_tenant());

GRANT SELECT, INSERT, UPDATE ON rollcall.drchrono_state TO rollcall_app;
