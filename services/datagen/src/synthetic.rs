//! Seeded synthetic practices for benchmarks, any number of them and of any size. Each
//! has all four sources (Entra with MFA methods and directory roles, Active Directory
//! LDIF, an athenahealth user export, the HR roster), a policy with role baselines, and
//! the problems a real practice has at plausible rates, so that every rule does real work.
//!
//! The same parameters and seed always give byte-identical files: the only randomness is
//! [`Rng`](crate::rng::Rng), seeded per tenant, and every collection is walked in a fixed
//! order.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{Result, bail};
use chrono::{DateTime, TimeZone, Utc};

use crate::example::{GLOBAL_ADMIN, USER_ADMIN, npi_from};
use crate::rng::Rng;
use crate::spec::{
    AdUser, AthenaUser, Employment, EntraUser, Method, MethodsFrom, Person, SignIn, TenantSpec,
    ascii,
};
use crate::write::guid;

/// Helpdesk Administrator, held through PIM by most IT staff.
const HELPDESK_ADMIN: &str = "729827e3-9c14-49f7-bb1b-9608f156bbb8";

/// The instant the data describes; scan with `--as-of` this instant (09:00 in Chicago).
pub const REFERENCE: &str = "2026-12-01T15:00:00Z";

/// The size and seed of a synthetic data set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Params {
    /// Tenant folders.
    pub tenants: usize,
    /// People per tenant.
    pub people: usize,
    /// Memberships per person, counted over all of the person's accounts.
    pub grants: usize,
    /// The seed.
    pub seed: u64,
}

impl Params {
    /// Rejects sizes that cannot make a practice, naming the parameter to fix.
    pub fn check(&self) -> Result<()> {
        if self.tenants == 0 || self.tenants > 9_999 {
            bail!("--tenants must be between 1 and 9999, not {}", self.tenants);
        }
        if self.people < 2 || self.people > 10_000_000 {
            bail!("--people must be between 2 and 10000000, not {}", self.people);
        }
        if self.grants < 3 || self.grants > 1_000 {
            bail!("--grants must be between 3 and 1000, not {}", self.grants);
        }
        Ok(())
    }
}

/// Returns the reference instant.
pub fn reference() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 15, 0, 0).single().unwrap_or_default()
}

/// Names the folder of tenant `index` (0-based).
pub fn folder(index: usize) -> String {
    format!("practice-{:04}", index + 1)
}

/// Writes every tenant of `params` into `out`, one folder each, one tenant in memory at a time.
pub fn write_all(params: &Params, out: &Path) -> Result<()> {
    params.check()?;
    for index in 0..params.tenants {
        let spec = tenant(params, index);
        crate::write::tenant(&spec, &out.join(folder(index)))?;
    }
    Ok(())
}

/// Job families, each with its own groups, EHR roles and baseline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    Physician,
    Nurse,
    Assistant,
    FrontDesk,
    Billing,
    Manager,
    It,
    Other,
}

struct FamilyDef {
    titles: &'static [&'static str],
    department: &'static str,
    entra: &'static [&'static str],
    ad: &'static [&'static str],
    ehr: &'static [&'static str],
    /// Names the family's team groups, shares and extra EHR roles, which the baselines
    /// allow by wildcard.
    team: &'static str,
    ehr_extra: &'static str,
}

impl Family {
    /// Shares per thousand workers, roughly a primary-care group's mix.
    const MIX: [(Family, usize); 8] = [
        (Family::Physician, 120),
        (Family::Nurse, 240),
        (Family::Assistant, 200),
        (Family::FrontDesk, 180),
        (Family::Billing, 140),
        (Family::Manager, 60),
        (Family::It, 40),
        (Family::Other, 20),
    ];

