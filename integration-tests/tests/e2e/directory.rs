//! Tenant A's OpenLDAP directory, built from the example practice's HR roster, and the
//! changes an administrator makes to it with `ldapmodify`.
//!
//! Every worker gets an `inetOrgPerson` under `ou=Staff` with the employee id as
//! `employeeNumber`, which is how identity resolution links the account to the roster.
//! Workers who left before the quarter are locked with ppolicy's `pwdAccountLockedTime`.
//! Groups follow the job titles, so the role baselines of `tenant.yaml` mostly hold and
//! a few deliberate extras make findings.

use std::fmt::Write as _;
use std::process::Command;

use crate::slapd::{ADMIN_DN, ADMIN_PASSWORD, SERVICE_DN, SERVICE_PASSWORD, SUFFIX};

/// Where the users are.
pub const STAFF: &str = "ou=Staff,dc=harborview,dc=example";
/// Where the groups are.
pub const GROUPS: &str = "ou=Groups,dc=harborview,dc=example";

/// One roster row, with the fields the directory needs.
pub struct Worker {
    pub employee_id: String,
    pub first: String,
    pub last: String,
    pub email: String,
    pub terminated: bool,
    pub title: String,
}

/// Reads the example roster (a plain CSV without quoted commas).
pub fn roster(csv: &str) -> Vec<Worker> {
    csv.lines()
        .skip(1)
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let cells: Vec<&str> = line.split(',').collect();
            Worker {
                employee_id: cells[0].to_owned(),
                first: cells[1].to_owned(),
                last: cells[2].to_owned(),
                email: cells[3].to_owned(),
                terminated: cells[4] == "Terminated",
                title: cells[8].to_owned(),
            }
        })
        .collect()
}

/// The login: the local part of the work e-mail address, unique in the example.
pub fn uid(worker: &Worker) -> String {
    worker.email.split('@').next().unwrap().to_owned()
}

pub fn user_dn(worker: &Worker) -> String {
    format!("uid={},{STAFF}", uid(worker))
}

pub fn group_dn(name: &str) -> String {
    format!("cn={name},{GROUPS}")
}

/// The groups a job title gets, as in the example's role baselines.
fn groups_of(title: &str) -> Vec<&'static str> {
    let mut groups = vec!["All Staff"];
    match title {
        "Medical Director"
        | "Physician"
        | "Nurse Practitioner"
        | "Physician Assistant"
        | "Medical Assistant" => groups.push("Clinical Staff"),
        "Registered Nurse" | "Licensed Practical Nurse" => {
            groups.extend(["Clinical Staff", "Nursing"]);
        }
        "Office Manager" | "Practice Manager" => groups.push("Managers"),
        "IT Administrator" => groups.push("IT Admins"),
        title if title.starts_with("Billing") || title == "Medical Coder" => {
            groups.push("Billing");
        }
        title if title.starts_with("Front Desk") || title.starts_with("Patient Services") => {
            groups.push("Front Office");
        }
        _ => {}
    }
    groups
}

/// Extra memberships outside the baselines: access drift the review should see.
const EXTRAS: &[(&str, &str)] = &[("E1004", "Billing"), ("E1010", "Front Office")];

/// The directory as LDIF for slapadd.
pub fn seed(workers: &[Worker]) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "dn: {SUFFIX}\nobjectClass: top\nobjectClass: dcObject\nobjectClass: organization\n\
         dc: harborview\no: Harborview Family Health (synthetic)\n\n\
         dn: ou=Services,{SUFFIX}\nobjectClass: organizationalUnit\nou: Services\n\n\
         dn: {SERVICE_DN}\nobjectClass: organizationalRole\nobjectClass: simpleSecurityObject\n\
         cn: rollcall\nuserPassword: {SERVICE_PASSWORD}\n\n\
         dn: {STAFF}\nobjectClass: organizationalUnit\nou: Staff\n\n\
         dn: {GROUPS}\nobjectClass: organizationalUnit\nou: Groups\n\n"
    );
    for worker in workers {
        let _ = write!(
            out,
            "dn: {dn}\nobjectClass: inetOrgPerson\nuid: {uid}\ncn: {first} {last}\n\
             givenName: {first}\nsn: {last}\nmail: {email}\ntitle: {title}\n\
             employeeNumber: {id}\n",
            dn = user_dn(worker),
            uid = uid(worker),
            first = worker.first,
            last = worker.last,
            email = worker.email,
            title = worker.title,
            id = worker.employee_id,
        );
        if worker.terminated {
            // ppolicy's value for a lock without an end.
            out.push_str("pwdAccountLockedTime: 000001010000Z\n");
        }
        out.push('\n');
    }
    let names = [
        "All Staff",
        "Clinical Staff",
        "Nursing",
        "Managers",
        "IT Admins",
        "Billing",
        "Front Office",
    ];
    for name in names {
        let _ = write!(out, "dn: {}\nobjectClass: groupOfNames\ncn: {name}\n", group_dn(name));
        for worker in workers {
            let extra =
                EXTRAS.iter().any(|(id, group)| *id == worker.employee_id && *group == name);
            if extra || groups_of(&worker.title).contains(&name) {
                let _ = writeln!(out, "member: {}", user_dn(worker));
            }
        }
        out.push('\n');
    }
    out
}

/// Reads one entry's values of `attribute` as the directory administrator.
fn values(url: &str, dn: &str, attribute: &str) -> Vec<String> {
    let output = Command::new("ldapsearch")
        .args(["-x", "-LLL", "-o", "ldif-wrap=no", "-H", url, "-D", ADMIN_DN, "-w", ADMIN_PASSWORD])
        .args(["-s", "base", "-b", dn, attribute])
        .output()
        .expect("ldapsearch is installed (scripts/install-test-deps.sh installs ldap-utils)");
    assert!(
        output.status.success(),
        "ldapsearch {dn}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let prefix = format!("{attribute}: ");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| line.strip_prefix(&prefix).map(str::to_owned))
        .collect()
}

/// Whether ppolicy's lock is set on the account, which the connector reads as disabled.
pub fn is_locked(url: &str, dn: &str) -> bool {
    !values(url, dn, "pwdAccountLockedTime").is_empty()
}

/// Lists the `member` values of a group.
pub fn members(url: &str, group: &str) -> Vec<String> {
    values(url, group, "member")
}
