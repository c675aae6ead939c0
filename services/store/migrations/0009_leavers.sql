-- The deprovisioning clock: one leaver per termination, the accounts linked to the
-- leaver per source with when each was last seen able to sign in and when it stopped,
-- and the log of HR events already turned into leaver state.

-- A worker whose termination reached Rollcall as an HR event (a webhook, SCIM, a vendor
-- poll or a difference between two roster files). The deadline is the termination's
-- effective instant plus the tenant's deprovisioning SLA (`slas.deprovision` in
-- tenant.yaml). At most one leaver per worker is open at a time.
CREATE TABLE rollcall.leavers (
    tenant_id text NOT NULL REFERENCES rollcall.tenants (tenant_id),
    -- The id of the termination event that opened the leaver; it never changes.
    leaver_id uuid NOT NULL,
    employee_id text NOT NULL CHECK (employee_id <> ''),
    -- The latest termination event for this leaver: a later termination of the same
    -- worker replaces the effective instant and the deadline.
    termination_event_id uuid NOT NULL,
    effective_at timestamptz NOT NULL,
    deadline timestamptz NOT NULL,
    state text NOT NULL CHECK (state IN ('open', 'closed', 'cancelled')),
    -- The worker record of the termination event, used when the roster lacks the worker.
    worker jsonb,
    opened_at timestamptz NOT NULL,
    -- The evaluation instant at which the passed deadline was first evaluated, so the
    -- due-scan acts on each deadline once.
    deadline_acted_at timestamptz,
    -- The evaluation instant at which every linked account was seen disabled or gone.
    closed_at timestamptz,
    -- From the effective instant to the instant the last linked account was first seen
    -- disabled or gone, in whole seconds, never negative.
    time_to_deprovision_seconds bigint CHECK (time_to_deprovision_seconds >= 0),
    -- The rehire or correction event that cancelled an open leaver or ended a closed one.
    ended_by_event_id uuid,
    ended_at timestamptz,
    PRIMARY KEY (tenant_id, leaver_id),
    CHECK ((state = 'closed') = (closed_at IS NOT NULL)),
    CHECK (state <> 'cancelled' OR ended_by_event_id IS NOT NULL)
);

CREATE UNIQUE INDEX leavers_one_open ON rollcall.leavers (tenant_id, employee_id)
    WHERE state = 'open';
CREATE INDEX leavers_due ON rollcall.leavers (tenant_id, deadline)
    WHERE state = 'open' AND deadline_acted_at IS NULL;

-- Each account that identity resolution linked to an open leaver, per source.
CREATE TABLE rollcall.leaver_accounts (
    tenant_id text NOT NULL,
    leaver_id uuid NOT NULL,
    source text NOT NULL,
    account_id text NOT NULL,
    -- The first evaluation instant at which the account could still sign in (or its
    -- status was unknown); NULL when it was never seen so.
    first_seen_enabled_at timestamptz,
    -- The first evaluation instant at which the account was seen disabled or gone from
    -- its source; NULL while it can still sign in.
    disabled_at timestamptz,
    -- `disabled` or `gone` (no longer in the source, or no longer linked to the worker).
    disabled_how text CHECK (disabled_how IN ('disabled', 'gone')),
    PRIMARY KEY (tenant_id, leaver_id, source, account_id),
    FOREIGN KEY (tenant_id, leaver_id) REFERENCES rollcall.leavers (tenant_id, leaver_id),
    CHECK ((disabled_at IS NULL) = (disabled_how IS NULL))
);

-- HR events (rows of rollcall.hr_events) already applied to the leavers, so the NATS
-- consumer and the periodic reconcile over hr_events apply each event once.
CREATE TABLE rollcall.leaver_applied_events (
    tenant_id text NOT NULL,
    event_id uuid NOT NULL,
    -- What the event did: opened, updated, cancelled, ended, or ignored.
    outcome text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, event_id),
    FOREIGN KEY (tenant_id, event_id) REFERENCES rollcall.hr_events (tenant_id, event_id)
);

ALTER TABLE rollcall.leavers ENABLE ROW LEVEL SECURITY;
ALTER TABLE rollcall.leavers FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON rollcall.leavers
    USING (tenant_id = rollcall.current_tenant())
    WITH CHECK (tenant_id = rollcall.current_tenant());

ALTER TABLE rollcall.leaver_accounts ENABLE ROW LEVEL SECURITY;
ALTER TABLE rollcall.leaver_accounts FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON rollcall.leaver_accounts
    USING (tenant_id = rollcall.current_tenant())
    WITH CHECK (tenant_id = rollcall.current_tenant());

ALTER TABLE rollcall.leaver_applied_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE rollcall.leaver_applied_events FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON rollcall.leaver_applied_events
    USING (tenant_id = rollcall.current_tenant())
    WITH CHECK (tenant_id = rollcall.current_tenant());

GRANT SELECT, INSERT, UPDATE ON rollcall.leavers TO rollcall_app;
GRANT SELECT, INSERT, UPDATE ON rollcall.leaver_accounts TO rollcall_app;
GRANT SELECT, INSERT ON rollcall.leaver_applied_events TO rollcall_app;