    fn def(self) -> FamilyDef {
        match self {
            Family::Physician => FamilyDef {
                titles: &["Physician", "Nurse Practitioner", "Physician Assistant"],
                department: "Clinical",
                entra: &["Clinical Staff", "Providers"],
                ad: &["Clinical Staff"],
                ehr: &["Clinicals: Provider"],
                team: "Clinical",
                ehr_extra: "Clinicals: Module",
            },
            Family::Nurse => FamilyDef {
                titles: &["Registered Nurse", "Licensed Practical Nurse"],
                department: "Nursing",
                entra: &["Clinical Staff"],
                ad: &["Nursing"],
                ehr: &["Clinicals: Nurse"],
                team: "Clinical",
                ehr_extra: "Clinicals: Module",
            },
            Family::Assistant => FamilyDef {
                titles: &["Medical Assistant"],
                department: "Clinical",
                entra: &["Clinical Staff"],
                ad: &["Clinical Staff"],
                ehr: &["Clinicals: Medical Assistant"],
                team: "Clinical",
                ehr_extra: "Clinicals: Module",
            },
            Family::FrontDesk => FamilyDef {
                titles: &["Front Desk Coordinator", "Patient Services Representative"],
                department: "Front Office",
                entra: &["Front Office"],
                ad: &["Front Office"],
                ehr: &["Front Desk", "Scheduling"],
                team: "Front Office",
                ehr_extra: "Front Desk: Queue",
            },
            Family::Billing => FamilyDef {
                titles: &["Billing Specialist", "Medical Coder", "Billing Lead"],
                department: "Billing",
                entra: &["Billing"],
                ad: &["Billing"],
                ehr: &["Billing", "Claims", "Reports: Financial"],
                team: "Billing",
                ehr_extra: "Billing: Batch",
            },
            Family::Manager => FamilyDef {
                titles: &["Office Manager", "Practice Manager"],
                department: "Administration",
                entra: &["Managers", "Front Office"],
                ad: &["Managers"],
                ehr: &["User Admin", "Practice Admin", "Reports: Financial"],
                team: "Management",
                ehr_extra: "Reports: Operations",
            },
            Family::It => FamilyDef {
                titles: &["IT Administrator", "IT Support Technician"],
                department: "IT",
                entra: &["IT Admins"],
                ad: &["IT Admins", "Domain Admins"],
                ehr: &[],
                team: "IT",
                ehr_extra: "",
            },
            Family::Other => FamilyDef {
                titles: &["Courier", "Facilities Coordinator"],
                department: "Operations",
                entra: &[],
                ad: &[],
                ehr: &[],
                team: "Operations",
                ehr_extra: "",
            },
        }
    }

    fn draw(rng: &mut Rng) -> Family {
        let mut n = rng.below(1000);
        for (family, share) in Self::MIX {
            if n < share {
                return family;
            }
            n -= share;
        }
        Family::Other
    }

    fn privileged(self) -> bool {
        matches!(self, Family::Manager | Family::It)
    }
}

/// Made-up given and family names; combinations repeat in large tenants, as real names do.
const GIVEN: &[&str] = &[
    "Aldric",
    "Briony",
    "Caius",
    "Dagny",
    "Elowen",
    "Fenwick",
    "Galina",
    "Hartley",
    "Isolde",
    "Jorund",
    "Kestrel",
    "Liesl",
    "Marek",
    "Nerys",
    "Osric",
    "Petronella",
    "Quillon",
    "Rosamund",
    "Sevrin",
    "Tamsin",
    "Ulla",
    "Vesper",
    "Wendeline",
    "Xanthe",
    "Yorick",
    "Zelda",
    "Anouk",
    "Bastien",
    "Corisande",
    "Dorian",
    "Eirlys",
    "Florentin",
    "Gwenllian",
    "Hadrian",
    "Ilse",
    "Joachim",
    "Katrien",
    "Leopold",
    "Mireille",
    "Niamh",
    "Odalys",
    "Perpetua",
    "Radomir",
    "Sidonie",
    "Thibault",
    "Ursel",
    "Valerian",
    "Wilhelmina",
    "Ysolde",
    "Zoltan",
];
const FAMILY: &[&str] = &[
    "Abernethy",
    "Bellweather",
    "Castellane",
    "Dunmore",
    "Eskildsen",
    "Fairbrook",
    "Grimsby",
    "Halloran",
    "Ingleby",
    "Jessup",
    "Kettering",
    "Lindqvist",
    "Marchbanks",
    "Nettleford",
    "Oakhurst",
    "Pemberly",
    "Quarrington",
    "Rothwell",
    "Stellan",
    "Thistlewood",
    "Underhill",
    "Vantongeren",
    "Whitlock",
    "Yarborough",
    "Zellweger",
    "Ashcombe",
    "Birchall",
    "Corwen",
    "Davenant",
    "Elsworth",
    "Fenmore",
    "Gallowglass",
    "Hawtrey",
    "Ivesdale",
    "Juniper",
    "Kilbride",
    "Lockridge",
    "Merriweather",
    "Northcote",
    "Osgood",
    "Penhallow",
    "Redgrave",
    "Sallowby",
    "Treverton",
    "Umberleigh",
    "Vexford",
    "Wainscott",
    "Yelverton",
    "Zanetti",
    "Ambleside",
    "Brackenridge",
    "Coldharbour",
    "Drummondsay",
    "Edgecombe",
    "Foxwell",
    "Glenister",
    "Holloway",
    "Inchbald",
    "Jardine",
    "Kirkwood",
];

