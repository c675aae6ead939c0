-- Access-review campaigns (rollcall-reviews): one row per launch of a campaign definition
-- for one schedule period, the review items frozen at launch, and the sign-offs.

CREATE TABLE rollcall.review_campaigns (
    tenant_id text NOT NULL REFERENCES rollcall.tenants (tenant_id),
    campaign_id uuid NOT NULL,
    -- The `id` of the definition under `campaigns:` in tenant.yaml.
    definition_id text NOT NULL,
    -- The first instant of the schedule period the launch belongs to: the start of the
    -- quarter in the tenant's zone, or the minute the cron expression matched.
    period_start timestamptz NOT NULL,
    -- The period for people, such as `2026-Q4`.
    period_label text NOT NULL,
    name text NOT NULL,
    -- The definition as it was at launch, so later edits of tenant.yaml do not change
    -- what an auditor sees for this campaign.
    definition jsonb NOT NULL,
    launched_at timestamptz NOT NULL,
    deadline timestamptz NOT NULL,
    at_expiry text NOT NULL CHECK (at_expiry IN ('none', 'revoke', 'approve')),
    fallback_reviewer text NOT NULL,
    second_stage_reviewer text,
    -- open: first-stage reviewers decide; second_stage: every first-stage reviewer signed
    -- off and the second-stage reviewer decides; closed: nothing changes any more.
    -- For the scope `added_since_last`: the key of every grant of the tenant at launch
    -- (as `review_items.item_key`), which the next launch of the definition compares
    -- with. NULL for the other scopes.
    grant_keys text[],
    status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'second_stage', 'closed')),
    closed_at timestamptz,
    PRIMARY KEY (tenant_id, campaign_id),
    -- Two scheduler replicas can both find a period due and both launch; this constraint
    -- lets exactly one of the launches commit.
    CONSTRAINT review_campaigns_one_per_period UNIQUE (tenant_id, definition_id, period_start)
);

ALTER TABLE rollcall.review_campaigns ENABLE ROW LEVEL SECURITY;
ALTER TABLE rollcall.review_campaigns FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON rollcall.review_campaigns
    USING (tenant_id = rollcall.current_tenant())
    WITH CHECK (tenant_id = rollcall.current_tenant());
GRANT SELECT, INSERT, UPDATE ON rollcall.review_campaigns TO rollcall_app;

-- One grant of one person to review, frozen at launch.
CREATE TABLE rollcall.review_items (
    tenant_id text NOT NULL,
    campaign_id uuid NOT NULL,
    -- 1, 2, ... within the campaign.
    item_id integer NOT NULL CHECK (item_id > 0),
    -- The grant: `<source>/<account id>/<entitlement id>`, with `@<scope>` and `~eligible`
    -- where they apply.
    item_key text NOT NULL,
    -- The identity key of the person whose access this is (`hr:E1004`).
    reviewee text NOT NULL,
    -- The identity key of the person who decides (`hr:E1002`).
    reviewer text NOT NULL,
    reviewer_reason text NOT NULL
        CHECK (reviewer_reason IN ('manager', 'no_manager', 'self_review', 'delegated', 'reassigned')),
    privileged boolean NOT NULL,
    outside_baseline boolean NOT NULL,
    recommendation text NOT NULL CHECK (recommendation IN ('keep', 'revoke')),
    -- Everything the reviewer sees: the person, the entitlement in plain words, how it is
    -- held, sign-ins, MFA strength, baseline, and the recommendation's reasons.
    facts jsonb NOT NULL,
    decision text CHECK (decision IN ('approve', 'revoke')),
    justification text,
    decided_by text,
    decided_at timestamptz,
    -- The reviewer before the last delegation or reassignment.
    previous_reviewer text,
    PRIMARY KEY (tenant_id, campaign_id, item_id),
    FOREIGN KEY (tenant_id, campaign_id) REFERENCES rollcall.review_campaigns (tenant_id, campaign_id)
);

CREATE INDEX review_items_by_reviewer ON rollcall.review_items (tenant_id, campaign_id, reviewer);

ALTER TABLE rollcall.review_items ENABLE ROW LEVEL SECURITY;
ALTER TABLE rollcall.review_items FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON rollcall.review_items
    USING (tenant_id = rollcall.current_tenant())
    WITH CHECK (tenant_id = rollcall.current_tenant());
GRANT SELECT, INSERT, UPDATE ON rollcall.review_items TO rollcall_app;

-- A reviewer's sign-off: stage 1 for first-stage reviewers, stage 2 for the second-stage
-- reviewer. A sign-off is never withdrawn, so the runtime role cannot update or delete.
CREATE TABLE rollcall.review_signoffs (
    tenant_id text NOT NULL,
    campaign_id uuid NOT NULL,
    stage smallint NOT NULL CHECK (stage IN (1, 2)),
    reviewer text NOT NULL,
    signed_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, campaign_id, stage, reviewer),
    FOREIGN KEY (tenant_id, campaign_id) REFERENCES rollcall.review_campaigns (tenant_id, campaign_id)
);

ALTER TABLE rollcall.review_signoffs ENABLE ROW LEVEL SECURITY;
ALTER TABLE rollcall.review_signoffs FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON rollcall.review_signoffs
    USING (tenant_id = rollcall.current_tenant())
    WITH CHECK (tenant_id = rollcall.current_tenant());
GRANT SELECT, INSERT ON rollcall.review_signoffs TO rollcall_app;

-- TODO: retention does not remove review rows yet; they are kept until a job applies the
-- six-year rule to them as it does to findings.
