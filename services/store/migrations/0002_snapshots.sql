-- Source snapshots: the cursor of the last applied snapshot per (tenant, source), and the
-- content of that snapshot.
--
-- The content is JSONB, one row per source, because a snapshot is always written and read
-- whole: the engine replaces a source's snapshot in one transaction and rebuilds the
-- tenant's data from all of them before each evaluation. No query selects single
-- accounts, so normalised tables would cost a row per account and membership on every
-- apply for no reader.

CREATE TABLE rollcall.source_state (
    tenant_id text NOT NULL REFERENCES rollcall.tenants (tenant_id),
    -- A source id: entra, ldap, ehr:<vendor>, optionally with an instance; hr for the HR
    -- roster.
    source text NOT NULL,
    snapshot_id uuid NOT NULL,
    content_sha256 bytea NOT NULL CHECK (octet_length(content_sha256) = 32),
    -- The cursor: a snapshot collected earlier, or at the same instant with a JetStream
    -- stream sequence not above this one, is stale.
    collected_at timestamptz NOT NULL,
    stream_sequence bigint NOT NULL CHECK (stream_sequence >= 0),
    applied_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, source)
);

CREATE TABLE rollcall.source_snapshots (
    tenant_id text NOT NULL,
    source text NOT NULL,
    snapshot_id uuid NOT NULL,
    -- 'directory' holds accounts, entitlements and memberships; 'hr_roster' holds workers.
    kind text NOT NULL CHECK (kind IN ('directory', 'hr_roster')),
    -- The instant the snapshot itself carries, NULL when the export did not say.
    collected_at timestamptz,
    settings jsonb,
    accounts jsonb,
    entitlements jsonb,
    memberships jsonb,
    workers jsonb,
    PRIMARY KEY (tenant_id, source),
    FOREIGN KEY (tenant_id, source) REFERENCES rollcall.source_state (tenant_id, source),
    CHECK (
        (kind = 'directory' AND settings IS NOT NULL AND accounts IS NOT NULL
            AND entitlements IS NOT NULL AND memberships IS NOT NULL AND workers IS NULL)
        OR (kind = 'hr_roster' AND workers IS NOT NULL AND settings IS NULL
            AND accounts IS NULL AND entitlements IS NULL AND memberships IS NULL)
    )
);

ALTER TABLE rollcall.source_state ENABLE ROW LEVEL SECURITY;
ALTER TABLE rollcall.source_state FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON rollcall.source_state
    USING (tenant_id = rollcall.current_tenant())
    WITH CHECK (tenant_id = rollcall.current_tenant());

ALTER TABLE rollcall.source_snapshots ENABLE ROW LEVEL SECURITY;
ALTER TABLE rollcall.source_snapshots FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON rollcall.source_snapshots
    USING (tenant_id = rollcall.current_tenant())
    WITH CHECK (tenant_id = rollcall.current_tenant());

GRANT SELECT, INSERT, UPDATE ON rollcall.source_state TO rollcall_app;
GRANT SELECT, INSERT, UPDATE ON rollcall.source_snapshots TO rollcall_app;