/// Grants per source for one person with the given accounts, out of `total`, split about
/// 40/35/25 over Entra, AD and the EHR.
fn split(total: usize, entra: bool, ad: bool, ehr: bool) -> (usize, usize, usize) {
    let weights = [(entra, 40), (ad, 35), (ehr, 25)];
    let sum: usize = weights.iter().filter(|(on, _)| *on).map(|(_, w)| w).sum();
    if sum == 0 {
        return (0, 0, 0);
    }
    let share = |on: bool, w: usize| if on { (total * w + sum / 2) / sum } else { 0 };
    let e = share(entra, 40);
    let a = share(ad, 35);
    let h = if ehr { total.saturating_sub(e + a) } else { 0 };
    (e, a, h)
}

/// `count` distinct names from `pool`, in pool order.
fn sample(rng: &mut Rng, pool: &[String], count: usize) -> Vec<String> {
    let mut indices: Vec<usize> = (0..pool.len()).collect();
    let count = count.min(pool.len());
    for i in 0..count {
        let j = i + rng.below(pool.len() - i);
        indices.swap(i, j);
    }
    let mut chosen = indices.get(..count).unwrap_or(&[]).to_vec();
    chosen.sort_unstable();
    chosen.iter().filter_map(|i| pool.get(*i).cloned()).collect()
}

/// The wildcard-allowed pools of one family: Entra team groups, AD shares, EHR roles.
struct Pools {
    entra: Vec<String>,
    ad: Vec<String>,
    ehr: Vec<String>,
}

/// Builds the pools of one family for a target of `grants` per person. Each pool is one entry
/// smaller than the source's share, so that each entry is held by most of the family:
/// common enough not to make everyone a peer outlier, yet varied between people.
fn pools(def: &FamilyDef, grants: usize) -> Pools {
    let (entra, ad, ehr) = split(grants, true, !def.ad.is_empty(), !def.ehr.is_empty());
    let size = |share: usize| share.saturating_sub(1).max(2);
    Pools {
        entra: (1..=size(entra)).map(|k| format!("{} Team {k:02}", def.team)).collect(),
        ad: (1..=size(ad)).map(|k| format!("Share {} {k:02}", def.team)).collect(),
        ehr: if def.ehr_extra.is_empty() {
            Vec::new()
        } else {
            (1..=size(ehr)).map(|k| format!("{} {k:02}", def.ehr_extra)).collect()
        },
    }
}

