//! Disabling an LDAP or Active Directory account.

use ldap3::Mod;
use rollcall_ingest::ldap::ad::UserAccountControl;
use rollcall_ldap_connector::client::Session;
use serde_json::{Value, json};

/// The method that disables an account in a directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LdapDisable {
    /// Active Directory and Samba AD: set the ACCOUNTDISABLE bit (0x2) of
    /// `userAccountControl`, keeping every other bit. The value is read, then replaced in
    /// one modify request that deletes the value read and adds the new one, so the
    /// server rejects the write when another writer changed the value in between.
    ActiveDirectory,
    /// Other LDAP servers: replace the values of `attribute` with `value`. With the
    /// OpenLDAP ppolicy overlay, `pwdAccountLockedTime` set to `000001010000Z` locks the
    /// account until an administrator unlocks it. A directory that marks leavers in an
    /// attribute of its own (a status attribute) uses that attribute and value.
    Attribute {
        /// The attribute, such as `pwdAccountLockedTime`.
        attribute: String,
        /// The value that disables the account, such as `000001010000Z`.
        value: String,
    },
}

/// The `userAccountControl` flag that the LDIF mapping reads as a disabled account.
const ACCOUNTDISABLE: i64 = UserAccountControl::ACCOUNTDISABLE as i64;
const USER_ACCOUNT_CONTROL: &str = "userAccountControl";
/// Read-modify-write attempts when another writer changes `userAccountControl` between
/// the read and the write.
const MAX_WRITE_ATTEMPTS: u32 = 3;
/// LDAP result codes (RFC 4511 section 4.1.9) of a delete of a value that is gone, and
/// of an add of a value that exists: both mean the value changed since it was read.
const NO_SUCH_ATTRIBUTE: u32 = 16;
const ATTRIBUTE_OR_VALUE_EXISTS: u32 = 20;

/// Disables the account at `dn`. Returns the audit detail of what was done, or the
/// reason it failed.
pub(crate) async fn disable_account(
    session: &mut Session,
    dn: &str,
    method: &LdapDisable,
) -> Result<Value, String> {
    if !dn.contains('=') {
        return Err(format!(
            "`{dn}` is not a distinguished name; the target must carry the account's DN"
        ));
    }
    match method {
        LdapDisable::ActiveDirectory => set_account_disable(session, dn).await,
        LdapDisable::Attribute { attribute, value } => {
            set_attribute(session, dn, attribute, value).await
        }
    }
}

async fn set_account_disable(session: &mut Session, dn: &str) -> Result<Value, String> {
    for _ in 0..MAX_WRITE_ATTEMPTS {
        let entry = session
            .read_base(dn, &[USER_ACCOUNT_CONTROL.to_owned()])
            .await
            .map_err(|error| error.to_string())?
            .ok_or_else(|| format!("the entry `{dn}` does not exist"))?;
        let raw = entry
            .values(USER_ACCOUNT_CONTROL)
            .first()
            .map(|value| String::from_utf8_lossy(value).into_owned())
            .ok_or_else(|| {
                format!("`{dn}` has no userAccountControl; is it an Active Directory user?")
            })?;
        let before: i64 = raw
            .trim()
            .parse()
            .map_err(|_| format!("userAccountControl of `{dn}` is `{raw}`, not a number"))?;
        if before & ACCOUNTDISABLE != 0 {
            return Ok(json!({ "user_account_control": before, "already_disabled": true }));
        }
        let after = before | ACCOUNTDISABLE;
        let changes = vec![
            Mod::Delete(USER_ACCOUNT_CONTROL.as_bytes().to_vec(), [raw.into_bytes()].into()),
            Mod::Add(
                USER_ACCOUNT_CONTROL.as_bytes().to_vec(),
                [after.to_string().into_bytes()].into(),
            ),
        ];
        let (rc, text) = session.modify(dn, changes).await.map_err(|error| error.to_string())?;
        match rc {
            0 => {
                tracing::info!(dn, before, after, "directory account disabled");
                return Ok(
                    json!({ "user_account_control_before": before, "user_account_control": after }),
                );
            }
            NO_SUCH_ATTRIBUTE | ATTRIBUTE_OR_VALUE_EXISTS => {
                tracing::info!(
                    dn,
                    rc,
                    "userAccountControl changed since it was read, reading again"
                );
            }
            _ => return Err(modify_failure(dn, rc, &text)),
        }
    }
    Err(format!(
        "userAccountControl of `{dn}` changed between read and write {MAX_WRITE_ATTEMPTS} times; the next run tries again"
    ))
}

async fn set_attribute(
    session: &mut Session,
    dn: &str,
    attribute: &str,
    value: &str,
) -> Result<Value, String> {
    let entry = session
        .read_base(dn, &[attribute.to_owned()])
        .await
        .map_err(|error| error.to_string())?
        .ok_or_else(|| format!("the entry `{dn}` does not exist"))?;
    let current = entry.values(attribute);
    if current.len() == 1 && current.first().is_some_and(|v| v.as_slice() == value.as_bytes()) {
        return Ok(json!({ "attribute": attribute, "value": value, "already_disabled": true }));
    }
    let changes =
        vec![Mod::Replace(attribute.as_bytes().to_vec(), [value.as_bytes().to_vec()].into())];
    let (rc, text) = session.modify(dn, changes).await.map_err(|error| error.to_string())?;
    if rc != 0 {
        return Err(modify_failure(dn, rc, &text));
    }
    tracing::info!(dn, attribute, "directory account disabled");
    Ok(json!({ "attribute": attribute, "value": value }))
}

