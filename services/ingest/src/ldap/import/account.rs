//! Mapping user entries to accounts.

use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, SecondsFormat, Utc};
use rollcall_core::model::{Account, AccountMarker, AccountStatus, LastSignIn};

use super::view::{EntryView, Kind, Sink};
use crate::diagnostic::Level;
use crate::ldap::ad::{Sid, UserAccountControl, parse_filetime, parse_generalized_time};

/// The well-known RIDs of privileged domain accounts: 500 is the built-in Administrator,
/// 502 is `krbtgt`, whose key signs every Kerberos ticket.
const PRIVILEGED_RIDS: [u32; 2] = [500, 502];

/// OpenLDAP's ppolicy value of `pwdAccountLockedTime` for an account locked by an
/// administrator until unlocked, rather than at a point in time.
const PERMANENT_LOCK: &str = "000001010000Z";

/// A user entry mapped to an account, with what membership resolution still needs.
#[derive(Debug)]
pub(super) struct MappedUser {
    /// The index of the entry in the views.
    pub view: usize,
    /// The account, without its manager.
    pub account: Account,
    /// The parsed `objectSid`.
    pub sid: Option<Sid>,
    /// The `primaryGroupID`: the RID of the primary group in the user's domain.
    pub primary_group: Option<u32>,
}

/// Maps every entry of kind `User`. A second entry with an id already taken is skipped
/// with a warning.
///
/// `prepared` contains users mapped ahead, by view index, with the diagnostics of their
/// mapping, which are reported here in place of mapping the entry again.
pub(super) fn map_users(
    views: &[EntryView],
    kinds: &[Kind],
    prepared: &mut [Option<PreparedUser>],
    sink: &mut Sink,
) -> Vec<MappedUser> {
    let mut users = Vec::new();
    let mut seen = HashSet::new();
    for (index, (view, kind)) in views.iter().zip(kinds).enumerate() {
        if *kind != Kind::User {
            continue;
        }
        let user = match prepared.get_mut(index).and_then(Option::take) {
            Some(PreparedUser { user, diagnostics }) => {
                sink.replay(diagnostics);
                user
            }
            None => map_user(index, view, sink),
        };
        if !seen.insert(user.account.id.clone()) {
            let message = format!(
                "entry `{}` has the id `{}` of an earlier account, so it was skipped. Check the export for copied objectGUID or entryUUID values.",
                view.dn, user.account.id
            );
            sink.report(Level::Warning, &view.origin, message);
            continue;
        }
        users.push(user);
    }
    users
}

/// A user mapped before the other entries were known, with the diagnostics its mapping
/// produced.
#[derive(Debug)]
pub(super) struct PreparedUser {
    pub user: MappedUser,
    pub diagnostics: Vec<crate::diagnostic::Diagnostic>,
}

/// Maps one user entry on its own, collecting its diagnostics apart, for
/// [`map_users`] to report in order later.
pub(super) fn prepare_user(index: usize, view: &EntryView) -> PreparedUser {
    let mut sink = Sink::new(Vec::new());
    let user = map_user(index, view, &mut sink);
    PreparedUser { user, diagnostics: sink.diagnostics }
}

/// Returns the account or group id of an entry: the `objectGUID` text, else `entryUUID`,
/// else the normalised DN.
pub(super) fn entry_id(view: &EntryView, sink: &mut Sink) -> String {
    if let Some(value) = view.values("objectguid").first() {
        match crate::ldap::ad::guid_from_value(value) {
            Ok(guid) => return guid,
            Err(error) => report_invalid(view, "objectGUID", &error, sink),
        }
    }
    if let Some(value) = view.values("entryuuid").first() {
        match crate::ldap::ad::guid_from_value(value) {
            Ok(uuid) => return uuid,
            Err(error) => report_invalid(view, "entryUUID", &error, sink),
        }
    }
    view.key.clone()
}

/// Parses the entry's `objectSid`, reporting an invalid one.
pub(super) fn entry_sid(view: &EntryView, sink: &mut Sink) -> Option<Sid> {
    let value = view.values("objectsid").first()?;
    Sid::from_value(value).map_err(|error| report_invalid(view, "objectSid", &error, sink)).ok()
}

