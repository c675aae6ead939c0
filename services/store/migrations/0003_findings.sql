-- Findings with their lifecycle. The id is the stable finding id of rollcall_core, the
-- same on every evaluation for the same tenant, kind, subject and detail.

CREATE TABLE rollcall.findings (
    tenant_id text NOT NULL REFERENCES rollcall.tenants (tenant_id),
    finding_id text NOT NULL,
    kind text NOT NULL,
    severity text NOT NULL
        CHECK (severity IN ('info', 'low', 'medium', 'high', 'critical')),
    summary text NOT NULL,
    subject jsonb NOT NULL,
    evidence jsonb NOT NULL,
    first_seen timestamptz NOT NULL,
    last_seen timestamptz NOT NULL,
    -- NULL while the finding is open. A finding seen again after it was resolved is open
    -- again and keeps its first_seen.
    resolved_at timestamptz,
    -- The last instant the finding was in effect: last_seen while open, resolved_at once
    -- resolved. Retention counts six years from here (45 CFR 164.316(b)(2)(i)).
    last_in_effect timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, finding_id),
    CHECK (first_seen <= last_seen)
);

CREATE INDEX findings_open ON rollcall.findings (tenant_id) WHERE resolved_at IS NULL;
CREATE INDEX findings_resolved_by_age ON rollcall.findings (tenant_id, last_in_effect)
    WHERE resolved_at IS NOT NULL;

ALTER TABLE rollcall.findings ENABLE ROW LEVEL SECURITY;
ALTER TABLE rollcall.findings FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON rollcall.findings
    USING (tenant_id = rollcall.current_tenant())
    WITH CHECK (tenant_id = rollcall.current_tenant());
GRANT SELECT, INSERT, UPDATE, DELETE ON rollcall.findings TO rollcall_app;

-- Open findings for dashboards and reports. security_invoker makes the view read the
-- table with the rights and policies of the querying role, not of the view's owner.
CREATE VIEW rollcall.open_findings WITH (security_invoker = true) AS
    SELECT tenant_id, finding_id, kind, severity, summary, first_seen, last_seen
    FROM rollcall.findings
    WHERE resolved_at IS NULL;
GRANT SELECT ON rollcall.open_findings TO rollcall_app;
