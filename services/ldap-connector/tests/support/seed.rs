//! Synthetic directories for slapd, in LDIF for slapadd.
//!
//! [`harborview`] derives an OpenLDAP directory from the example practice's Active
//! Directory export (`examples/harborview/ldap/directory.ldif`): each AD user becomes an
//! `inetOrgPerson` (`sAMAccountName` as `uid`, `employeeID` as `employeeNumber`), each
//! group a `groupOfNames`, and disabled accounts (`ACCOUNTDISABLE`) get the ppolicy lock
//! `pwdAccountLockedTime`. Additions exercise what the export lacks: names with commas,
//! parentheses and non-ASCII letters, a cycle of nested groups, a group outside
//! `ou=Clinic` whose members link back into it, and a referral to a branch server.

use std::fmt::Write as _;
use std::path::Path;

use base64::Engine as _;
use rollcall_ingest::ldap::LdapEntry;

use super::slapd::{SERVICE_DN, SERVICE_PASSWORD, SUFFIX};

/// The URL of the referral entry `ou=Branch` in [`harborview`].
pub const BRANCH_REFERRAL: &str =
    "ldap://branch.harborview.example/ou=Branch,dc=harborview,dc=example";

/// The base of the practice's users and groups.
pub const CLINIC: &str = "ou=Clinic,dc=harborview,dc=example";

/// Writes `name: value`, or `name:: base64` when RFC 2849 does not allow the value as a
/// safe string.
fn line(out: &mut String, name: &str, value: &str) {
    let safe = value.is_ascii()
        && !value.starts_with([' ', ':', '<'])
        && !value.ends_with(' ')
        && !value.contains(['\n', '\r', '\0']);
    if safe {
        let _ = writeln!(out, "{name}: {value}");
    } else {
        let encoded = base64::engine::general_purpose::STANDARD.encode(value.as_bytes());
        let _ = writeln!(out, "{name}:: {encoded}");
    }
}

/// Escapes an RDN value per RFC 4514 section 2.4.
fn rdn_value(value: &str) -> String {
    let mut out = String::new();
    for (index, c) in value.chars().enumerate() {
        match c {
            ',' | '+' | '"' | '\\' | '<' | '>' | ';' | '=' => {
                out.push('\\');
                out.push(c);
            }
            '#' if index == 0 => out.push_str("\\#"),
            ' ' if index == 0 => out.push_str("\\ "),
            _ => out.push(c),
        }
    }
    if out.ends_with(' ') {
        out.pop();
        out.push_str("\\ ");
    }
    out
}

/// A user to write.
pub struct User {
    pub cn: String,
    pub given: String,
    pub sn: String,
    pub uid: String,
    pub mail: String,
    pub title: String,
    pub employee_number: Option<String>,
    pub disabled: bool,
}

impl User {
    pub fn dn(&self) -> String {
        format!("cn={},ou=Staff,{CLINIC}", rdn_value(&self.cn))
    }

    fn write(&self, out: &mut String) {
        line(out, "dn", &self.dn());
        for class in ["top", "person", "organizationalPerson", "inetOrgPerson"] {
            line(out, "objectClass", class);
        }
        line(out, "cn", &self.cn);
        line(out, "sn", &self.sn);
        line(out, "givenName", &self.given);
        line(out, "displayName", &self.cn);
        line(out, "uid", &self.uid);
        line(out, "mail", &self.mail);
        line(out, "title", &self.title);
        if let Some(number) = &self.employee_number {
            line(out, "employeeNumber", number);
        }
        if self.disabled {
            // The ppolicy value for a lock with no end.
            line(out, "pwdAccountLockedTime", "000001010000Z");
        }
        out.push('\n');
    }
}

/// A group to write; `members` are DNs.
pub struct Group {
    pub dn: String,
    pub cn: String,
    pub members: Vec<String>,
}

impl Group {
    fn write(&self, out: &mut String) {
        line(out, "dn", &self.dn);
        line(out, "objectClass", "top");
        line(out, "objectClass", "groupOfNames");
        line(out, "cn", &self.cn);
        for member in &self.members {
            line(out, "member", member);
        }
        out.push('\n');
    }
}

/// The entries every test directory has: the suffix, the OUs and the service account.
fn frame(out: &mut String) {
    let _ = write!(
        out,
        "dn: {SUFFIX}\nobjectClass: top\nobjectClass: dcObject\nobjectClass: organization\ndc: harborview\no: Harborview Family Medicine (synthetic)\n\n\
         dn: ou=Services,{SUFFIX}\nobjectClass: organizationalUnit\nou: Services\n\n\
         dn: {SERVICE_DN}\nobjectClass: organizationalRole\nobjectClass: simpleSecurityObject\ncn: rollcall\nuserPassword: {SERVICE_PASSWORD}\n\n\
         dn: {CLINIC}\nobjectClass: organizationalUnit\nou: Clinic\n\n\
         dn: ou=Staff,{CLINIC}\nobjectClass: organizationalUnit\nou: Staff\n\n\
         dn: ou=Groups,{CLINIC}\nobjectClass: organizationalUnit\nou: Groups\n\n\
         dn: ou=Partners,{SUFFIX}\nobjectClass: organizationalUnit\nou: Partners\n\n"
    );
}

