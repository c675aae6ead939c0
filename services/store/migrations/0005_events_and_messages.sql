-- HR events and the ids of processed messages, for consumers that must act once per
-- message although JetStream delivers at least once.

CREATE TABLE rollcall.hr_events (
    tenant_id text NOT NULL REFERENCES rollcall.tenants (tenant_id),
    event_id uuid NOT NULL,
    event_type text NOT NULL
        CHECK (event_type IN ('hire', 'change', 'termination', 'rehire', 'correction')),
    employee_id text NOT NULL CHECK (employee_id <> ''),
    effective_at timestamptz NOT NULL,
    -- The IANA zone the HR system gave the effective date in.
    time_zone text NOT NULL,
    reason text,
    manager_employee_id text,
    received_at timestamptz NOT NULL,
    sender text NOT NULL CHECK (sender IN ('webhook', 'scim', 'roster_file', 'vendor_poll')),
    worker jsonb,
    corrected_event_id uuid,
    PRIMARY KEY (tenant_id, event_id),
    CHECK ((event_type = 'correction') = (corrected_event_id IS NOT NULL))
);

CREATE INDEX hr_events_received ON rollcall.hr_events (tenant_id, received_at);

CREATE TABLE rollcall.processed_messages (
    tenant_id text NOT NULL REFERENCES rollcall.tenants (tenant_id),
    -- The durable consumer name, so two consumers of one stream keep separate records.
    consumer text NOT NULL,
    message_id text NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, consumer, message_id)
);

ALTER TABLE rollcall.hr_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE rollcall.hr_events FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON rollcall.hr_events
    USING (tenant_id = rollcall.current_tenant())
    WITH CHECK (tenant_id = rollcall.current_tenant());

ALTER TABLE rollcall.processed_messages ENABLE ROW LEVEL SECURITY;
ALTER TABLE rollcall.processed_messages FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON rollcall.processed_messages
    USING (tenant_id = rollcall.current_tenant())
    WITH CHECK (tenant_id = rollcall.current_tenant());

GRANT SELECT, INSERT ON rollcall.hr_events TO rollcall_app;
GRANT SELECT, INSERT ON rollcall.processed_messages TO rollcall_app;
