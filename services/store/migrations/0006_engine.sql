-- What the engine service keeps besides snapshots and findings: each tenant's
-- configuration, the transactional outbox of finding events, the pipeline problems that
-- become pipeline findings, and the work directory that the periodic reconcile reads.

-- tenant.yaml and the policy file it names, as `rollcall-engine tenant apply` (and later
-- the Kubernetes operator) writes them. The engine parses them with rollcall-ingest, so
-- it evaluates exactly the tenant `rollcall scan` reads from the folder.
CREATE TABLE rollcall.tenant_config (
    tenant_id text PRIMARY KEY REFERENCES rollcall.tenants (tenant_id),
    tenant_yaml text NOT NULL,
    -- The text of the file named by `policy_file`; NULL when the policy is inline.
    policy_yaml text,
    -- SHA-256 over both texts, so an unchanged apply changes nothing.
    content_sha256 bytea NOT NULL CHECK (length(content_sha256) = 32),
    applied_at timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE rollcall.tenant_config ENABLE ROW LEVEL SECURITY;
ALTER TABLE rollcall.tenant_config FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON rollcall.tenant_config
    USING (tenant_id = rollcall.current_tenant())
    WITH CHECK (tenant_id = rollcall.current_tenant());
GRANT SELECT, INSERT, UPDATE ON rollcall.tenant_config TO rollcall_app;

-- Finding events written in the same transaction as the finding diff that caused them,
-- and published afterwards. The event id is the NATS message id, so a publish repeated
-- after a crash falls into JetStream's duplicate window and is stored once.
CREATE TABLE rollcall.finding_outbox (
    tenant_id text NOT NULL REFERENCES rollcall.tenants (tenant_id),
    event_id uuid NOT NULL,
    -- Publication order within the tenant: the order of the diffs.
    seq bigint GENERATED ALWAYS AS IDENTITY,
    event_type text NOT NULL CHECK (event_type IN ('opened', 'updated', 'resolved')),
    finding_id text NOT NULL,
    -- The encoded rollcall.v1.FindingEvent.
    payload bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    -- NULL until the stream acknowledged the publish. TODO: prune published rows; no job
    -- removes them yet.
    published_at timestamptz,
    PRIMARY KEY (tenant_id, event_id)
);

CREATE INDEX finding_outbox_unpublished ON rollcall.finding_outbox (tenant_id, seq)
    WHERE published_at IS NULL;

ALTER TABLE rollcall.finding_outbox ENABLE ROW LEVEL SECURITY;
ALTER TABLE rollcall.finding_outbox FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON rollcall.finding_outbox
    USING (tenant_id = rollcall.current_tenant())
    WITH CHECK (tenant_id = rollcall.current_tenant());
GRANT SELECT, INSERT, UPDATE ON rollcall.finding_outbox TO rollcall_app;

-- Problems of the pipeline itself (a dead-lettered message, a failed sync) while they
-- last. The engine adds one pipeline finding per row to each evaluation.
CREATE TABLE rollcall.pipeline_problems (
    tenant_id text NOT NULL REFERENCES rollcall.tenants (tenant_id),
    kind text NOT NULL CHECK (kind IN ('dead_letter', 'sync_failed')),
    -- The source the problem concerns, or '' when it cannot be told.
    source text NOT NULL,
    detail jsonb NOT NULL,
    opened_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, kind, source)
);

ALTER TABLE rollcall.pipeline_problems ENABLE ROW LEVEL SECURITY;
ALTER TABLE rollcall.pipeline_problems FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON rollcall.pipeline_problems
    USING (tenant_id = rollcall.current_tenant())
    WITH CHECK (tenant_id = rollcall.current_tenant());
GRANT SELECT, INSERT, UPDATE, DELETE ON rollcall.pipeline_problems TO rollcall_app;

-- The work directory: which tenants have state newer than their last evaluation, or
-- unpublished finding events. The periodic reconcile must find them across tenants,
-- which row-level security forbids on tenant tables, so this table lives in its own
-- schema without it. It holds tenant ids and counters only, never tenant data.
CREATE SCHEMA rollcall_work;
REVOKE ALL ON SCHEMA rollcall_work FROM PUBLIC;
GRANT USAGE ON SCHEMA rollcall_work TO rollcall_app;

CREATE TABLE rollcall_work.tenant_work (
    tenant_id text PRIMARY KEY CHECK (tenant_id ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    -- Raised in the transaction of every change the rules read.
    state_version bigint NOT NULL DEFAULT 0,
    -- The state_version the last recorded evaluation loaded.
    evaluated_version bigint NOT NULL DEFAULT 0,
    -- Whether finding_outbox may hold unpublished rows of the tenant.
    outbox_pending boolean NOT NULL DEFAULT false
);
GRANT SELECT, INSERT, UPDATE ON rollcall_work.tenant_work TO rollcall_app;