fn text(entry: &LdapEntry, name: &str) -> Option<String> {
    entry.values(name).first().map(|value| String::from_utf8_lossy(value).into_owned())
}

fn group_dn(cn: &str) -> String {
    format!("cn={},ou=Groups,{CLINIC}", rdn_value(cn))
}

/// The example practice as an OpenLDAP directory, with the additions the module
/// documentation lists.
pub fn harborview() -> String {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/harborview/ldap/directory.ldif");
    let bytes = std::fs::read(&path).expect("read the example LDIF");
    let parsed = rollcall_ingest::ldif::parse(&path, &bytes).expect("parse the example LDIF");
    let mut users = Vec::new();
    let mut ad_groups = Vec::new();
    for record in parsed.entries {
        let entry = record.entry;
        let classes: Vec<String> = entry
            .values("objectClass")
            .iter()
            .map(|c| String::from_utf8_lossy(c).to_lowercase())
            .collect();
        if classes.iter().any(|c| c == "user") {
            let uac: u32 =
                text(&entry, "userAccountControl").and_then(|v| v.parse().ok()).unwrap_or(512);
            users.push((
                entry.dn.to_lowercase(),
                User {
                    cn: text(&entry, "cn").unwrap_or_default(),
                    given: text(&entry, "givenName").unwrap_or_default(),
                    sn: text(&entry, "sn").unwrap_or_default(),
                    uid: text(&entry, "sAMAccountName").unwrap_or_default(),
                    mail: text(&entry, "mail").unwrap_or_default(),
                    title: text(&entry, "title").unwrap_or_default(),
                    employee_number: text(&entry, "employeeID"),
                    disabled: uac & 0x2 != 0,
                },
            ));
        } else if classes.iter().any(|c| c == "group") {
            let members: Vec<String> = entry
                .values("member")
                .iter()
                .map(|m| String::from_utf8_lossy(m).to_lowercase())
                .collect();
            ad_groups.push((
                entry.dn.to_lowercase(),
                text(&entry, "cn").unwrap_or_default(),
                members,
            ));
        }
    }
    // Additions: a comma and parentheses, and non-ASCII letters.
    let extra = [
        User {
            cn: "Reyes, Ana (Locum)".to_owned(),
            given: "Ana".to_owned(),
            sn: "Reyes".to_owned(),
            uid: "areyes".to_owned(),
            mail: "ana.reyes@harborview.example".to_owned(),
            title: "Locum Physician".to_owned(),
            employee_number: Some("E1901".to_owned()),
            disabled: false,
        },
        User {
            cn: "Zoë Ångström-Núñez".to_owned(),
            given: "Zoë".to_owned(),
            sn: "Ångström-Núñez".to_owned(),
            uid: "zangstrom".to_owned(),
            mail: "zoe.angstrom@harborview.example".to_owned(),
            title: "Nurse Practitioner".to_owned(),
            employee_number: Some("E1902".to_owned()),
            disabled: false,
        },
    ];
    let translate = |ad_dn: &str| -> Option<String> {
        if let Some((_, user)) = users.iter().find(|(dn, _)| dn == ad_dn) {
            return Some(user.dn());
        }
        ad_groups.iter().find(|(dn, _, _)| dn == ad_dn).map(|(_, cn, _)| group_dn(cn))
    };
    let mut groups: Vec<Group> = ad_groups
        .iter()
        .map(|(_, cn, members)| Group {
            dn: group_dn(cn),
            cn: cn.clone(),
            members: members.iter().filter_map(|m| translate(m)).collect(),
        })
        .collect();
    for group in &mut groups {
        match group.cn.as_str() {
            "Clinical Staff" => group.members.extend(extra.iter().map(User::dn)),
            // Nursing already sits in Clinical Staff; this closes a cycle.
            "Nursing" => group.members.push(group_dn("Clinical Staff")),
            "Billing" => group.members.push(format!("cn=Partner Billing,ou=Partners,{SUFFIX}")),
            _ => {}
        }
    }
    let first_user = users.first().map(|(_, user)| user.dn()).unwrap_or_default();
    groups.push(Group {
        dn: format!("cn=Partner Billing,ou=Partners,{SUFFIX}"),
        cn: "Partner Billing".to_owned(),
        members: vec![first_user, group_dn("Billing")],
    });

    let mut out = String::new();
    frame(&mut out);
    for (_, user) in &users {
        user.write(&mut out);
    }
    for user in &extra {
        user.write(&mut out);
    }
    for group in &groups {
        group.write(&mut out);
    }
    // A subtree held by another server: searches return it as a search result reference.
    let _ = write!(
        out,
        "dn: ou=Branch,{SUFFIX}\nobjectClass: referral\nobjectClass: extensibleObject\nou: Branch\nref: {BRANCH_REFERRAL}\n\n"
    );
    out
}

