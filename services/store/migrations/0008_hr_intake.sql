-- Users provisioned over SCIM 2.0 (RFC 7643, RFC 7644) by a tenant's HR system, for the HR
-- webhook service. The columns beside `resource` are the attributes the service filters
-- on and the HR employee id it puts in the HR events it derives from changes.

CREATE TABLE rollcall.scim_users (
    tenant_id text NOT NULL REFERENCES rollcall.tenants (tenant_id),
    -- The SCIM `id`, assigned by the service.
    user_id uuid NOT NULL,
    user_name text NOT NULL CHECK (user_name <> ''),
    external_id text,
    -- The enterprise extension's `employeeNumber`.
    employee_number text,
    -- The `value` of the `emails` entry of type `work`, lowercased.
    work_email text,
    -- `employee_number` when set, else `external_id`.
    employee_id text NOT NULL CHECK (employee_id <> ''),
    active boolean NOT NULL,
    -- The User as the sender last wrote it, without `id` and `meta`.
    resource jsonb NOT NULL,
    -- Raised by one on every change; the SCIM `meta.version` and the guard against lost
    -- updates between two concurrent writers.
    version bigint NOT NULL CHECK (version > 0),
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, user_id)
);

-- RFC 7643 section 4.1.1: `userName` is unique within the service provider and not case
-- sensitive.
CREATE UNIQUE INDEX scim_users_user_name ON rollcall.scim_users (tenant_id, lower(user_name));
CREATE INDEX scim_users_external_id ON rollcall.scim_users (tenant_id, external_id);
CREATE INDEX scim_users_employee_number ON rollcall.scim_users (tenant_id, employee_number);
CREATE INDEX scim_users_work_email ON rollcall.scim_users (tenant_id, work_email);

ALTER TABLE rollcall.scim_users ENABLE ROW LEVEL SECURITY;
ALTER TABLE rollcall.scim_users FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON rollcall.scim_users
    USING (tenant_id = rollcall.current_tenant())
    WITH CHECK (tenant_id = rollcall.current_tenant());

GRANT SELECT, INSERT, UPDATE, DELETE ON rollcall.scim_users TO rollcall_app;
