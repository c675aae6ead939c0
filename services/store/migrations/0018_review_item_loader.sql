-- A campaign launch stores its items with one COPY into rollcall.review_items.
--
-- PostgreSQL rejects COPY FROM into a table whose row-level security applies to the
-- current role, so the runtime role switches to `rollcall_review_loader` for the COPY
-- (SET LOCAL ROLE, so the switch ends with the transaction). That role has BYPASSRLS and
-- no privilege but INSERT on this one table: it can neither read nor change any row.
-- In place of the policy's WITH CHECK, the trigger below rejects every inserted row whose
-- tenant_id is not the transaction's `rollcall.tenant_id`, for every role.
--
-- The role is optional. A superuser creates it, as it creates rollcall_app:
--   CREATE ROLE rollcall_review_loader NOLOGIN BYPASSRLS;
--   GRANT rollcall_review_loader TO rollcall_app;
-- and this migration grants it INSERT when it exists. Without the role, the store copies
-- the items into a temporary table and inserts them from there, which writes every row
-- twice. The store checks the role's privileges at start (rollcall_store::RoleError).

-- Raised only from the trigger's WHEN condition, so a row of the right tenant calls no
-- PL/pgSQL. SQLSTATE 42501 is the one a WITH CHECK violation raises.
CREATE FUNCTION rollcall.reject_other_tenant_item() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    RAISE EXCEPTION 'review item % of campaign % has tenant_id `%`, but the transaction is for tenant `%`',
        NEW.item_id, NEW.campaign_id, NEW.tenant_id, coalesce(rollcall.current_tenant(), 'none')
        USING ERRCODE = 'insufficient_privilege';
END
$$;

-- AFTER, not BEFORE: a BEFORE ROW trigger makes COPY insert one row at a time instead of
-- in batches. The condition repeats rollcall.current_tenant() inline because trigger
-- conditions are not planned, so a SQL function there would run once per row.
CREATE TRIGGER review_items_same_tenant
    AFTER INSERT ON rollcall.review_items
    FOR EACH ROW
    WHEN (NEW.tenant_id IS DISTINCT FROM NULLIF(current_setting('rollcall.tenant_id', true), ''))
    EXECUTE FUNCTION rollcall.reject_other_tenant_item();

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'rollcall_review_loader') THEN
        GRANT USAGE ON SCHEMA rollcall TO rollcall_review_loader;
        GRANT INSERT ON rollcall.review_items TO rollcall_review_loader;
    END IF;
END
$$;
