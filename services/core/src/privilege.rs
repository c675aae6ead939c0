//! Which entitlements and accounts count as privileged, from the sources' own markers.
//!
//! An entitlement is privileged when any one of these is true, and the reason names which:
//! - Entra's own `isPrivileged` flag on the role definition (beta API, a preview label);
//! - the role's template id is one Microsoft labels PRIVILEGED in the Entra built-in roles
//!   reference (permissions-reference, revision of January 2026), for exports without
//!   role definitions;
//! - the role is in CISA's "highly privileged" set (SCuBA Entra ID baseline) or in Graph's
//!   `privilegedAdmin` report filter, which name Exchange, SharePoint and Billing
//!   Administrator although Microsoft's label does not;
//! - an AD group whose SID ends in a protected group's RID (Windows Server "Appendix C:
//!   Protected Accounts and Groups in Active Directory", and Samba's `security.idl`);
//! - an EHR reader marks it as controlling EPCS enrolment (athenahealth's identity
//!   verification and EPCS approval roles, "EPCS Setup" on help.athenahealth.com);
//! - the tenant policy marks it privileged (EHR security administration, EPCS).

use crate::model::{Entitlement, EntitlementKind};

/// The reason an entitlement is privileged.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PrivilegeReason {
    /// The source flags the role definition `isPrivileged`.
    SourceFlag,
    /// A built-in Entra role Microsoft labels privileged.
    EntraBuiltinPrivileged,
    /// A role CISA or Graph's `privilegedAdmin` filter treats as privileged.
    EntraHighImpact,
    /// An AD protected group, by the RID of its SID.
    AdProtectedGroup(u32),
    /// It controls who may prescribe controlled substances (EPCS enrolment or approval).
    EpcsControl,
    /// The tenant policy pattern that marks it.
    Policy(String),
}

/// The entitlement attribute an EHR reader sets to `true` on a role that controls EPCS
/// enrolment or its approval.
pub const EPCS_CONTROL_ATTRIBUTE: &str = "ehr.epcs_control";

impl PrivilegeReason {
    /// Describes the reason in plain English for reports.
    pub fn describe(&self) -> String {
        match self {
            PrivilegeReason::SourceFlag => "the source marks this role privileged".into(),
            PrivilegeReason::EntraBuiltinPrivileged => {
                "Microsoft labels this built-in Entra role privileged".into()
            }
            PrivilegeReason::EntraHighImpact => {
                "CISA's Entra baseline treats this role as highly privileged".into()
            }
            PrivilegeReason::AdProtectedGroup(rid) => {
                format!("an Active Directory protected group, RID {rid}")
            }
            PrivilegeReason::EpcsControl => {
                "it controls EPCS enrolment (controlled-substance prescribing)".into()
            }
            PrivilegeReason::Policy(pattern) => {
                format!("marked privileged by the tenant policy pattern `{pattern}`")
            }
        }
    }
}