/// The group attributes that hold members by DN: `member` (groupOfNames, Active
/// Directory) and `uniqueMember` (groupOfUniqueNames).
const MEMBER_ATTRIBUTES: [&str; 2] = ["member", "uniqueMember"];

/// Removes the account `member_dn` from the group `group_dn`: one modify request that
/// deletes the member's value, spelled as the group stores it. A group that no longer
/// lists the account is left as it is and reported done.
pub(crate) async fn remove_member(
    session: &mut Session,
    group_dn: &str,
    member_dn: &str,
) -> Result<Value, String> {
    for (dn, what) in [(group_dn, "group"), (member_dn, "account")] {
        if !dn.contains('=') {
            return Err(format!(
                "`{dn}` is not a distinguished name; the {what} must be named by its DN"
            ));
        }
    }
    let attributes: Vec<String> = MEMBER_ATTRIBUTES.iter().map(|name| (*name).to_owned()).collect();
    let entry = session
        .read_base(group_dn, &attributes)
        .await
        .map_err(|error| error.to_string())?
        .ok_or_else(|| format!("the group `{group_dn}` does not exist"))?;
    let wanted = normalize_dn(member_dn);
    // The group may spell the DN with other case or spacing than the account's entry.
    let found = MEMBER_ATTRIBUTES.iter().find_map(|attribute| {
        entry
            .values(attribute)
            .iter()
            .find(|value| normalize_dn(&String::from_utf8_lossy(value)) == wanted)
            .map(|value| (*attribute, value.clone()))
    });
    let Some((attribute, value)) = found else {
        return Ok(json!({ "group": group_dn, "member_removed": false, "not_a_member": true }));
    };
    let changes = vec![Mod::Delete(attribute.as_bytes().to_vec(), [value].into())];
    let (rc, text) = session.modify(group_dn, changes).await.map_err(|error| error.to_string())?;
    match rc {
        0 => {
            tracing::info!(group = group_dn, member = member_dn, attribute, "group member removed");
            Ok(json!({ "group": group_dn, "attribute": attribute, "member_removed": true }))
        }
        // Another writer removed the value between the read and the write.
        NO_SUCH_ATTRIBUTE => {
            Ok(json!({ "group": group_dn, "member_removed": false, "not_a_member": true }))
        }
        // groupOfNames needs one member; removing the last is refused with 65.
        65 => Err(format!(
            "removing `{member_dn}` from `{group_dn}` failed with result code 65 (object class violation): it is the group's last member, which groupOfNames requires; remove it by hand or add another member first"
        )),
        _ => Err(modify_failure(group_dn, rc, &text)),
    }
}

/// Returns `dn` in one spelling for comparison: lowercase, without spaces around the
/// `,` and `=` that separate its parts, and with every escape (`\,` or `\2C`, RFC 4514)
/// written as a backslash and the character. Enough to match the spelling a group
/// stores with the entry's DN, not a full RFC 4514 canonical form.
fn normalize_dn(dn: &str) -> String {
    let mut parts: Vec<String> = vec![String::new()];
    let mut chars = dn.chars().peekable();
    while let Some(c) = chars.next() {
        let Some(current) = parts.last_mut() else { break };
        match c {
            '\\' => {
                let first = chars.next();
                let hex: String = first.into_iter().chain(chars.peek().copied()).collect();
                let decoded = match u8::from_str_radix(&hex, 16) {
                    Ok(byte) if hex.len() == 2 && byte.is_ascii() => {
                        chars.next();
                        char::from(byte)
                    }
                    _ => first.unwrap_or('\\'),
                };
                current.push('\\');
                current.extend(decoded.to_lowercase());
            }
            ',' | '=' => {
                let trimmed = current.trim().to_owned();
                *current = trimmed;
                parts.push(c.to_string());
                parts.push(String::new());
            }
            _ => current.extend(c.to_lowercase()),
        }
    }
    parts.iter().map(|part| part.trim()).collect()
}

/// Describes why a modify failed, with the fix for the usual result codes.
fn modify_failure(dn: &str, rc: u32, text: &str) -> String {
    let hint = match rc {
        32 => "the entry does not exist",
        50 => "the bind account may not write this attribute; grant it write access",
        17 | 21 => {
            "the directory's schema does not allow this attribute or value; check the configured attribute"
        }
        53 => "the server refused the change (unwilling to perform)",
        _ => "see the server's log for the cause",
    };
    format!("modifying `{dn}` failed with result code {rc}{text}: {hint}")
}

#[cfg(test)]
mod tests {
    use super::normalize_dn;

    #[test]
    fn dn_spellings_compare_equal() {
        let stored = normalize_dn("CN=Reyes\\, Ana (Locum), OU=Staff,DC=clinic,DC=example");
        assert_eq!(stored, normalize_dn("cn=Reyes\\2C Ana (Locum),ou=Staff,dc=clinic,dc=example"));
        assert_eq!(stored, "cn=reyes\\, ana (locum),ou=staff,dc=clinic,dc=example");
        assert_ne!(stored, normalize_dn("cn=Reyes,ou=Staff,dc=clinic,dc=example"));
    }
}
