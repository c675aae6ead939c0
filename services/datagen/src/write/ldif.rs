//! An Active Directory export as `ldapsearch -LLL` prints it (RFC 2849 LDIF), taken
//! without `lastLogonTimestamp`.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::path::Path;

use anyhow::Result;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::TimeDelta;

use super::file;
use crate::spec::TenantSpec;

/// `groupType` of a global security group, as AD returns it (signed).
const GLOBAL_SECURITY: i64 = -2_147_483_646;

/// The binary form of a SID: revision, sub-authority count, 48-bit big-endian authority,
/// then each sub-authority as a little-endian u32 ([MS-DTYP] 2.4.2.2).
pub fn sid_bytes(sid: &str) -> Vec<u8> {
    let parts: Vec<u64> =
        sid.trim_start_matches("S-").split('-').filter_map(|p| p.parse().ok()).collect();
    let mut bytes = Vec::new();
    let revision = parts.first().copied().unwrap_or(1);
    let authority = parts.get(1).copied().unwrap_or(5);
    let subs = parts.get(2..).unwrap_or(&[]);
    bytes.push(u8::try_from(revision).unwrap_or(1));
    bytes.push(u8::try_from(subs.len()).unwrap_or(0));
    bytes.extend_from_slice(&authority.to_be_bytes()[2..]);
    for sub in subs {
        bytes.extend_from_slice(&u32::try_from(*sub).unwrap_or(0).to_le_bytes());
    }
    bytes
}

fn attr(out: &mut String, name: &str, value: &str) {
    let safe = !value.is_empty()
        && value.bytes().all(|b| (0x20..0x7f).contains(&b))
        && !value.starts_with([' ', ':', '<'])
        && !value.ends_with(' ');
    if safe {
        let _ = writeln!(out, "{name}: {value}");
    } else {
        let _ = writeln!(out, "{name}:: {}", STANDARD.encode(value.as_bytes()));
    }
}

fn binary(out: &mut String, name: &str, value: &[u8]) {
    let _ = writeln!(out, "{name}:: {}", STANDARD.encode(value));
}

fn group_dn(spec: &TenantSpec, name: &str, builtin: bool) -> String {
    if builtin {
        format!("CN={name},CN=Users,{}", spec.base_dn)
    } else {
        format!("CN={name},OU=Groups,{}", spec.base_dn)
    }
}

/// Writes `ldap/directory.ldif` of `spec`.
pub fn write(spec: &TenantSpec, dir: &Path) -> Result<()> {
    let mut out = String::from(
        "# Active Directory export of the synthetic practice, as ldapsearch prints it.\n# Taken without lastLogonTimestamp.\nversion: 1\n\n",
    );
    let created = (spec.reference - TimeDelta::days(900)).format("%Y%m%d%H%M%S.0Z").to_string();
    let mut user_dns = Vec::new();
    for (index, person) in spec.people.iter().enumerate() {
        let Some(user) = &person.ad else { continue };
        let cn = user.cn.clone().unwrap_or_else(|| person.name());
        let dn = format!("CN={cn},OU=Staff,{}", spec.base_dn);
        attr(&mut out, "dn", &dn);
        for class in ["top", "person", "organizationalPerson", "user"] {
            attr(&mut out, "objectClass", class);
        }
        attr(&mut out, "cn", &cn);
        attr(&mut out, "sAMAccountName", &user.sam);
        attr(&mut out, "userPrincipalName", &format!("{}@{}", person.handle(), spec.domain));
        attr(&mut out, "givenName", &person.given);
        attr(&mut out, "sn", &person.family);
        attr(&mut out, "displayName", &person.name());
        attr(&mut out, "mail", &format!("{}@{}", person.handle(), spec.domain));
        attr(&mut out, "title", &person.title);
        attr(&mut out, "department", &person.department);
        if let Some(id) = person.employee_id.as_ref().filter(|_| user.with_employee_id) {
            attr(&mut out, "employeeID", id);
        }
        attr(&mut out, "userAccountControl", if user.enabled { "512" } else { "514" });
        if user.admin_count {
            attr(&mut out, "adminCount", "1");
        }
        binary(&mut out, "objectSid", &sid_bytes(&format!("{}-{}", spec.domain_sid, user.rid)));
        let mut guid = [0u8; 16];
        guid[..4].copy_from_slice(&0x4144_0000u32.to_le_bytes());
        guid[8..16].copy_from_slice(&(index as u64).to_be_bytes());
        binary(&mut out, "objectGUID", &guid);
        attr(&mut out, "whenCreated", &created);
        out.push('\n');
        user_dns.push((dn, user));
    }
    // Members per group, in account order, so that large tenants are written in linear time.
    let mut members_of: HashMap<&str, Vec<&str>> = HashMap::new();
    for (dn, user) in &user_dns {
        let mut seen = HashSet::new();
        for group in &user.groups {
            if seen.insert(group.as_str()) {
                members_of.entry(group.as_str()).or_default().push(dn.as_str());
            }
        }
    }
    for (name, rid) in &spec.ad_groups {
        let builtin = rid.is_some();
        attr(&mut out, "dn", &group_dn(spec, name, builtin));
        attr(&mut out, "objectClass", "top");
        attr(&mut out, "objectClass", "group");
        attr(&mut out, "cn", name);
        attr(&mut out, "groupType", &GLOBAL_SECURITY.to_string());
        let rid = rid.unwrap_or(5000 + u32::try_from(out.len() % 1000).unwrap_or(0));
        binary(&mut out, "objectSid", &sid_bytes(&format!("{}-{rid}", spec.domain_sid)));
        if builtin {
            attr(&mut out, "adminCount", "1");
        }
        for dn in members_of.get(name.as_str()).map_or(&[][..], Vec::as_slice) {
            attr(&mut out, "member", dn);
        }
        for (child, parent) in &spec.ad_nesting {
            if parent == name {
                let child_builtin = spec.ad_groups.iter().any(|(n, r)| n == child && r.is_some());
                attr(&mut out, "member", &group_dn(spec, child, child_builtin));
            }
        }
        out.push('\n');
    }
    file(dir, "ldap/directory.ldif", out.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sid_binary_layout() {
        let bytes = sid_bytes("S-1-5-21-1-2-3-512");
        assert_eq!(bytes[0], 1);
        assert_eq!(bytes[1], 5);
        assert_eq!(&bytes[2..8], &[0, 0, 0, 0, 0, 5]);
        assert_eq!(&bytes[8..12], &21u32.to_le_bytes());
        assert_eq!(&bytes[24..28], &512u32.to_le_bytes());
    }
}