/// Template ids of the built-in Entra roles labelled PRIVILEGED in Microsoft's built-in
/// roles reference (29 roles).
const ENTRA_PRIVILEGED_TEMPLATES: [(&str, &str); 29] = [
    ("db506228-d27e-4b7d-95e5-295956d6615f", "Agent ID Administrator"),
    ("9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3", "Application Administrator"),
    ("cf1c38e5-3621-4004-a7cb-879624dced7c", "Application Developer"),
    ("ecb2c6bf-0ab6-418e-bd87-7986f8d63bbe", "Attribute Provisioning Administrator"),
    ("422218e4-db15-4ef9-bbe0-8afb41546d79", "Attribute Provisioning Reader"),
    ("c4e39bd9-1100-46d3-8c65-fb160da0071f", "Authentication Administrator"),
    ("25a516ed-2fa0-40ea-a2d0-12923a21473a", "Authentication Extensibility Administrator"),
    ("aaf43236-0c0d-4d5f-883a-6955382ac081", "B2C IEF Keyset Administrator"),
    ("158c047a-c907-4556-b7ef-446551a6b5f7", "Cloud Application Administrator"),
    ("7698a772-787b-4ac8-901f-60d6b08affd2", "Cloud Device Administrator"),
    ("b1be1c3e-b65d-4f19-8427-f6fa0d97feb9", "Conditional Access Administrator"),
    ("9360feb5-f418-4baa-8175-e2a00bac4301", "Directory Writers"),
    ("8329153b-31d0-4727-b945-745eb3bc5f31", "Domain Name Administrator"),
    ("be2f45a1-457d-42af-a067-6ec1fa63bc45", "External Identity Provider Administrator"),
    ("62e90394-69f5-4237-9190-012177145e10", "Global Administrator"),
    ("f2ef992c-3afb-46b9-b7cf-a126ee74c451", "Global Reader"),
    ("729827e3-9c14-49f7-bb1b-9608f156bbb8", "Helpdesk Administrator"),
    ("8ac3fc64-6eca-42ea-9e69-59f4c7b60eb2", "Hybrid Identity Administrator"),
    ("3a2c62db-5318-420d-8d74-23affee5d9d5", "Intune Administrator"),
    ("59d46f88-662b-457b-bceb-5c3809e5908f", "Lifecycle Workflows Administrator"),
    ("4ba39ca4-527c-499a-b93d-d9b492c50246", "Partner Tier1 Support"),
    ("e00e864a-17c5-4a4b-9c06-f5b95a8d5bd8", "Partner Tier2 Support"),
    ("966707d0-3269-4727-9be2-8c3a10f19b9d", "Password Administrator"),
    ("7be44c8a-adaf-4e2a-84d6-ab2649e08a13", "Privileged Authentication Administrator"),
    ("e8611ab8-c189-46e8-94e1-60213ab1f814", "Privileged Role Administrator"),
    ("194ae4cb-b126-40b2-bd5b-6091b380977d", "Security Administrator"),
    ("5f2222b1-57c3-48ba-8ad5-d4759f1fde6f", "Security Operator"),
    ("5d6b6bb7-de71-4623-b4af-96380a352509", "Security Reader"),
    ("fe930be7-5e62-47db-91af-98c3a49a38b1", "User Administrator"),
];

/// Built-in roles without Microsoft's label that CISA's baseline, Graph's
/// `privilegedAdmin` filter or the role's own powers make privileged.
const ENTRA_HIGH_IMPACT_TEMPLATES: [(&str, &str); 6] = [
    ("29232cdf-9323-42fd-ade2-1d097af3e4de", "Exchange Administrator"),
    ("f28a1f50-f6e7-4571-818b-6a12f2af6b6c", "SharePoint Administrator"),
    ("b0f54661-2d74-4c50-afa3-1ec803f12efe", "Billing Administrator"),
    ("0526716b-113d-4c15-b2c8-68e3c22b9f80", "Authentication Policy Administrator"),
    ("d29b2b05-8046-44ba-8758-1e26182fcf32", "Directory Synchronization Accounts"),
    ("9f06204d-73c1-4d4c-880a-6edb90606fd8", "Microsoft Entra Joined Device Local Administrator"),
];

/// Domain-relative RIDs of AD protected groups: Domain Admins (512), Domain Controllers
/// (516), Schema Admins (518), Enterprise Admins (519), Read-only Domain Controllers (521).
/// Cert Publishers (517) and Key Admins (526, 527) are left out: their protected status
/// is not stated in the Windows Server reference.
const AD_PROTECTED_DOMAIN_RIDS: [u32; 5] = [512, 516, 518, 519, 521];

/// RIDs of protected BUILTIN groups (`S-1-5-32-<rid>`): Administrators, Account Operators,
/// Server Operators, Print Operators, Backup Operators, Replicator.
const AD_PROTECTED_BUILTIN_RIDS: [u32; 6] = [544, 548, 549, 550, 551, 552];

/// Account RIDs that are privileged by themselves: the built-in Administrator (500) and
/// krbtgt (502).
pub const AD_PRIVILEGED_ACCOUNT_RIDS: [u32; 2] = [500, 502];

/// Returns the Microsoft name of a built-in privileged Entra role template, if it is one.
pub fn entra_builtin_privileged(template_id: &str) -> Option<&'static str> {
    ENTRA_PRIVILEGED_TEMPLATES
        .iter()
        .find(|(id, _)| id.eq_ignore_ascii_case(template_id))
        .map(|(_, name)| *name)
}

fn entra_high_impact(template_id: &str) -> Option<&'static str> {
    ENTRA_HIGH_IMPACT_TEMPLATES
        .iter()
        .find(|(id, _)| id.eq_ignore_ascii_case(template_id))
        .map(|(_, name)| *name)
}

/// Splits a SID string `S-1-5-21-a-b-c-RID` into its authority part and last RID.
pub fn sid_rid(sid: &str) -> Option<(&str, u32)> {
    let (prefix, rid) = sid.rsplit_once('-')?;
    let rid = rid.parse().ok()?;
    Some((prefix, rid))
}