/// Reports an attribute value that could not be read.
pub(super) fn report_invalid(
    view: &EntryView,
    attribute: &str,
    error: &dyn std::fmt::Display,
    sink: &mut Sink,
) {
    let message =
        format!("entry `{}`: the `{attribute}` value {error}. The value was ignored.", view.dn);
    sink.report(Level::Warning, &view.origin, message);
}

fn map_user(index: usize, view: &EntryView, sink: &mut Sink) -> MappedUser {
    let mut account = Account::new(entry_id(view, sink));
    let sam_account_name = view.text("samaccountname", sink);
    account.login = sam_account_name.clone().or_else(|| view.text("uid", sink));
    account.sam_account_name = sam_account_name;
    account.upn = view.text("userprincipalname", sink);
    account.email = view.text("mail", sink);
    account.employee_id =
        view.text("employeeid", sink).or_else(|| view.text("employeenumber", sink));
    account.display_name = view.text("displayname", sink).or_else(|| view.text("cn", sink));
    account.given_name = view.text("givenname", sink);
    account.family_name = view.text("sn", sink);
    account.job_title = view.text("title", sink);
    account.department = view.text("department", sink);

    let sid = entry_sid(view, sink);
    if let Some(sid) = &sid {
        account.sid = Some(sid.to_string());
        if let Some(rid) =
            sid.rid().filter(|rid| sid.is_domain_account() && PRIVILEGED_RIDS.contains(rid))
        {
            account.markers.push(AccountMarker::AdPrivilegedRid(rid));
        }
    }
    if read_admin_count(view, sink) == Some(1) {
        account.markers.push(AccountMarker::AdAdminCount);
    }

    set_status(&mut account, view, sink);
    account.created_at = created_at(view, sink);
    account.last_sign_in = last_sign_in(view, sink);
    account.attributes = evidence(view, sink);

    let primary_group =
        view.text("primarygroupid", sink).and_then(|text| match text.trim().parse() {
            Ok(rid) => Some(rid),
            Err(_) => {
                report_invalid(view, "primaryGroupID", &format!("`{text}` is not a RID"), sink);
                None
            }
        });
    MappedUser { view: index, account, sid, primary_group }
}

/// Reads `adminCount`, reporting a value that is not an integer.
pub(super) fn read_admin_count(view: &EntryView, sink: &mut Sink) -> Option<i64> {
    let text = view.text("admincount", sink)?;
    match text.trim().parse() {
        Ok(count) => Some(count),
        Err(_) => {
            report_invalid(view, "adminCount", &format!("`{text}` is not an integer"), sink);
            None
        }
    }
}

/// Sets the status from `userAccountControl`, or from the OpenLDAP and 389 Directory
/// Server lock attributes.
///
/// `accountExpires` is not used: whether its instant has passed depends on the time of
/// the scan, and the mapping has no clock. It is kept in the attributes so a rule can
/// compare it with the snapshot time.
fn set_status(account: &mut Account, view: &EntryView, sink: &mut Sink) {
    if let Some(text) = view.text("useraccountcontrol", sink) {
        account.status_raw = Some(format!("userAccountControl: {text}"));
        account.status = match UserAccountControl::parse(&text) {
            Ok(uac) if uac.is_disabled() => AccountStatus::Disabled,
            Ok(_) => AccountStatus::Enabled,
            Err(error) => {
                report_invalid(view, "userAccountControl", &error, sink);
                AccountStatus::Unknown
            }
        };
        return;
    }
    if let Some(text) = view.text("pwdaccountlockedtime", sink) {
        account.status = AccountStatus::Disabled;
        account.status_raw = Some(format!("pwdAccountLockedTime: {text}"));
        if text.trim() != PERMANENT_LOCK {
            account.status_since = parse_generalized_time(&text)
                .map_err(|error| report_invalid(view, "pwdAccountLockedTime", &error, sink))
                .ok();
        }
        return;
    }
    if let Some(text) = view.text("nsaccountlock", sink) {
        account.status_raw = Some(format!("nsAccountLock: {text}"));
        if text.trim().eq_ignore_ascii_case("true") {
            account.status = AccountStatus::Disabled;
        }
        return;
    }
    // An AD user exported without `userAccountControl` gives no state. Other directories
    // have no disable flag, so an entry without a lock attribute can bind.
    if view.object_classes().iter().any(|class| class == "user") {
        account.status = AccountStatus::Unknown;
    }
}