/// Builds tenant `index` (0-based) of `params`.
pub fn tenant(params: &Params, index: usize) -> TenantSpec {
    let mut rng = Rng::new(params.seed, index as u64);
    let sites = (params.people / 40).clamp(1, 40);
    let site_name = |s: usize| format!("Site {:02} Clinic", s + 1);
    let practice_id = |s: usize| format!("7{:04}", s + 1);
    let families = Family::MIX.map(|(family, _)| family);
    let family_pools: Vec<(Family, Pools)> =
        families.iter().map(|f| (*f, pools(&f.def(), params.grants))).collect();
    let pools_of = |family: Family| family_pools.iter().find(|(f, _)| *f == family).map(|(_, p)| p);

    let mut handles: HashMap<String, usize> = HashMap::new();
    let mut logins: HashMap<String, usize> = HashMap::new();
    let mut names: HashMap<String, usize> = HashMap::new();
    let mut people = Vec::with_capacity(params.people);
    for i in 0..params.people {
        let site = i % sites;
        // The first person of each site manages it.
        let family = if i < sites { Family::Manager } else { Family::draw(&mut rng) };
        let def = family.def();
        let given = rng.pick(GIVEN).copied().unwrap_or("Alex");
        let family_name = rng.pick(FAMILY).copied().unwrap_or("Doe");
        let base_handle = format!("{}.{}", ascii(given), ascii(family_name));
        let seen = handles.entry(base_handle.clone()).or_insert(0);
        *seen += 1;
        let handle = (*seen > 1).then(|| format!("{base_handle}{seen}"));
        let full_name = format!("{given} {family_name}");
        let same_name = names.entry(full_name.clone()).or_insert(0);
        *same_name += 1;
        let base_sam =
            format!("{}{}", ascii(given).chars().next().unwrap_or('x'), ascii(family_name));
        let seen_sam = logins.entry(base_sam.clone()).or_insert(0);
        *seen_sam += 1;
        let sam = if *seen_sam > 1 { format!("{base_sam}{seen_sam}") } else { base_sam };
        let cn = (*same_name > 1).then(|| format!("{full_name} ({sam})"));
        let number = 100_000 + i;
        let title = rng.pick(def.titles).copied().unwrap_or("Staff");

        let has_entra = true;
        let has_ad = !def.ad.is_empty();
        let has_ehr = !def.ehr.is_empty();
        let (n_entra, n_ad, n_ehr) = split(params.grants, has_entra, has_ad, has_ehr);

        // Per source: everyone's group, the family's, the site's, then the family's pool,
        // cut to the source's share (at least one each) so that small targets stay small.
        let pools = pools_of(family);
        let fill = |rng: &mut Rng, mut list: Vec<String>, pool: Option<&Vec<String>>, n: usize| {
            list.truncate(n.max(1));
            if let Some(pool) = pool {
                let extra = n.saturating_sub(list.len());
                list.extend(sample(rng, pool, extra));
            }
            list
        };
        let mut entra_groups = vec!["All Staff".to_owned()];
        entra_groups.extend(def.entra.iter().map(|g| (*g).to_owned()));
        entra_groups.push(format!("Site {:02} Staff", site + 1));
        let mut entra_groups = fill(&mut rng, entra_groups, pools.map(|p| &p.entra), n_entra);
        let mut ad_groups = vec!["All Staff".to_owned()];
        ad_groups.extend(def.ad.iter().map(|g| (*g).to_owned()));
        ad_groups.push(format!("Site {:02} Users", site + 1));
        let mut ad_groups = fill(&mut rng, ad_groups, pools.map(|p| &p.ad), n_ad);
        let ehr_roles: Vec<String> = def.ehr.iter().map(|r| (*r).to_owned()).collect();
        let mut ehr_roles = fill(&mut rng, ehr_roles, pools.map(|p| &p.ehr), n_ehr);

        let privileged = family.privileged();
        let mut methods = if privileged || family == Family::Physician {
            vec![Method::Password, Method::Fido2]
        } else {
            vec![Method::Password, Method::Authenticator]
        };
        let mut methods_from = MethodsFrom::Report;
        // MFA problems: SMS only, no second factor, a privileged person with a phone.
        if rng.chance(20) {
            methods = vec![Method::Password, Method::MobilePhone];
        } else if rng.chance(10) {
            methods = vec![Method::Password, Method::Email];
        } else if privileged && rng.chance(100) {
            methods.push(Method::MobilePhone);
        }
        // Some method lists come from per-user Graph responses, a few with a new method type.
        if rng.chance(20) {
            methods_from = MethodsFrom::PerUser;
            if rng.chance(100) {
                methods.push(Method::Future);
            }
        }
        let mut roles = Vec::new();
        let mut eligible_roles = Vec::new();
        match family {
            Family::Manager => eligible_roles.push(USER_ADMIN.to_owned()),
            Family::It if rng.chance(300) => roles.push(GLOBAL_ADMIN.to_owned()),
            Family::It => eligible_roles.push(HELPDESK_ADMIN.to_owned()),
            _ if rng.chance(2) => roles.push(HELPDESK_ADMIN.to_owned()),
            _ => {}
        }

        // Access outside the baseline: another family's group in one source.
        if rng.chance(25) {
            let other = rng.pick(&families).copied().unwrap_or(family);
            let other_def = other.def();
            let (list, group) = match rng.pick(other_def.ad).filter(|_| has_ad) {
                Some(group) => (&mut ad_groups, *group),
                None => (&mut entra_groups, rng.pick(other_def.entra).copied().unwrap_or("")),
            };
            if other != family && !group.is_empty() && !list.iter().any(|g| g == group) {
                list.push(group.to_owned());
            }
        }
        // A team group almost nobody else in the family has: a peer outlier.
        if rng.chance(5) {
            entra_groups.push(format!("{} Team X{}", def.team, rng.below(3) + 1));
        }
        // Billing staff who also administer EHR users: separation of duties.
        if family == Family::Billing && rng.chance(20) {
            ehr_roles.push("User Admin".to_owned());
        }

        let mut employment = Employment::Active;
        let mut entra_enabled = true;
        let mut ad_enabled = true;
        let mut blocked = false;
        // Leavers: most are deprovisioned, some are inside the deadline, some overdue.
        if i >= sites && rng.chance(40) {
            let roll = rng.below(10);
            if roll < 7 {
                employment = Employment::TerminatedHoursAgo(rng.between(48, 4_800));
                entra_enabled = false;
                ad_enabled = false;
                blocked = true;
            } else if roll < 8 {
                employment = Employment::TerminatedHoursAgo(rng.between(1, 20));
            } else {
                employment = Employment::TerminatedHoursAgo(rng.between(30, 2_000));
                entra_enabled = rng.chance(500);
                ad_enabled = !entra_enabled || rng.chance(500);
            }
        } else if rng.chance(10) {
            employment = Employment::Leave;
            ad_enabled = false;
        }

        let sign_in = if rng.chance(5) {
            SignIn::Never
        } else if rng.chance(30) {
            SignIn::DaysAgo(rng.between(95, 400))
        } else {
            SignIn::DaysAgo(rng.between(0, 20))
        };
        let last_login = if rng.chance(5) {
            None
        } else if rng.chance(30) {
            Some(SignIn::DaysAgo(rng.between(65, 300)))
        } else {
            Some(SignIn::DaysAgo(rng.between(0, 14)))
        };
        let created_days_ago = if sign_in == SignIn::Never { 120 } else { rng.between(200, 3_000) };

        let entra = has_entra.then(|| EntraUser {
            id: guid(0x6e7a_1000, i),
            upn: String::new(),
            enabled: entra_enabled,
            with_employee_id: !rng.chance(20),
            guest: false,
            sign_in,
            created_days_ago,
            methods,
            methods_from,
            groups: entra_groups,
            roles,
            eligible_roles,
        });
        let ad = has_ad.then(|| AdUser {
            cn: cn.clone(),
            sam: sam.clone(),
            enabled: ad_enabled,
            with_employee_id: !rng.chance(30),
            admin_count: ad_groups.iter().any(|g| g == "Domain Admins"),
            groups: ad_groups,
            rid: 1_100 + u32::try_from(i).unwrap_or(u32::MAX - 1_100),
        });
        let athena = has_ehr.then(|| {
            let mut practices = vec![(practice_id(site), ehr_roles.clone())];
            // Some staff float to a second site with the same roles.
            if sites > 1 && rng.chance(100) {
                practices.push((practice_id((site + 1) % sites), ehr_roles.clone()));
            }
            AthenaUser {
                username: sam.clone(),
                roles: practices,
                blocked,
                with_employee_id: !rng.chance(30),
                with_email: !rng.chance(10),
                last_login,
                provider: (family == Family::Physician)
                    .then(|| (npi_from(&format!("9{:08}", number)), "Approved".to_owned())),
                position: title.to_owned(),
            }
        });
        let mut person = Person {
            employee_id: Some(format!("E{number}")),
            handle,
            given: given.to_owned(),
            family: family_name.to_owned(),
            title: title.to_owned(),
            department: def.department.to_owned(),
            location: site_name(site),
            employment,
            manager: if i == 0 {
                None
            } else if i < sites {
                Some("E100000".to_owned())
            } else {
                Some(format!("E{}", 100_000 + site))
            },
            hired_days_ago: created_days_ago + rng.between(0, 30),
            entra,
            ad,
            athena,
        };
        // A consultant HR does not know: an orphan AD account.
        if i >= sites && rng.chance(5) {
            person.employee_id = None;
            person.entra = None;
            person.athena = None;
            person.title = "Consultant".to_owned();
            if let Some(ad) = person.ad.as_mut() {
                ad.with_employee_id = false;
            }
        }
        let upn = format!("{}@practice{:04}.example", person.handle(), index + 1);
        if let Some(entra) = person.entra.as_mut() {
            entra.upn = upn;
        }
        people.push(person);
    }

    // One shared front-desk login per site.
    for site in 0..sites {
        people.push(Person {
            employee_id: None,
            handle: Some(format!("frontdesk{}", site + 1)),
            given: "Front".to_owned(),
            family: "Desk".to_owned(),
            title: "Front Desk".to_owned(),
            department: "Front Office".to_owned(),
            location: site_name(site),
            employment: Employment::Active,
            manager: None,
            hired_days_ago: 1_000,
            entra: None,
            ad: None,
            athena: Some(AthenaUser {
                username: format!("frontdesk{}", site + 1),
                roles: vec![(practice_id(site), vec!["Front Desk".into(), "Scheduling".into()])],
                blocked: false,
                with_employee_id: false,
                with_email: false,
                last_login: Some(SignIn::DaysAgo(1)),
                provider: None,
                position: "Front Desk".to_owned(),
            }),
        });
    }

    let mut entra_groups: Vec<String> = [
        "All Staff",
        "Clinical Staff",
        "Providers",
        "Front Office",
        "Billing",
        "Managers",
        "IT Admins",
    ]
    .iter()
    .map(|g| (*g).to_owned())
    .collect();
    entra_groups.extend((1..=sites).map(|s| format!("Site {s:02} Staff")));
    let mut ad_groups: Vec<(String, Option<u32>)> = [
        "All Staff",
        "Clinical Staff",
        "Nursing",
        "Front Office",
        "Billing",
        "Managers",
        "IT Admins",
    ]
    .iter()
    .map(|g| ((*g).to_owned(), None))
    .collect();
    ad_groups.push(("Domain Admins".to_owned(), Some(512)));
    ad_groups.extend((1..=sites).map(|s| (format!("Site {s:02} Users"), None)));
    // Every pool entry is a group, held or not; families that share a team share groups.
    let mut listed: std::collections::HashSet<String> = std::collections::HashSet::new();
    for (family, pools) in &family_pools {
        let team = family.def().team;
        let rare = (1..=3).map(|k| format!("{team} Team X{k}"));
        for group in pools.entra.iter().cloned().chain(rare) {
            if listed.insert(format!("entra {group}")) {
                entra_groups.push(group);
            }
        }
        for group in &pools.ad {
            if listed.insert(format!("ad {group}")) {
                ad_groups.push((group.clone(), None));
            }
        }
    }

    let domain_sid = format!(
        "S-1-5-21-{}-{}-{}",
        1_000_000_000 + rng.below(1_000_000_000),
        1_000_000_000 + rng.below(1_000_000_000),
        1_000_000_000 + rng.below(1_000_000_000)
    );
    TenantSpec {
        id: folder(index),
        name: format!("Synthetic Practice {:04}", index + 1),
        domain: format!("practice{:04}.example", index + 1),
        domain_sid,
        base_dn: format!("DC=practice{:04},DC=example", index + 1),
        reference: reference(),
        entra_groups,
        ad_groups,
        ad_nesting: vec![("Nursing".into(), "Clinical Staff".into())],
        practices: (0..sites).map(|s| (practice_id(s), site_name(s))).collect(),
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

/// The policy of every synthetic practice: exact baseline entries for the family groups
/// and wildcards for the team groups, shares and extra EHR roles.
const POLICY: &str = r#"policy:
  common_baseline:
    entra: ["group:All Staff", "group:Site * Staff"]
    ldap: ["group:All Staff", "group:Site * Users"]
  privileged_entitlements:
    "ehr:athenahealth": ["role:User Admin*", "role:Practice Admin"]
  job_roles:
    physician:
      description: Physicians, nurse practitioners and physician assistants.
      match: { titles: ["Physician", "Nurse Practitioner", "Physician Assistant"] }
      baseline:
        entra: ["group:Clinical Staff", "group:Providers", "group:Clinical Team *"]
        ldap: ["group:Clinical Staff", "group:Share Clinical *"]
        "ehr:*": ["role:Clinicals: Provider", "role:Clinicals: Module *"]
    nurse:
      match: { titles: ["Registered Nurse", "Licensed Practical Nurse"] }
      baseline:
        entra: ["group:Clinical Staff", "group:Clinical Team *"]
        ldap: ["group:Nursing", "group:Clinical Staff", "group:Share Clinical *"]
        "ehr:*": ["role:Clinicals: Nurse", "role:Clinicals: Module *"]
    medical-assistant:
      match: { titles: ["Medical Assistant"] }
      baseline:
        entra: ["group:Clinical Staff", "group:Clinical Team *"]
        ldap: ["group:Clinical Staff", "group:Share Clinical *"]
        "ehr:*": ["role:Clinicals: Medical Assistant", "role:Clinicals: Module *"]
    front-desk:
      match: { titles: ["Front Desk*", "Patient Services*"] }
      baseline:
        entra: ["group:Front Office", "group:Front Office Team *"]
        ldap: ["group:Front Office", "group:Share Front Office *"]
        "ehr:*": ["role:Front Desk", "role:Scheduling", "role:Front Desk: Queue *"]
    billing:
      match: { titles: ["Billing*", "Medical Coder"] }
      baseline:
        entra: ["group:Billing", "group:Billing Team *"]
        ldap: ["group:Billing", "group:Share Billing *"]
        "ehr:*": ["role:Billing", "role:Claims", "role:Reports: Financial", "role:Billing: Batch *"]
    office-manager:
      match: { titles: ["Office Manager", "Practice Manager"] }
      privileged: true
      baseline:
        entra: ["group:Managers", "group:Front Office", "directory_role:User Administrator", "group:Management Team *"]
        ldap: ["group:Managers", "group:Share Management *"]
        "ehr:*": ["role:User Admin", "role:Practice Admin", "role:Reports: Financial", "role:Reports: Operations *"]
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

#[cfg(test)]
mod tests {
    use super::*;

    fn params(people: usize, grants: usize) -> Params {
        Params { tenants: 1, people, grants, seed: 7 }
    }

    #[test]
    fn grants_per_person_are_about_the_target() {
        for grants in [5, 10, 20, 40] {
            let spec = tenant(&params(2_000, grants), 0);
            let staff: Vec<&Person> =
                spec.people.iter().filter(|p| p.employee_id.is_some()).collect();
            let total: usize = staff
                .iter()
                .map(|p| {
                    p.entra.as_ref().map_or(0, |u| u.groups.len() + u.roles.len())
                        + p.ad.as_ref().map_or(0, |u| u.groups.len())
                        + p.athena
                            .as_ref()
                            .map_or(0, |u| u.roles.iter().map(|(_, r)| r.len()).sum())
                })
                .sum();
            let mean = total as f64 / staff.len() as f64;
            let target = grants as f64;
            assert!(
                (mean - target).abs() <= target * 0.25 + 1.0,
                "{mean:.1} grants per person for a target of {grants}"
            );
        }
    }

    #[test]
    fn handles_and_logins_are_unique() {
        let spec = tenant(&params(5_000, 10), 0);
        let mut handles: Vec<String> = spec.people.iter().map(Person::handle).collect();
        let count = handles.len();
        handles.sort();
        handles.dedup();
        assert_eq!(handles.len(), count);
        let mut dns: Vec<String> = spec
            .people
            .iter()
            .filter_map(|p| p.ad.as_ref().map(|a| a.cn.clone().unwrap_or_else(|| p.name())))
            .collect();
        let count = dns.len();
        dns.sort();
        dns.dedup();
        assert_eq!(dns.len(), count, "two AD accounts would share a DN");
    }

    #[test]
    fn tenants_differ_and_repeat() {
        let p = Params { tenants: 2, people: 50, grants: 10, seed: 3 };
        let a = tenant(&p, 0);
        let again = tenant(&p, 0);
        let b = tenant(&p, 1);
        assert_eq!(format!("{:?}", a.people), format!("{:?}", again.people));
        assert_ne!(format!("{:?}", a.people), format!("{:?}", b.people));
    }

    #[test]
    fn bad_sizes_are_rejected() {
        let error = Params { tenants: 0, people: 10, grants: 10, seed: 1 }.check().unwrap_err();
        assert!(error.to_string().contains("--tenants"));
        let error = Params { tenants: 1, people: 10, grants: 1, seed: 1 }.check().unwrap_err();
        assert!(error.to_string().contains("--grants"));
    }
}
