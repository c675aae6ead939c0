//! Names, mail addresses and managers of reviewers, read from the tenant's stored
//! snapshots: the HR roster first, then directory and EHR accounts that carry the
//! person's employee id.

use std::collections::BTreeMap;

use rollcall_core::TenantData;
use rollcall_core::model::ManagerRef;

/// The facts a mail uses about one person.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Contact {
    /// The name to greet and to list.
    pub name: Option<String>,
    /// The work mail address.
    pub email: Option<String>,
    /// The identity key of the person's manager.
    pub manager: Option<String>,
}

/// The contacts of a tenant's people, by identity key (`hr:<employee id>`).
#[derive(Debug, Clone, Default)]
pub struct Directory {
    people: BTreeMap<String, Contact>,
}

impl Directory {
    /// Builds the directory. The HR roster's name, e-mail and manager come first. An
    /// account with the person's employee id fills what the roster leaves empty, in the
    /// order of the stored sources.
    pub fn from_data(data: &TenantData) -> Directory {
        let mut people: BTreeMap<String, Contact> = BTreeMap::new();
        if let Some(hr) = &data.hr {
            for worker in &hr.workers {
                let contact = people.entry(format!("hr:{}", worker.employee_id)).or_default();
                contact.name = non_blank(worker.name.as_deref());
                contact.email = non_blank(worker.email.as_deref());
                contact.manager = non_blank(worker.manager_employee_id.as_deref())
                    .map(|manager| format!("hr:{manager}"));
            }
        }
        for source in &data.sources {
            let employee_of: BTreeMap<&str, &str> = source
                .accounts
                .iter()
                .filter_map(|a| Some((a.id.as_str(), a.employee_id.as_deref()?)))
                .collect();
            for account in &source.accounts {
                let Some(employee_id) = non_blank(account.employee_id.as_deref()) else {
                    continue;
                };
                let contact = people.entry(format!("hr:{employee_id}")).or_default();
                if contact.name.is_none() {
                    contact.name = non_blank(account.display_name.as_deref());
                }
                if contact.email.is_none() {
                    contact.email = non_blank(account.email.as_deref());
                }
                if contact.manager.is_none() {
                    contact.manager = match &account.manager {
                        Some(ManagerRef::EmployeeId(id)) => non_blank(Some(id)),
                        Some(ManagerRef::Account(id)) => {
                            non_blank(employee_of.get(id.as_str()).copied())
                        }
                        None => None,
                    }
                    .map(|manager| format!("hr:{manager}"));
                }
            }
        }
        Directory { people }
    }

    /// Returns the contact of `identity`, or an empty one for a person no source has.
    pub fn contact(&self, identity: &str) -> Contact {
        self.people.get(identity).cloned().unwrap_or_default()
    }

    /// Returns the person's name, or the identity key when no source gives one.
    pub fn name(&self, identity: &str) -> String {
        self.people
            .get(identity)
            .and_then(|contact| contact.name.clone())
            .unwrap_or_else(|| identity.to_owned())
    }
}

fn non_blank(value: Option<&str>) -> Option<String> {
    value.map(str::trim).filter(|value| !value.is_empty()).map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use rollcall_core::model::{Account, HrSnapshot, SourceSnapshot, Worker};

    use super::*;

    #[test]
    fn roster_first_then_accounts() {
        let mut lead = Worker::new("E1");
        lead.name = Some("Avery Lead".into());
        lead.email = Some("avery.lead@clinic.example".into());
        let mut staff = Worker::new("E2");
        staff.name = Some("Blair Staff".into());
        staff.email = Some(" ".into());
        let mut directory_account = Account::new("obj-2");
        directory_account.employee_id = Some("E2".into());
        directory_account.email = Some("blair.staff@clinic.example".into());
        directory_account.manager = Some(ManagerRef::Account("obj-1".into()));
        let mut lead_account = Account::new("obj-1");
        lead_account.employee_id = Some("E1".into());
        lead_account.email = Some("other@clinic.example".into());
        let mut entra = SourceSnapshot::new("entra".parse().unwrap());
        entra.accounts = vec![lead_account, directory_account];
        let data = TenantData {
            sources: vec![entra],
            hr: Some(HrSnapshot { collected_at: None, workers: vec![lead, staff] }),
        };

        let directory = Directory::from_data(&data);
        let lead = directory.contact("hr:E1");
        assert_eq!(lead.email.as_deref(), Some("avery.lead@clinic.example"));
        let staff = directory.contact("hr:E2");
        assert_eq!(staff.email.as_deref(), Some("blair.staff@clinic.example"));
        assert_eq!(staff.manager.as_deref(), Some("hr:E1"));
        assert_eq!(directory.name("hr:E2"), "Blair Staff");
        assert_eq!(directory.contact("hr:E9"), Contact::default());
        assert_eq!(directory.name("hr:E9"), "hr:E9");
    }
}