fn created_at(view: &EntryView, sink: &mut Sink) -> Option<DateTime<Utc>> {
    for (name, label) in [("whencreated", "whenCreated"), ("createtimestamp", "createTimestamp")] {
        if let Some(text) = view.text(name, sink) {
            match parse_generalized_time(&text) {
                Ok(instant) => return Some(instant),
                Err(error) => report_invalid(view, label, &error, sink),
            }
        }
    }
    None
}

/// Reads the last sign-in from AD `lastLogonTimestamp` or OpenLDAP `authTimestamp`.
///
/// `lastLogonTimestamp` is replicated only when it is older than
/// `msDS-LogonTimeSyncInterval` (14 days by default), so it can lag the real last sign-in
/// by up to 14 days. 0 means the account never signed in since the attribute existed.
fn last_sign_in(view: &EntryView, sink: &mut Sink) -> LastSignIn {
    if let Some(text) = view.text("lastlogontimestamp", sink) {
        match parse_filetime(&text) {
            Ok(Some(instant)) => return LastSignIn::At(instant),
            Ok(None) => return LastSignIn::Never,
            Err(error) => report_invalid(view, "lastLogonTimestamp", &error, sink),
        }
    }
    if let Some(text) = view.text("authtimestamp", sink) {
        match parse_generalized_time(&text) {
            Ok(instant) => return LastSignIn::At(instant),
            Err(error) => report_invalid(view, "authTimestamp", &error, sink),
        }
    }
    LastSignIn::Unknown
}

/// Raw values kept as evidence, by their usual spelling.
const RAW_ATTRIBUTES: [(&str, &str); 10] = [
    ("useraccountcontrol", "userAccountControl"),
    ("msds-user-account-control-computed", "msDS-User-Account-Control-Computed"),
    ("admincount", "adminCount"),
    ("lastlogontimestamp", "lastLogonTimestamp"),
    ("accountexpires", "accountExpires"),
    ("pwdlastset", "pwdLastSet"),
    ("pwdaccountlockedtime", "pwdAccountLockedTime"),
    ("authtimestamp", "authTimestamp"),
    ("primarygroupid", "primaryGroupID"),
    ("nsaccountlock", "nsAccountLock"),
];

/// Builds the evidence map: the DN, object classes, the raw status and time attributes,
/// the flag names of the account-control words, and each FILETIME decoded as UTC under
/// `<name>.utc`.
fn evidence(view: &EntryView, sink: &mut Sink) -> BTreeMap<String, String> {
    let mut attributes = BTreeMap::new();
    attributes.insert("distinguishedName".to_owned(), view.dn.clone());
    let classes = view.texts("objectclass", sink);
    if !classes.is_empty() {
        attributes.insert("objectClass".to_owned(), classes.join(", "));
    }
    for (name, label) in RAW_ATTRIBUTES {
        if let Some(text) = view.text(name, sink) {
            attributes.insert(label.to_owned(), text);
        }
    }
    for label in ["userAccountControl", "msDS-User-Account-Control-Computed"] {
        let flags = attributes.get(label).and_then(|text| UserAccountControl::parse(text).ok());
        if let Some(flags) = flags {
            attributes.insert(format!("{label}.flags"), flags.flag_names().join(", "));
        }
    }
    // What 0 (or the maximum) means for each FILETIME attribute.
    let unset_meanings = [
        ("lastLogonTimestamp", "never"),
        ("accountExpires", "never"),
        ("pwdLastSet", "not set (change required at next sign-in)"),
    ];
    for (label, unset) in unset_meanings {
        let decoded = attributes.get(label).and_then(|text| parse_filetime(text).ok());
        if let Some(decoded) = decoded {
            let text = decoded.map_or_else(
                || unset.to_owned(),
                |instant| instant.to_rfc3339_opts(SecondsFormat::Secs, true),
            );
            attributes.insert(format!("{label}.utc"), text);
        }
    }
    attributes
}