/// A generated directory of `users` users, every tenth disabled, with a group of
/// `big_group` members, ten department groups nested under one parent, and names with
/// commas, parentheses and non-ASCII letters.
pub fn generated(users: usize, big_group: usize) -> String {
    let given =
        ["Åsa", "Bjørn", "Chidi", "Dafne", "Émile", "Farah", "Göran", "Hana", "Iñigo", "Jun"];
    let family = [
        "Okonkwo",
        "Lindqvist",
        "Moreau",
        "Nakashima",
        "Oyelaran",
        "Petrov",
        "Quispe",
        "Rahman",
        "Søndergaard",
        "Takahashi",
    ];
    let mut out = String::new();
    frame(&mut out);
    let mut dns = Vec::with_capacity(users);
    for index in 0..users {
        let g = given.get(index % given.len()).copied().unwrap_or("Ann");
        let f = family.get((index / given.len()) % family.len()).copied().unwrap_or("Lee");
        let cn =
            if index % 7 == 0 { format!("{f}, {g} ({index})") } else { format!("{g} {f} {index}") };
        let user = User {
            cn,
            given: g.to_owned(),
            sn: f.to_owned(),
            uid: format!("u{index:05}"),
            mail: format!("u{index:05}@harborview.example"),
            title: "Staff".to_owned(),
            employee_number: Some(format!("G{index:05}")),
            disabled: index % 10 == 9,
        };
        dns.push(user.dn());
        user.write(&mut out);
    }
    Group {
        dn: group_dn("All Staff"),
        cn: "All Staff".to_owned(),
        members: dns.iter().take(big_group).cloned().collect(),
    }
    .write(&mut out);
    let mut departments = Vec::new();
    for department in 0..10 {
        let cn = format!("Department {department}");
        let members = dns.iter().skip(department).step_by(10).cloned().collect();
        Group { dn: group_dn(&cn), cn: cn.clone(), members }.write(&mut out);
        departments.push(group_dn(&cn));
    }
    Group { dn: group_dn("Departments"), cn: "Departments".to_owned(), members: departments }
        .write(&mut out);
    out
}

/// The subtree that [`harborview_referring`] refers to a second server.
pub const ANNEX: &str = "ou=Annex,dc=harborview,dc=example";

/// [`harborview`] plus a subordinate referral entry `ou=Annex` whose `ref` is
/// `annex_url`, the server that contains [`annex`].
pub fn harborview_referring(annex_url: &str) -> String {
    let mut out = harborview();
    let _ = write!(
        out,
        "dn: {ANNEX}\nobjectClass: referral\nobjectClass: extensibleObject\nou: Annex\nref: {annex_url}/{ANNEX}\n\n"
    );
    out
}

/// Builds the annex server's directory: the frame, three users under [`ANNEX`] and a
/// group of them that also contains a user of the first server.
pub fn annex(first_server_member: &str) -> String {
    let mut out = String::new();
    frame(&mut out);
    let _ = write!(out, "dn: {ANNEX}\nobjectClass: organizationalUnit\nou: Annex\n\n");
    let mut members = Vec::new();
    for (cn, uid) in
        [("Odile Varga", "ovarga"), ("Tomasz Brandt", "tbrandt"), ("Yara Haddad", "yhaddad")]
    {
        let dn = format!("cn={cn},{ANNEX}");
        line(&mut out, "dn", &dn);
        for class in ["top", "person", "organizationalPerson", "inetOrgPerson"] {
            line(&mut out, "objectClass", class);
        }
        let (given, sn) = cn.split_once(' ').unwrap_or((cn, cn));
        line(&mut out, "cn", cn);
        line(&mut out, "sn", sn);
        line(&mut out, "givenName", given);
        line(&mut out, "uid", uid);
        line(&mut out, "mail", &format!("{uid}@annex.harborview.example"));
        out.push('\n');
        members.push(dn);
    }
    members.push(first_server_member.to_owned());
    Group {
        dn: format!("cn=Annex Front Desk,{ANNEX}"),
        cn: "Annex Front Desk".to_owned(),
        members,
    }
    .write(&mut out);
    out
}
