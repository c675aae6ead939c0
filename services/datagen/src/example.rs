//! Harborview Family Health: the synthetic three-site practice in `examples/harborview`,
//! with one or more of every finding kind planted. `examples/harborview/README.md` lists
//! each planted problem; a test asserts that the scan finds exactly those.

use chrono::{TimeZone, Utc};

use crate::spec::{
    AdUser, AthenaUser, Employment, EntraUser, Method, MethodsFrom, Person, SignIn, TenantSpec,
};
use crate::write::guid;

/// Global Administrator.
pub const GLOBAL_ADMIN: &str = "62e90394-69f5-4237-9190-012177145e10";
/// User Administrator.
pub const USER_ADMIN: &str = "fe930be7-5e62-47db-91af-98c3a49a38b1";

const MAIN: (&str, &str) = ("71001", "Harborview Main");
const NORTH: (&str, &str) = ("71002", "Northgate Clinic");
const EAST: (&str, &str) = ("71003", "Eastside Pediatrics");

/// The job families of the example, each with the access its baseline allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    Director,
    Physician,
    Nurse,
    Assistant,
    FrontDesk,
    Billing,
    Manager,
    It,
    Other,
}

struct Draft {
    person: Person,
}

fn strs(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

impl Draft {
    fn new(
        number: u32,
        given: &str,
        family: &str,
        title: &str,
        job: Family,
        site: (&str, &str),
    ) -> Self {
        let employee_id = format!("E{number}");
        let (entra_groups, ad_groups, athena_roles, department): (&[&str], &[&str], &[&str], &str) =
            match job {
                Family::Director => (
                    &["All Staff", "Clinical Staff", "Providers"],
                    &["All Staff", "Clinical Staff"],
                    &["Clinicals: Provider", "Clinicals: EPCS Enrollment Approval"],
                    "Clinical",
                ),
                Family::Physician => (
                    &["All Staff", "Clinical Staff", "Providers"],
                    &["All Staff", "Clinical Staff"],
                    &["Clinicals: Provider"],
                    "Clinical",
                ),
                Family::Nurse => (
                    &["All Staff", "Clinical Staff"],
                    &["All Staff", "Nursing"],
                    &["Clinicals: Nurse"],
                    "Nursing",
                ),
                Family::Assistant => (
                    &["All Staff", "Clinical Staff"],
                    &["All Staff", "Clinical Staff"],
                    &["Clinicals: Medical Assistant"],
                    "Clinical",
                ),
                Family::FrontDesk => (
                    &["All Staff", "Front Office"],
                    &["All Staff", "Front Office"],
                    &["Front Desk", "Scheduling"],
                    "Front Office",
                ),
                Family::Billing => (
                    &["All Staff", "Billing"],
                    &["All Staff", "Billing"],
                    &["Billing", "Claims", "Reports: Financial"],
                    "Billing",
                ),
                Family::Manager => (
                    &["All Staff", "Managers", "Front Office"],
                    &["All Staff", "Managers"],
                    &["User Admin", "Practice Admin", "Reports: Financial"],
                    "Administration",
                ),
                Family::It => (
                    &["All Staff", "IT Admins"],
                    &["All Staff", "IT Admins", "Domain Admins"],
                    &[],
                    "IT",
                ),
                Family::Other => (&["All Staff"], &[], &[], "Operations"),
            };
        let privileged_mfa =
            matches!(job, Family::Director | Family::Physician | Family::Manager | Family::It);
        let methods = if privileged_mfa {
            vec![Method::Password, Method::Fido2]
        } else {
            vec![Method::Password, Method::Authenticator]
        };
        let handle = format!("{}.{}", crate::spec::ascii(given), crate::spec::ascii(family));
        let sam = format!(
            "{}{}",
            crate::spec::ascii(given).chars().next().unwrap_or('x'),
            crate::spec::ascii(family)
        );
        let entra = EntraUser {
            id: guid(0x6e7a_1000, number as usize),
            upn: format!("{handle}@harborview.example"),
            enabled: true,
            with_employee_id: true,
            guest: false,
            sign_in: SignIn::DaysAgo(i64::from(number % 9) + 1),
            created_days_ago: 700,
            methods,
            methods_from: MethodsFrom::Report,
            groups: strs(entra_groups),
            roles: Vec::new(),
            eligible_roles: Vec::new(),
        };
        let ad = (!ad_groups.is_empty()).then(|| AdUser {
            cn: None,
            sam: sam.clone(),
            enabled: true,
            with_employee_id: true,
            groups: strs(ad_groups),
            admin_count: job == Family::It,
            rid: 1100 + number,
        });
        let athena = (!athena_roles.is_empty()).then(|| AthenaUser {
            username: sam,
            roles: vec![(site.0.to_owned(), strs(athena_roles))],
            blocked: false,
            with_employee_id: true,
            with_email: true,
            last_login: Some(SignIn::DaysAgo(i64::from(number % 4) + 1)),
            provider: matches!(job, Family::Director | Family::Physician)
                .then(|| (npi(number), "Approved".to_owned())),
            position: title.to_owned(),
        });
        Self {
            person: Person {
                employee_id: Some(employee_id),
                handle: None,
                given: given.to_owned(),
                family: family.to_owned(),
                title: title.to_owned(),
                department: department.to_owned(),
                location: site.1.to_owned(),
                employment: Employment::Active,
                manager: Some(if matches!(job, Family::Manager | Family::Director) {
                    "E1001".into()
                } else {
                    manager_for(site)
                }),
                hired_days_ago: 800,
                entra: Some(entra),
                ad,
                athena,
            },
        }
    }

    fn entra(mut self, change: impl FnOnce(&mut EntraUser)) -> Self {
        if let Some(user) = self.person.entra.as_mut() {
            change(user);
        }
        self
    }

    fn ad(mut self, change: impl FnOnce(&mut AdUser)) -> Self {
        if let Some(user) = self.person.ad.as_mut() {
            change(user);
        }
        self
    }

    fn athena(mut self, change: impl FnOnce(&mut AthenaUser)) -> Self {
        if let Some(user) = self.person.athena.as_mut() {
            change(user);
        }
        self
    }

    fn with(mut self, change: impl FnOnce(&mut Person)) -> Self {
        change(&mut self.person);
        self
    }

    fn done(self) -> Person {
        self.person
    }
}

fn manager_for(site: (&str, &str)) -> String {
    if site == NORTH { "E1003".into() } else { "E1002".into() }
}

/// A made-up NPI in the unissued `99999` range whose check digit passes the Luhn test
/// over the `80840` prefix, as real NPIs do.
pub fn npi(number: u32) -> String {
    npi_from(&format!("99999{:04}", number % 10_000))
}

/// `base` (the first nine digits of an NPI) with its check digit: the Luhn digit over
/// `80840` followed by `base`, as the NPI standard defines it.
pub fn npi_from(base: &str) -> String {
    let digits: Vec<u32> = format!("80840{base}").chars().filter_map(|c| c.to_digit(10)).collect();
    let mut sum = 0;
    for (i, digit) in digits.iter().rev().enumerate() {
        let value = if i % 2 == 0 {
            let doubled = digit * 2;
            if doubled > 9 { doubled - 9 } else { doubled }
        } else {
            *digit
        };
        sum += value;
    }
    format!("{base}{}", (10 - sum % 10) % 10)
}

/// The example practice.
pub fn harborview() -> TenantSpec {
    use Family::*;
    let people = vec![
        // Leadership.
        Draft::new(1001, "Adaeze", "Holmberg", "Medical Director", Director, MAIN)
            .with(|p| p.manager = None)
            .done(),
        // Planted: privileged (User Administrator through PIM) with Authenticator only.
        Draft::new(1002, "Marguerite", "Okafor", "Office Manager", Manager, MAIN)
            .entra(|u| {
                u.eligible_roles = vec![USER_ADMIN.into()];
                u.methods = vec![Method::Password, Method::Authenticator];
            })
            .done(),
        Draft::new(1003, "Florian", "Castellano", "Practice Manager", Manager, NORTH)
            .entra(|u| u.methods = vec![Method::Password, Method::WindowsHello])
            .done(),
        // Physicians and advanced practice providers.
        Draft::new(1004, "Imogen", "Thackeray", "Physician", Physician, MAIN).done(),
        // Planted: no Entra sign-in for 160 days.
        Draft::new(1005, "Cornelius", "Abernathy", "Physician", Physician, MAIN)
            .entra(|u| u.sign_in = SignIn::DaysAgo(160))
            .done(),
        Draft::new(1006, "Yusuf", "Bergqvist", "Physician", Physician, NORTH)
            .athena(|a| a.roles.push((EAST.0.into(), strs(&["Clinicals: Provider"]))))
            .done(),
        Draft::new(1007, "Delphine", "Okonjo", "Nurse Practitioner", Physician, NORTH)
            .athena(|a| a.provider = Some((npi(1007), "Pending approval".into())))
            .done(),
        Draft::new(1008, "Matthias", "Oyelaran", "Physician Assistant", Physician, EAST).done(),
        Draft::new(1009, "Esperanza", "Lindqvist", "Nurse Practitioner", Physician, EAST).done(),
        Draft::new(1065, "Henrietta", "Vukovic", "Physician", Physician, EAST).done(),
        // Nurses.
        Draft::new(1010, "Harriet", "Nwachukwu", "Registered Nurse", Nurse, MAIN).done(),
        Draft::new(1011, "Bartholomew", "Quist", "Registered Nurse", Nurse, MAIN).done(),
        // Planted: password and e-mail only, so no MFA.
        Draft::new(1012, "Ingrid", "Halvorsen", "Registered Nurse", Nurse, NORTH)
            .entra(|u| u.methods = vec![Method::Password, Method::Email])
            .done(),
        // Planted: still in Domain Admins from a past project.
        Draft::new(1013, "Anselm", "Varga", "Registered Nurse", Nurse, MAIN)
            .ad(|a| {
                a.groups.push("Domain Admins".into());
                a.admin_count = true;
            })
            .done(),
        // Planted: on leave, disabled in AD only.
        Draft::new(1014, "Beatrix", "Nakamura", "Registered Nurse", Nurse, NORTH)
            .with(|p| p.employment = Employment::Leave)
            .ad(|a| a.enabled = false)
            .done(),
        // Planted: left ten days ago; AD and athenahealth still enabled.
        Draft::new(1015, "Gideon", "Ferris", "Registered Nurse", Nurse, MAIN)
            .with(|p| p.employment = Employment::TerminatedHoursAgo(240))
            .entra(|u| u.enabled = false)
            .done(),
        Draft::new(1016, "Cordelia", "Mbeki", "Licensed Practical Nurse", Nurse, EAST).done(),
        Draft::new(1017, "Ezekiel", "Sorensen", "Registered Nurse", Nurse, EAST).done(),
        Draft::new(1018, "Maren", "Achterberg", "Licensed Practical Nurse", Nurse, NORTH).done(),
        // Planted: created 150 days ago, never signed in to Entra, no MFA registered.
        Draft::new(1061, "Ophelia", "Strand", "Licensed Practical Nurse", Nurse, NORTH)
            .entra(|u| {
                u.sign_in = SignIn::Never;
                u.created_days_ago = 150;
                u.methods = vec![Method::Password];
            })
            .with(|p| p.hired_days_ago = 150)
            .done(),
        Draft::new(1062, "Thaddeus", "Okwu", "Registered Nurse", Nurse, MAIN).done(),
        Draft::new(1063, "Marisol", "Engstrom", "Registered Nurse", Nurse, EAST).done(),
        Draft::new(1064, "Percival", "Adjei", "Licensed Practical Nurse", Nurse, MAIN).done(),
        // Planted (with 1041): two workers called Sam Rivera.
        Draft::new(1040, "Sam", "Rivera", "Registered Nurse", Nurse, NORTH)
            .ad(|a| a.sam = "sarivera".into())
            .athena(|a| a.username = "sarivera1".into())
            .done(),
        // Front desk.
        // Planted: SMS only.
        Draft::new(1020, "Rosalind", "Achebe", "Front Desk Coordinator", FrontDesk, MAIN)
            .entra(|u| u.methods = vec![Method::Password, Method::MobilePhone])
            .done(),
        // Planted: left 30 days ago; everything disabled, but athenahealth roles kept.
        Draft::new(1021, "Hollis", "Drummond", "Front Desk Coordinator", FrontDesk, MAIN)
            .with(|p| p.employment = Employment::TerminatedHoursAgo(720))
            .entra(|u| u.enabled = false)
            .ad(|a| a.enabled = false)
            .athena(|a| a.blocked = true)
            .done(),
        // Planted: left five hours ago; Entra and athenahealth still enabled.
        Draft::new(1022, "Tamsin", "Kowal", "Front Desk Coordinator", FrontDesk, NORTH)
            .with(|p| p.employment = Employment::TerminatedHoursAgo(5))
            .ad(|a| a.enabled = false)
            .done(),
        Draft::new(1023, "Oswin", "Petrakis", "Patient Services Representative", FrontDesk, NORTH)
            .done(),
        Draft::new(1024, "Lucinda", "Ferreira", "Patient Services Representative", FrontDesk, EAST)
            .done(),
        Draft::new(1025, "Jasper", "Nkemelu", "Front Desk Coordinator", FrontDesk, EAST).done(),
        Draft::new(1067, "Anouk", "Sesay", "Patient Services Representative", FrontDesk, MAIN)
            .done(),
        Draft::new(1068, "Benedikt", "Amadi", "Front Desk Coordinator", FrontDesk, NORTH).done(),
        // Medical assistants.
        // Planted: a method type newer than Rollcall, in a saved per-user method list.
        Draft::new(1030, "Keanu", "Whitfield", "Medical Assistant", Assistant, MAIN)
            .entra(|u| {
                u.methods = vec![Method::Password, Method::Authenticator, Method::Future];
                u.methods_from = MethodsFrom::PerUser;
            })
            .done(),
        // Planted: in the Entra Billing group.
        Draft::new(1031, "Priyanka", "Osei", "Medical Assistant", Assistant, MAIN)
            .entra(|u| u.groups.push("Billing".into()))
            .done(),
        // Planted: an athenahealth role no other medical assistant holds.
        Draft::new(1032, "Leilani", "Brandt", "Medical Assistant", Assistant, NORTH)
            .athena(|a| {
                if let Some((_, roles)) = a.roles.first_mut() {
                    roles.push("Clinicals: Lab Results Release".into());
                }
            })
            .done(),
        // Planted: left 40 hours ago; Entra still enabled.
        Draft::new(1033, "Noor", "Haddad", "Medical Assistant", Assistant, EAST)
            .with(|p| p.employment = Employment::TerminatedHoursAgo(40))
            .ad(|a| a.enabled = false)
            .athena(|a| {
                a.blocked = true;
                a.roles = vec![(EAST.0.into(), Vec::new())];
            })
            .done(),
        Draft::new(1034, "Torvald", "Eze", "Medical Assistant", Assistant, NORTH).done(),
        Draft::new(1035, "Saoirse", "Mwangi", "Medical Assistant", Assistant, EAST).done(),
        Draft::new(1036, "Ignatius", "Falk", "Medical Assistant", Assistant, MAIN).done(),
        Draft::new(1037, "Wilhelmina", "Oduya", "Medical Assistant", Assistant, NORTH).done(),
        Draft::new(1038, "Casimir", "Ndlovu", "Medical Assistant", Assistant, EAST).done(),
        Draft::new(1069, "Giselle", "Oyama", "Medical Assistant", Assistant, MAIN).done(),
        // Billing.
        // Planted (with 1040): the athenahealth login carries no employee id, and the name
        // matches two workers.
        Draft::new(1041, "Sam", "Rivera", "Billing Specialist", Billing, MAIN)
            .with(|p| p.handle = Some("sam.rivera2".into()))
            .ad(|a| {
                a.sam = "sarivera2".into();
                a.cn = Some("Sam Rivera (Billing)".into());
            })
            .athena(|a| {
                a.username = "srivera".into();
                a.with_employee_id = false;
                a.with_email = false;
            })
            .done(),
        // Planted: bills claims and administers athenahealth users.
        Draft::new(1042, "Wendell", "Marchetti", "Billing Lead", Billing, MAIN)
            .athena(|a| {
                if let Some((_, roles)) = a.roles.first_mut() {
                    roles.push("User Admin".into());
                }
            })
            .entra(|u| u.methods = vec![Method::Password, Method::Fido2])
            .done(),
        Draft::new(1043, "Philippa", "Grunewald", "Medical Coder", Billing, MAIN).done(),
        Draft::new(1044, "Augustin", "Mbala", "Billing Specialist", Billing, NORTH).done(),
        // IT.
        // Planted: Global Administrator with a mobile phone registered.
        Draft::new(1050, "Tobias", "Lindgren", "IT Administrator", It, MAIN)
            .entra(|u| {
                u.roles = vec![GLOBAL_ADMIN.into()];
                u.methods = vec![Method::Password, Method::Fido2, Method::MobilePhone];
            })
            .done(),
        Draft::new(1051, "Saskia", "Brenner", "IT Administrator", It, MAIN)
            .entra(|u| {
                u.eligible_roles = vec![GLOBAL_ADMIN.into()];
                u.methods = vec![Method::Password, Method::WindowsHello, Method::Fido2];
            })
            .done(),
        // Planted: a title no job role covers.
        Draft::new(1060, "Quentin", "Abara", "Courier", Other, MAIN).done(),
        // People HR does not know.
        // Planted: a consultant's AD account.
        Draft::new(0, "Lysander", "Voss", "Consultant", Other, MAIN)
            .with(|p| {
                p.employee_id = None;
                p.entra = None;
                p.ad = Some(AdUser {
                    cn: None,
                    sam: "lvoss".into(),
                    enabled: true,
                    with_employee_id: false,
                    groups: strs(&["All Staff", "Billing"]),
                    admin_count: false,
                    rid: 1900,
                });
            })
            .done(),
        // Planted: a shared front desk login.
        Draft::new(0, "Front", "Desk", "Front Desk", FrontDesk, EAST)
            .with(|p| {
                p.employee_id = None;
                p.entra = None;
                p.ad = None;
            })
            .athena(|a| {
                a.username = "frontdesk1".into();
                a.with_employee_id = false;
            })
            .done(),
    ];
    TenantSpec {
        id: "harborview".into(),
        name: "Harborview Family Health".into(),
        domain: "harborview.example".into(),
        domain_sid: "S-1-5-21-3480011935-1104523768-2214570301".into(),
        base_dn: "DC=harborview,DC=example".into(),
        reference: Utc.with_ymd_and_hms(2026, 12, 1, 15, 0, 0).single().unwrap_or_default(),
        entra_groups: strs(&[
            "All Staff",
            "Clinical Staff",
            "Providers",
            "Front Office",
            "Billing",
            "Managers",
            "IT Admins",
        ]),
        ad_groups: vec![
            ("All Staff".into(), None),
            ("Clinical Staff".into(), None),
            ("Nursing".into(), None),
            ("Front Office".into(), None),
            ("Billing".into(), None),
            ("Managers".into(), None),
            ("IT Admins".into(), None),
            ("Domain Admins".into(), Some(512)),
        ],
        ad_nesting: vec![("Nursing".into(), "Clinical Staff".into())],
        practices: vec![
            (MAIN.0.into(), MAIN.1.into()),
            (NORTH.0.into(), NORTH.1.into()),
            (EAST.0.into(), EAST.1.into()),
        ],
        policy_methods: vec![
            ("Sms", true),
            ("Voice", false),
            ("Email", true),
            ("Fido2", true),
            ("MicrosoftAuthenticator", true),
        ],
        people,
        policy_yaml: POLICY.into(),
    }
}

const POLICY: &str = r#"policy:
  common_baseline:
    entra: ["group:All Staff"]
    ldap: ["group:All Staff"]
  privileged_entitlements:
    "ehr:athenahealth": ["role:User Admin*", "role:Practice Admin", "role:Clinicals: EPCS Enrollment Approval"]
  job_roles:
    medical-director:
      description: Leads the clinical staff and approves EPCS enrollment.
      match: { titles: ["Medical Director"] }
      privileged: true
      baseline:
        entra: ["group:Clinical Staff", "group:Providers"]
        ldap: ["group:Clinical Staff"]
        "ehr:*": ["role:Clinicals: Provider", "role:Clinicals: EPCS Enrollment Approval"]
    physician:
      description: Physicians, nurse practitioners and physician assistants.
      match: { titles: ["Physician", "Nurse Practitioner", "Physician Assistant"] }
      baseline:
        entra: ["group:Clinical Staff", "group:Providers"]
        ldap: ["group:Clinical Staff"]
        "ehr:*": ["role:Clinicals: Provider"]
    nurse:
      match: { titles: ["Registered Nurse", "Licensed Practical Nurse"] }
      baseline:
        entra: ["group:Clinical Staff"]
        ldap: ["group:Nursing", "group:Clinical Staff"]
        "ehr:*": ["role:Clinicals: Nurse"]
    medical-assistant:
      match: { titles: ["Medical Assistant"] }
      baseline:
        entra: ["group:Clinical Staff"]
        ldap: ["group:Clinical Staff"]
        "ehr:*": ["role:Clinicals: Medical Assistant", "role:Clinicals: *"]
    front-desk:
      match: { titles: ["Front Desk*", "Patient Services*"] }
      baseline:
        entra: ["group:Front Office"]
        ldap: ["group:Front Office"]
        "ehr:*": ["role:Front Desk", "role:Scheduling"]
    billing:
      match: { titles: ["Billing*", "Medical Coder"] }
      baseline:
        entra: ["group:Billing"]
        ldap: ["group:Billing"]
        "ehr:*": ["role:Billing", "role:Claims", "role:Reports: Financial"]
    office-manager:
      match: { titles: ["Office Manager", "Practice Manager"] }
      privileged: true
      baseline:
        entra: ["group:Managers", "group:Front Office", "directory_role:User Administrator"]
        ldap: ["group:Managers"]
        "ehr:*": ["role:User Admin", "role:Practice Admin", "role:Reports: Financial", "role:Front Desk", "role:Scheduling"]
    it-admin:
      match: { titles: ["IT *"] }
      privileged: true
      baseline:
        entra: ["*"]
        ldap: ["*"]
  separation_of_duties:
    - name: claims-vs-user-admin
      description: whoever submits claims must not be able to create EHR users
      left: { "ehr:*": ["role:Billing", "role:Claims"] }
      right: { "ehr:*": ["role:User Admin*"] }
"#;
