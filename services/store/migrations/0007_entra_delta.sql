-- The Entra ID connector's delta state per tenant: the delta links of the last complete
-- sync and the directory objects the next delta round is applied to.

CREATE TABLE rollcall.entra_delta_state (
    tenant_id text PRIMARY KEY REFERENCES rollcall.tenants (tenant_id),
    -- The `@odata.deltaLink` URLs Graph returned at the end of the last delta round.
    users_delta_link text NOT NULL CHECK (users_delta_link <> ''),
    groups_delta_link text NOT NULL CHECK (groups_delta_link <> ''),
    -- Users, groups and transitive members as Graph sent them, in the connector's shape.
    directory jsonb NOT NULL,
    saved_at timestamptz NOT NULL
);

ALTER TABLE rollcall.entra_delta_state ENABLE ROW LEVEL SECURITY;
ALTER TABLE rollcall.entra_delta_state FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON rollcall.entra_delta_state
    USING (tenant_id = rollcall.current_tenant())
    WITH CHECK (tenant_id = rollcall.current_tenant());

GRANT SELECT, INSERT, UPDATE, DELETE ON rollcall.entra_delta_state TO rollcall_app;
