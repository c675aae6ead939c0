-- Leaver remediation: each tenant's switch and the sources it may act on, and one row
-- per remediation action with its state and approvals. Every change of a row is also
-- appended to the audit chain in the same transaction.

-- A tenant without a row has remediation off.
CREATE TABLE rollcall.remediation_settings (
    tenant_id text PRIMARY KEY REFERENCES rollcall.tenants (tenant_id),
    mode text NOT NULL CHECK (mode IN ('off', 'dry_run', 'enforce')),
    -- Source ids (`entra`, `ldap`, `ehr:epic`) that remediation may act on.
    sources text[] NOT NULL,
    updated_by text NOT NULL,
    updated_at timestamptz NOT NULL
);

ALTER TABLE rollcall.remediation_settings ENABLE ROW LEVEL SECURITY;
ALTER TABLE rollcall.remediation_settings FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON rollcall.remediation_settings
    USING (tenant_id = rollcall.current_tenant())
    WITH CHECK (tenant_id = rollcall.current_tenant());
GRANT SELECT, INSERT, UPDATE ON rollcall.remediation_settings TO rollcall_app;

-- TODO: retention does not remove tasks yet; apply_retention covers findings and the
-- audit log only.
CREATE TABLE rollcall.remediation_tasks (
    tenant_id text NOT NULL REFERENCES rollcall.tenants (tenant_id),
    -- Hex SHA-256 over kind, source, account id and employee id, so planning the same
    -- leaver again finds the same row.
    task_id text NOT NULL CHECK (task_id ~ '^[0-9a-f]{64}$'),
    kind text NOT NULL
        CHECK (kind IN ('disable_entra_user', 'disable_ldap_account', 'ehr_task', 'epcs_task')),
    employee_id text NOT NULL,
    source text NOT NULL,
    -- The account as the source names it: Entra object id, LDAP DN, EHR user id.
    account_id text NOT NULL,
    login text,
    privileged boolean NOT NULL,
    epcs boolean NOT NULL,
    state text NOT NULL
        CHECK (state IN ('planned', 'dry_run', 'awaiting_approval', 'open', 'done', 'failed',
                         'verified')),
    -- Enforce attempts made, failed ones included.
    attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    last_error text,
    first_approver text,
    first_approved_at timestamptz,
    second_approver text,
    second_approved_at timestamptz,
    planned_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, task_id),
    -- The second approval must come from another person than the first.
    CHECK (second_approver IS NULL
           OR (first_approver IS NOT NULL AND second_approver <> first_approver))
);

ALTER TABLE rollcall.remediation_tasks ENABLE ROW LEVEL SECURITY;
ALTER TABLE rollcall.remediation_tasks FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON rollcall.remediation_tasks
    USING (tenant_id = rollcall.current_tenant())
    WITH CHECK (tenant_id = rollcall.current_tenant());
GRANT SELECT, INSERT, UPDATE ON rollcall.remediation_tasks TO rollcall_app;
