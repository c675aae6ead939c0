-- Revoke decisions of signed-off review campaigns become remediation tasks: removing a
-- directory group membership, or a task for the administrators of the source when the
-- removal cannot be automated. Such a task names the grant and the review item that
-- revoked it, so the sync that verifies the removal also verifies the task.

ALTER TABLE rollcall.remediation_tasks DROP CONSTRAINT remediation_tasks_kind_check;
ALTER TABLE rollcall.remediation_tasks ADD CONSTRAINT remediation_tasks_kind_check
    CHECK (kind IN ('disable_entra_user', 'disable_ldap_account', 'ehr_task', 'epcs_task',
                    'remove_group_member', 'revoke_task'));

-- The entitlement as the source names it for a write: the Entra group's object id, the
-- LDAP group's DN, the EHR role's id. NULL for leaver tasks.
ALTER TABLE rollcall.remediation_tasks ADD COLUMN entitlement_id text;
-- The review item whose revoke decision the task carries out. NULL for leaver tasks.
ALTER TABLE rollcall.remediation_tasks ADD COLUMN campaign_id uuid;
ALTER TABLE rollcall.remediation_tasks ADD COLUMN item_id integer;
ALTER TABLE rollcall.remediation_tasks ADD CONSTRAINT remediation_tasks_review_item_check
    CHECK ((campaign_id IS NULL) = (item_id IS NULL)
           AND (campaign_id IS NULL) = (entitlement_id IS NULL));
