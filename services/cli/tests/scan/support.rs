//! Running the built `rollcall` binary on tenant folders in temporary directories.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use tempfile::TempDir;

/// The instant the example's data describes: 09:00 in Chicago on 1 December 2026.
pub const AS_OF: &str = "2026-12-01T09:00:00-06:00";

/// Returns the path of the bundled example practice. Tests read it only through copies.
pub fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/harborview")
}

/// The exit status, standard output and standard error of one run.
#[derive(Debug)]
pub struct Run {
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Parses standard output as JSON, failing the test when it is not.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }
}

/// Runs `rollcall` with `args` in the folder `cwd`.
pub fn rollcall(cwd: &Path, args: &[&str]) -> Run {
    let output = Command::new(env!("CARGO_BIN_EXE_rollcall"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("the rollcall binary starts");
    Run {
        status: output.status.code().expect("rollcall exits with a status, not a signal"),
        stdout: String::from_utf8(output.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(output.stderr).expect("stderr is UTF-8"),
    }
}

/// Runs `rollcall scan DIR --as-of AS_OF` with `extra` arguments, in the folder `cwd`.
pub fn scan(cwd: &Path, dir: &str, extra: &[&str]) -> Run {
    let mut args = vec!["scan", dir, "--as-of", AS_OF];
    args.extend_from_slice(extra);
    rollcall(cwd, &args)
}

/// A temporary folder for one test, removed when dropped.
pub struct Scratch {
    dir: TempDir,
}

impl Scratch {
    pub fn new() -> Self {
        Self { dir: tempfile::tempdir().expect("a temporary folder can be created") }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Copies the example practice to `relative` and returns the copy's path.
    pub fn copy_example(&self, relative: &str) -> PathBuf {
        let target = self.path().join(relative);
        copy_tree(&example(), &target);
        target
    }

    /// Writes `contents` to `relative`, creating its folders.
    pub fn write(&self, relative: &str, contents: impl AsRef<[u8]>) {
        let path = self.path().join(relative);
        fs::create_dir_all(path.parent().expect("a relative path has a parent")).unwrap();
        fs::write(path, contents).unwrap();
    }

    pub fn read(&self, relative: &str) -> String {
        fs::read_to_string(self.path().join(relative)).unwrap()
    }

    /// Writes a one-person tenant to the folder `relative`: a nurse in the HR roster and in
    /// LDAP, with exactly the baseline group, who last signed in at `last_logon` (an Active
    /// Directory FILETIME: 100 ns intervals since 1601-01-01 UTC).
    pub fn write_small_tenant(&self, relative: &str, id: &str, last_logon: u64) {
        self.write(&format!("{relative}/tenant.yaml"), small_tenant_yaml(id));
        self.write(&format!("{relative}/hr/roster.csv"), SMALL_ROSTER);
        self.write(
            &format!("{relative}/ldap/directory.ldif"),
            SMALL_LDIF.replace("{last_logon}", &last_logon.to_string()),
        );
    }
}

/// 2026-11-28 12:00 UTC as a FILETIME: three days before [`AS_OF`].
pub const RECENT_LOGON: u64 = 134_403_408_000_000_000;

/// 2025-12-01 00:00 UTC as a FILETIME: a year before [`AS_OF`], so the account is dormant.
pub const YEAR_OLD_LOGON: u64 = 134_090_208_000_000_000;

fn small_tenant_yaml(id: &str) -> String {
    format!(
        "tenant:
  id: {id}
  name: Small Test Clinic
  time_zone: America/Chicago
policy:
  job_roles:
    nurse:
      match: {{ titles: [\"Registered Nurse\"] }}
      baseline:
        ldap: [\"group:Nursing\"]
"
    )
}

const SMALL_ROSTER: &str = "\
Employee ID,First Name,Last Name,Work Email,Status,Hire Date,Termination Date,Manager Employee ID,Job Title,Department,Location
T001,Avery,Example,avery.example@small.example,Active,2024-01-02,,,Registered Nurse,Clinical,Main
";

const SMALL_LDIF: &str = "\
version: 1

dn: CN=Avery Example,OU=Staff,DC=small,DC=example
objectClass: top
objectClass: person
objectClass: organizationalPerson
objectClass: user
cn: Avery Example
sAMAccountName: aexample
userPrincipalName: avery.example@small.example
displayName: Avery Example
mail: avery.example@small.example
title: Registered Nurse
employeeID: T001
userAccountControl: 512
lastLogonTimestamp: {last_logon}
memberOf: CN=Nursing,OU=Groups,DC=small,DC=example

dn: CN=Nursing,OU=Groups,DC=small,DC=example
objectClass: top
objectClass: group
cn: Nursing
member: CN=Avery Example,OU=Staff,DC=small,DC=example
";

fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Returns the `(source, accounts)` pairs of one tenant in a JSON report.
pub fn source_accounts(tenant: &Value) -> Vec<(String, u64)> {
    tenant["sources"]
        .as_array()
        .expect("`sources` is a list")
        .iter()
        .map(|s| (s["source"].as_str().unwrap().to_owned(), s["accounts"].as_u64().unwrap()))
        .collect()
}
