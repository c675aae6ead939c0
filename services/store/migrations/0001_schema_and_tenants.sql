-- Rollcall's schema and the tenants table.
--
-- Run by the migrator role, which owns every object created here. The runtime role
-- `rollcall_app` must already exist: it gets row privileges only, never ownership, and no
-- TRUNCATE, because TRUNCATE skips row-level security.
--
-- Every tenant table has `tenant_id text not null`, row-level security ENABLEd and FORCEd
-- (FORCE makes the policies apply to the owner too), and one policy that compares
-- `tenant_id` with the session setting `rollcall.tenant_id`. The store sets it with
-- `set_config('rollcall.tenant_id', $1, true)` at the start of every transaction, so the
-- setting ends with the transaction and never leaks to the next user of a pooled
-- connection.

CREATE SCHEMA rollcall;
REVOKE ALL ON SCHEMA rollcall FROM PUBLIC;
GRANT USAGE ON SCHEMA rollcall TO rollcall_app;

-- The tenant of the current transaction, or NULL when none is set. A setting that was
-- once set with SET LOCAL reads back as '' after its transaction, hence NULLIF: NULL
-- matches no row.
CREATE FUNCTION rollcall.current_tenant() RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT NULLIF(current_setting('rollcall.tenant_id', true), '') $$;

CREATE TABLE rollcall.tenants (
    -- The rules of rollcall_core::TenantId: lowercase letters, digits and '-', 1 to 63.
    tenant_id text PRIMARY KEY CHECK (tenant_id ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    name text NOT NULL,
    -- An IANA time zone name, such as America/Chicago.
    time_zone text NOT NULL,
    -- The evaluation instant of the last recorded set of findings; an older evaluation
    -- is rejected as stale.
    findings_evaluated_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE rollcall.tenants ENABLE ROW LEVEL SECURITY;
ALTER TABLE rollcall.tenants FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON rollcall.tenants
    USING (tenant_id = rollcall.current_tenant())
    WITH CHECK (tenant_id = rollcall.current_tenant());
GRANT SELECT, INSERT, UPDATE ON rollcall.tenants TO rollcall_app;
