-- The audit log: one hash chain per tenant.
--
-- Entry n stores sha256 = SHA-256(prev_sha256 || canonical content of entry n), with
-- prev_sha256 the sha256 of entry n-1, or the chain's anchor for its first entry. The
-- canonical content is defined in the store crate (audit/hash.rs) and in
-- docs/services/store.md. `detail` is the JSON text exactly as it was hashed, because
-- jsonb would reorder keys and respell numbers.

CREATE TABLE rollcall.audit_chain (
    tenant_id text PRIMARY KEY REFERENCES rollcall.tenants (tenant_id),
    -- Entries up to anchor_seq were removed by retention; anchor_sha256 is the hash of
    -- entry anchor_seq, or 32 zero bytes while nothing was removed.
    anchor_seq bigint NOT NULL CHECK (anchor_seq >= 0),
    anchor_sha256 bytea NOT NULL CHECK (octet_length(anchor_sha256) = 32),
    -- The last entry appended, so a removed newest entry is noticed too.
    head_seq bigint NOT NULL CHECK (head_seq >= anchor_seq),
    head_sha256 bytea NOT NULL CHECK (octet_length(head_sha256) = 32)
);

CREATE TABLE rollcall.audit_log (
    tenant_id text NOT NULL REFERENCES rollcall.audit_chain (tenant_id),
    seq bigint NOT NULL CHECK (seq > 0),
    recorded_at timestamptz NOT NULL,
    actor text NOT NULL,
    action text NOT NULL,
    detail text NOT NULL,
    prev_sha256 bytea NOT NULL CHECK (octet_length(prev_sha256) = 32),
    sha256 bytea NOT NULL CHECK (octet_length(sha256) = 32),
    PRIMARY KEY (tenant_id, seq)
);

ALTER TABLE rollcall.audit_chain ENABLE ROW LEVEL SECURITY;
ALTER TABLE rollcall.audit_chain FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON rollcall.audit_chain
    USING (tenant_id = rollcall.current_tenant())
    WITH CHECK (tenant_id = rollcall.current_tenant());

ALTER TABLE rollcall.audit_log ENABLE ROW LEVEL SECURITY;
ALTER TABLE rollcall.audit_log FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON rollcall.audit_log
    USING (tenant_id = rollcall.current_tenant())
    WITH CHECK (tenant_id = rollcall.current_tenant());

-- No UPDATE on entries: the runtime role appends, and deletes only through retention.
GRANT SELECT, INSERT, UPDATE ON rollcall.audit_chain TO rollcall_app;
GRANT SELECT, INSERT, DELETE ON rollcall.audit_log TO rollcall_app;