/// Lists the reasons the source itself gives for `entitlement` being privileged. The
/// tenant policy's own marks are added by the policy, not here.
pub fn source_reasons(entitlement: &Entitlement) -> Vec<PrivilegeReason> {
    let mut reasons = Vec::new();
    if entitlement.source_privileged == Some(true) {
        reasons.push(PrivilegeReason::SourceFlag);
    }
    if entitlement.attributes.get(EPCS_CONTROL_ATTRIBUTE).is_some_and(|value| value == "true") {
        reasons.push(PrivilegeReason::EpcsControl);
    }
    if entitlement.kind == EntitlementKind::DirectoryRole {
        let template = entitlement.role_template_id.as_deref().unwrap_or(&entitlement.id);
        if entra_builtin_privileged(template).is_some() {
            reasons.push(PrivilegeReason::EntraBuiltinPrivileged);
        } else if entra_high_impact(template).is_some() {
            reasons.push(PrivilegeReason::EntraHighImpact);
        }
    }
    if let Some((prefix, rid)) =
        entitlement.sid.as_deref().and_then(sid_rid).filter(|_| entitlement.security_enabled)
    {
        let builtin = prefix.eq_ignore_ascii_case("S-1-5-32");
        let domain = prefix.to_ascii_uppercase().starts_with("S-1-5-21-");
        if (builtin && AD_PROTECTED_BUILTIN_RIDS.contains(&rid))
            || (domain && AD_PROTECTED_DOMAIN_RIDS.contains(&rid))
        {
            reasons.push(PrivilegeReason::AdProtectedGroup(rid));
        }
    }
    reasons
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn global_admin_template_is_privileged() {
        let mut role = Entitlement::new(
            "62e90394-69f5-4237-9190-012177145e10",
            EntitlementKind::DirectoryRole,
            "Global Administrator",
        );
        assert_eq!(source_reasons(&role), vec![PrivilegeReason::EntraBuiltinPrivileged]);
        role.source_privileged = Some(true);
        assert_eq!(source_reasons(&role).len(), 2);
    }

    #[test]
    fn epcs_control_attribute_is_privileged() {
        let mut role = Entitlement::new(
            "Clinicals: EPCS Enrollment Approval",
            EntitlementKind::Role,
            "Clinicals: EPCS Enrollment Approval",
        );
        assert!(source_reasons(&role).is_empty());
        role.attributes.insert(EPCS_CONTROL_ATTRIBUTE.into(), "false".into());
        assert!(source_reasons(&role).is_empty());
        role.attributes.insert(EPCS_CONTROL_ATTRIBUTE.into(), "true".into());
        assert_eq!(source_reasons(&role), vec![PrivilegeReason::EpcsControl]);
    }

    #[test]
    fn exchange_admin_is_high_impact() {
        let role = Entitlement::new(
            "29232CDF-9323-42FD-ADE2-1D097AF3E4DE",
            EntitlementKind::DirectoryRole,
            "Exchange Administrator",
        );
        assert_eq!(source_reasons(&role), vec![PrivilegeReason::EntraHighImpact]);
    }

    #[test]
    fn group_with_role_id_not_privileged() {
        let group = Entitlement::new(
            "62e90394-69f5-4237-9190-012177145e10",
            EntitlementKind::Group,
            "Front desk",
        );
        assert!(source_reasons(&group).is_empty());
    }

    #[test]
    fn protected_groups_found_by_rid() {
        let mut domain_admins = Entitlement::new("g1", EntitlementKind::Group, "Domain Admins");
        domain_admins.sid = Some("S-1-5-21-1004336348-1177238915-682003330-512".into());
        assert_eq!(source_reasons(&domain_admins), vec![PrivilegeReason::AdProtectedGroup(512)]);

        let mut administrators = Entitlement::new("g2", EntitlementKind::Group, "Administrators");
        administrators.sid = Some("S-1-5-32-544".into());
        assert_eq!(source_reasons(&administrators), vec![PrivilegeReason::AdProtectedGroup(544)]);

        let mut domain_users = Entitlement::new("g3", EntitlementKind::Group, "Domain Users");
        domain_users.sid = Some("S-1-5-21-1004336348-1177238915-682003330-513".into());
        assert!(source_reasons(&domain_users).is_empty());
    }

    #[test]
    fn distribution_group_never_privileged() {
        let mut group = Entitlement::new("g1", EntitlementKind::Group, "Domain Admins list");
        group.sid = Some("S-1-5-21-1-2-3-512".into());
        group.security_enabled = false;
        assert!(source_reasons(&group).is_empty());
    }
}
