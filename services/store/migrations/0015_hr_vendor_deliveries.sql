-- Deliveries from HR vendors (BambooHR, HiBob, Gusto, Paychex, Paylocity, Rippling, ADP)
-- and the daily poll, for the HR webhook service. No vendor's delivery carries the
-- termination date, so a delivery is committed here before the vendor gets its 2xx, and
-- the service then reads the worker back from the vendor's API until the read succeeds.
-- The request body is not stored: only the ids needed for the read.

CREATE TABLE rollcall.hr_vendor_deliveries (
    tenant_id text NOT NULL REFERENCES rollcall.tenants (tenant_id),
    -- UUID v5 of the vendor's event id or deduplication fields where the vendor has
    -- them, so a redelivery is one row; a random UUID otherwise.
    delivery_id uuid NOT NULL,
    vendor text NOT NULL CHECK (vendor <> ''),
    -- The vendor's id of the worker to read back.
    worker_id text NOT NULL CHECK (worker_id <> ''),
    -- The vendor's event name, such as `employee.left`, or `poll`.
    event text NOT NULL,
    -- `webhook` for a pushed or queued vendor event, `vendor_poll` for the daily poll.
    sender text NOT NULL CHECK (sender IN ('webhook', 'vendor_poll')),
    received_at timestamptz NOT NULL,
    -- Failed reads so far, and when the next one is due.
    attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at timestamptz NOT NULL,
    -- The last failure, without secrets or response bodies.
    last_error text,
    resolved_at timestamptz,
    -- The HR event the read produced, when it changed the worker's known state.
    event_id uuid,
    PRIMARY KEY (tenant_id, delivery_id)
);

-- TODO: nothing removes resolved deliveries yet. The daily poll adds one row per worker
-- and vendor, about 110,000 rows a year for a practice of 300 workers.
CREATE INDEX hr_vendor_deliveries_due ON rollcall.hr_vendor_deliveries (tenant_id, next_attempt_at)
    WHERE resolved_at IS NULL;

-- What Rollcall last read about each vendor worker, so a read that shows no change
-- records nothing, and a termination that disappears (rescinded or corrected) is
-- reversed with a correction of the termination event recorded for it.
CREATE TABLE rollcall.hr_vendor_workers (
    tenant_id text NOT NULL REFERENCES rollcall.tenants (tenant_id),
    vendor text NOT NULL CHECK (vendor <> ''),
    worker_id text NOT NULL CHECK (worker_id <> ''),
    -- The instant employment ends as last read; NULL when the worker was last read active.
    terminated_at timestamptz,
    -- The termination event recorded for `terminated_at`.
    termination_event_id uuid,
    checked_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, vendor, worker_id),
    CHECK ((terminated_at IS NULL) = (termination_event_id IS NULL))
);

ALTER TABLE rollcall.hr_vendor_deliveries ENABLE ROW LEVEL SECURITY;
ALTER TABLE rollcall.hr_vendor_deliveries FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON rollcall.hr_vendor_deliveries
    USING (tenant_id = rollcall.current_tenant())
    WITH CHECK (tenant_id = rollcall.current_tenant());

ALTER TABLE rollcall.hr_vendor_workers ENABLE ROW LEVEL SECURITY;
ALTER TABLE rollcall.hr_vendor_workers FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON rollcall.hr_vendor_workers
    USING (tenant_id = rollcall.current_tenant())
    WITH CHECK (tenant_id = rollcall.current_tenant());

GRANT SELECT, INSERT, UPDATE ON rollcall.hr_vendor_deliveries TO rollcall_app;
GRANT SELECT, INSERT, UPDATE ON rollcall.hr_vendor_workers TO rollcall_app;
