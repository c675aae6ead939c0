//! Reading tenant folders written into temporary folders: what each problem reports.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{TimeZone, Utc};

use super::load_tenant;
use crate::diagnostic::{Diagnostic, Level};

/// A tenant folder under the system's temporary folder, removed when dropped.
struct Folder(PathBuf);

impl Folder {
    fn new(tenant_yaml: &str) -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("rollcall-layout-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let folder = Self(dir);
        folder.write("tenant.yaml", tenant_yaml);
        folder
    }

    fn write(&self, relative: &str, contents: &str) {
        let path = self.0.join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, contents).unwrap();
    }

    fn diagnostics(&self) -> Vec<Diagnostic> {
        let as_of = Utc.with_ymd_and_hms(2026, 12, 1, 15, 0, 0).unwrap();
        load_tenant(&self.0, as_of).unwrap().diagnostics
    }
}

impl Drop for Folder {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

const ECW_TENANT: &str = "tenant:\n  id: t1\n  name: T\n  time_zone: America/Chicago\n\
sources:\n  ehr:\n    - files: [ehr/users.csv]\n      profile: eclinicalworks\n";

const ECW_EXPORT: &str = "uid,uname,ulname,ufname,usertype,status,delFlag,security_roles\n\
10231,hbergstrom,Bergstrom,Helga,1,0,0,Provider Full\n";

fn find<'d>(diagnostics: &'d [Diagnostic], file: &str) -> Vec<&'d Diagnostic> {
    diagnostics.iter().filter(|d| d.file == Path::new(file)).collect()
}

#[test]
fn missing_hr_and_methods_are_noted() {
    let folder = Folder::new(ECW_TENANT);
    folder.write("ehr/users.csv", ECW_EXPORT);

    let diagnostics = folder.diagnostics();

    let hr = find(&diagnostics, "hr/roster.csv");
    assert_eq!(hr.len(), 1, "{diagnostics:#?}");
    assert_eq!(hr[0].level, Level::Info);
    assert!(hr[0].message.contains("leavers and orphan accounts were not checked"));
    let mfa = find(&diagnostics, "entra");
    assert_eq!(mfa.len(), 1, "{diagnostics:#?}");
    assert!(mfa[0].message.contains("MFA was not checked"));
}

#[test]
fn misspelt_policy_source_warns() {
    let yaml = format!(
        "{ECW_TENANT}policy:\n  privileged_entitlements:\n    \"ehr:ecw\": [\"role:Administrator\"]\n\
         \x20   entra: [\"directory_role:*\"]\n    \"ehr:*\": [\"role:Admin*\"]\n"
    );
    let folder = Folder::new(&yaml);
    folder.write("ehr/users.csv", ECW_EXPORT);

    let diagnostics = folder.diagnostics();

    let policy = find(&diagnostics, "tenant.yaml");
    assert_eq!(policy.len(), 2, "{diagnostics:#?}");
    let typo = policy.iter().find(|d| d.message.contains("`ehr:ecw`")).unwrap();
    assert_eq!(typo.level, Level::Warning);
    assert!(typo.message.contains("(ehr:eclinicalworks)"), "{}", typo.message);
    // A tenant without Entra may share a policy written for practices that have it.
    let entra = policy.iter().find(|d| d.message.contains("`entra`")).unwrap();
    assert_eq!(entra.level, Level::Info);
}

#[test]
fn unclaimed_files_get_a_suggestion() {
    let folder = Folder::new(ECW_TENANT);
    folder.write("ehr/users.csv", ECW_EXPORT);
    folder.write("ehr/athena-users.csv", "Username\n");
    folder.write("HR Roster Nov 2026.csv", "Employee ID,Status\n");
    folder.write("dc01-export.ldf", "dn: cn=a\n");

    let diagnostics = folder.diagnostics();

    let athena = find(&diagnostics, "ehr/athena-users.csv");
    assert!(athena[0].message.contains("add `- files: [\"ehr/athena-users.csv\"]`"), "{athena:?}");
    let roster = find(&diagnostics, "HR Roster Nov 2026.csv");
    assert!(roster[0].message.contains("`sources.hr: \"HR Roster Nov 2026.csv\"`"), "{roster:?}");
    let ldif = find(&diagnostics, "dc01-export.ldf");
    assert!(ldif[0].message.contains("move it into `ldap/`"), "{ldif:?}");
}

#[test]
fn missing_named_file_points_at_tenant_yaml() {
    let folder = Folder::new(ECW_TENANT);

    let diagnostics = folder.diagnostics();

    let missing = find(&diagnostics, "ehr/users.csv");
    assert_eq!(missing.len(), 1, "{diagnostics:#?}");
    assert_eq!(missing[0].level, Level::Error);
    assert!(missing[0].message.contains("does not exist; check its path under `sources:`"));
}

#[test]
fn ldifde_extension_is_read() {
    let folder = Folder::new("tenant:\n  id: t1\n  name: T\n  time_zone: America/Chicago\n");
    folder.write(
        "ldap/export.ldf",
        "dn: CN=Ana,DC=example\nchangetype: add\nobjectClass: user\nsAMAccountName: ana\nuserAccountControl: 512\n",
    );
    let as_of = Utc.with_ymd_and_hms(2026, 12, 1, 15, 0, 0).unwrap();

    let tenant = load_tenant(&folder.0, as_of).unwrap();

    let ldap = tenant.data.sources.iter().find(|s| s.source.to_string() == "ldap").unwrap();
    assert_eq!(ldap.accounts.len(), 1);
    assert!(
        tenant.diagnostics.iter().all(|d| d.level < Level::Warning),
        "{:#?}",
        tenant.diagnostics
    );
}

