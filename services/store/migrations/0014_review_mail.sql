-- Mail about access-review campaigns (rollcall-reviews' mail pass): one row per campaign,
-- recipient and mail, so each reminder or escalation goes out once however many engine
-- replicas run the pass and however often they restart.

CREATE TABLE rollcall.review_mail (
    tenant_id text NOT NULL,
    campaign_id uuid NOT NULL,
    -- The identity key of the recipient (`hr:E1002`), or `*` in the row that marks every
    -- manager escalation of the campaign and offset as done.
    recipient text NOT NULL,
    kind text NOT NULL
        CHECK (kind IN ('reminder', 'escalation_second_stage', 'escalation_manager')),
    -- Minutes before the deadline for a reminder, after it for an escalation, with a day
    -- counted as 1440 (the offset as written in tenant.yaml).
    offset_minutes integer NOT NULL CHECK (offset_minutes > 0),
    -- claimed: a sender holds it since claimed_at; sent: the SMTP server accepted it;
    -- failed: the last attempt failed and the mail is retried from retry_after on;
    -- no_address: the recipient had no mail address, and the mail is tried again when
    -- the directory or roster gives one.
    state text NOT NULL CHECK (state IN ('claimed', 'sent', 'failed', 'no_address')),
    -- The sender's claim. A claim older than the pass's claim timeout belongs to a sender
    -- that stopped, and another sender may take it over.
    claim_id uuid,
    claimed_at timestamptz,
    attempts integer NOT NULL DEFAULT 0,
    retry_after timestamptz,
    sent_at timestamptz,
    -- The error class and message of the last failed attempt.
    last_error text,
    PRIMARY KEY (tenant_id, campaign_id, recipient, kind, offset_minutes),
    FOREIGN KEY (tenant_id, campaign_id) REFERENCES rollcall.review_campaigns (tenant_id, campaign_id)
);

ALTER TABLE rollcall.review_mail ENABLE ROW LEVEL SECURITY;
ALTER TABLE rollcall.review_mail FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON rollcall.review_mail
    USING (tenant_id = rollcall.current_tenant())
    WITH CHECK (tenant_id = rollcall.current_tenant());
GRANT SELECT, INSERT, UPDATE ON rollcall.review_mail TO rollcall_app;

-- TODO: retention does not remove mail rows yet; they go with their campaign's rows.
