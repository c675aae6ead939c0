-- Follow-through of review decisions: one row per revoked review item, written when its
-- campaign closes and checked against each later sync of the item's source, and the
-- instant each item's access ended, which retention counts from.

CREATE TABLE rollcall.review_revocations (
    tenant_id text NOT NULL,
    campaign_id uuid NOT NULL,
    item_id integer NOT NULL,
    -- The grant as `review_items.item_key`, and its parts, copied so the check needs no
    -- join with the items' facts.
    item_key text NOT NULL,
    source text NOT NULL,
    account_id text NOT NULL,
    entitlement_id text NOT NULL,
    reviewee text NOT NULL,
    -- open: the removal was requested and no sync since has shown the grant gone;
    -- verified: a sync after the request showed it gone; returned: a sync after the
    -- verification showed it again.
    state text NOT NULL CHECK (state IN ('open', 'verified', 'returned')),
    -- When the campaign closed.
    requested_at timestamptz NOT NULL,
    -- The collection instant and snapshot of the sync that showed the grant gone.
    verified_at timestamptz,
    verified_snapshot uuid,
    -- The collection instant of the sync that showed it again.
    returned_at timestamptz,
    -- When the engine first found the grant still present after the tenant's window.
    overdue_at timestamptz,
    PRIMARY KEY (tenant_id, campaign_id, item_id),
    FOREIGN KEY (tenant_id, campaign_id, item_id)
        REFERENCES rollcall.review_items (tenant_id, campaign_id, item_id)
);

CREATE INDEX review_revocations_by_state ON rollcall.review_revocations (tenant_id, state);

ALTER TABLE rollcall.review_revocations ENABLE ROW LEVEL SECURITY;
ALTER TABLE rollcall.review_revocations FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON rollcall.review_revocations
    USING (tenant_id = rollcall.current_tenant())
    WITH CHECK (tenant_id = rollcall.current_tenant());
GRANT SELECT, INSERT, UPDATE ON rollcall.review_revocations TO rollcall_app;

-- When the access an item covers ended: the collection instant of the first sync after
-- the campaign closed that lacked the grant. Retention keeps a campaign until six years
-- after the last of its items' access ended (45 CFR 164.316(b)(2)(i)).
ALTER TABLE rollcall.review_items ADD COLUMN access_ended_at timestamptz;

-- Retention removes whole campaigns, and remediation tasks, once they are past it.
GRANT DELETE ON rollcall.review_campaigns, rollcall.review_items, rollcall.review_signoffs,
    rollcall.review_revocations, rollcall.remediation_tasks TO rollcall_app;

-- What the last event-trigger check saw, so the next one finds what is new: the keys of
-- every privileged grant, and each HR employee's job roles. One row per tenant.
CREATE TABLE rollcall.review_trigger_state (
    tenant_id text PRIMARY KEY REFERENCES rollcall.tenants (tenant_id),
    -- The sources that had synced: grants of a source synced for the first time are not new.
    sources text[] NOT NULL,
    privileged_grants text[] NOT NULL,
    -- {"<employee id>": ["<job role>", ...]}
    job_roles jsonb NOT NULL,
    updated_at timestamptz NOT NULL
);

ALTER TABLE rollcall.review_trigger_state ENABLE ROW LEVEL SECURITY;
ALTER TABLE rollcall.review_trigger_state FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON rollcall.review_trigger_state
    USING (tenant_id = rollcall.current_tenant())
    WITH CHECK (tenant_id = rollcall.current_tenant());
GRANT SELECT, INSERT, UPDATE ON rollcall.review_trigger_state TO rollcall_app;