#[test]
fn source_inputs_name_each_source_paths() {
    let folder = Folder::new(concat!(
        "tenant:\n  id: t1\n  name: T\n  time_zone: America/Chicago\n",
        "sources:\n  ehr:\n",
        "    - files: [ehr/a.csv]\n      profile: eclinicalworks\n",
        "    - files: [ehr/b.csv]\n      profile: eclinicalworks\n",
    ));
    folder.write("entra/users.json", "{}");
    folder.write("hr/roster.csv", "employee_id\n");
    let text = std::fs::read_to_string(folder.0.join("tenant.yaml")).unwrap();
    let config = crate::tenant_file::parse(&text, &folder.0).unwrap();

    let inputs = super::source_inputs(&folder.0, &config);

    let names: Vec<String> = inputs.iter().map(|i| i.source.to_string()).collect();
    assert_eq!(names, ["entra", "ehr:eclinicalworks", "hr"]);
    assert_eq!(inputs[1].paths, [PathBuf::from("ehr/a.csv"), PathBuf::from("ehr/b.csv")]);
    assert!(inputs[0].contains(Path::new("entra/groups/g1/transitiveMembers.json")));
    assert!(!inputs[0].contains(Path::new("entra-old/users.json")));
    assert!(inputs[2].contains(Path::new("hr/roster.csv")));
}

#[test]
fn fhir_entry_enriches_same_source() {
    let folder = Folder::new(
        "tenant:\n  id: t1\n  name: T\n  time_zone: America/Chicago\nsources:\n  ehr:\n\
         \x20   - files: [ehr/practitioners.json]\n      format: fhir\n      vendor: epic\n\
         \x20     npi_systems: [\"urn:oid:1.2.840.114350.1.13.0.1.7.5.737384.60\"]\n\
         \x20   - files: [ehr/users.csv]\n      profile: epic\n",
    );
    folder.write(
        "ehr/users.csv",
        "USER_ID,SYSTEM_LOGIN,NAME,USER_STATUS,PROV_ID,PROVIDER_NPI\n\
         1,QV,\"VANTERPOOL, QUINCY\",Active,E1,9999900118\n2,MA,\"OSEI, MERCY\",Active,,\n",
    );
    folder.write(
        "ehr/practitioners.json",
        r#"{"resourceType": "Practitioner", "id": "p1", "identifier": [
            {"system": "PROVID", "value": "E1"},
            {"system": "urn:oid:1.2.840.114350.1.13.0.1.7.5.737384.60", "value": "9999900118"}],
            "name": [{"family": "Vanterpool", "given": ["Quincy"]}]}"#,
    );

    let as_of = Utc.with_ymd_and_hms(2026, 12, 1, 15, 0, 0).unwrap();
    let loaded = load_tenant(&folder.0, as_of).unwrap();
    let epic: Vec<_> =
        loaded.data.sources.iter().filter(|s| s.source.to_string() == "ehr:epic").collect();
    assert_eq!(epic.len(), 1);

    let provider = epic[0].accounts.iter().find(|a| a.id == "1").unwrap();
    assert_eq!(provider.attributes.get("fhir.practitioner_id").map(String::as_str), Some("p1"));
    assert_eq!(provider.attributes.get("fhir.match").map(String::as_str), Some("npi"));
    // `active` is absent from the resource, so nothing claims the provider is active.
    assert_eq!(provider.attributes.get("fhir.active"), None);
    let staff = epic[0].accounts.iter().find(|a| a.id == "2").unwrap();
    assert_eq!(staff.attributes.get("fhir.practitioner_id"), None);
}

/// An EHR entry's `time_zone` is the export host's zone and wins over the tenant's: the
/// export's local last access is read in New York, not in Chicago.
#[test]
fn ehr_entry_zone_reads_local_times() {
    use rollcall_core::model::LastSignIn;

    let folder = Folder::new(
        "tenant:\n  id: t1\n  name: T\n  time_zone: America/Chicago\nsources:\n  ehr:\n\
         \x20   - files: [ehr/users.csv]\n      profile: epic\n      time_zone: America/New_York\n",
    );
    folder.write(
        "ehr/users.csv",
        "USER_ID,SYSTEM_LOGIN,NAME,USER_STATUS,LAST_ACCS_DATETIME\n\
         1,QV,\"VANTERPOOL, QUINCY\",Active,2026-11-30 07:41:12.000\n",
    );

    let as_of = Utc.with_ymd_and_hms(2026, 12, 1, 15, 0, 0).unwrap();
    let loaded = load_tenant(&folder.0, as_of).unwrap();
    let epic = loaded.data.sources.iter().find(|s| s.source.to_string() == "ehr:epic").unwrap();
    // 07:41:12 EST is 12:41:12 UTC; read in the tenant's zone it would be 13:41:12 UTC.
    let east = Utc.with_ymd_and_hms(2026, 11, 30, 12, 41, 12).unwrap();
    assert_eq!(epic.accounts[0].last_sign_in, LastSignIn::At(east));
}

#[test]
fn merge_keeps_sign_in_availability() {
    use rollcall_core::model::{Availability, SourceId, SourceSnapshot};

    let source = SourceId::ehr("drchrono").unwrap();
    let mut merged = SourceSnapshot::new(source.clone());
    let mut part = SourceSnapshot::new(source.clone());
    part.settings.sign_in_activity = Availability::Available;
    super::sources::merge(&mut merged, part);
    assert_eq!(merged.settings.sign_in_activity, Availability::Available);

    // A later file does not override what the first one stated.
    let mut missing = SourceSnapshot::new(source);
    missing.settings.sign_in_activity = Availability::Missing;
    super::sources::merge(&mut merged, missing);
    assert_eq!(merged.settings.sign_in_activity, Availability::Available);
}
