//! The JSON form of a finding's subject and evidence.

use std::str::FromStr;

use rollcall_core::finding::{
    AccountSubject, EntitlementSubject, Evidence, IdentitySubject, Subject,
};
use rollcall_core::model::{AccountRef, SourceId};
use serde::{Deserialize, Serialize};

/// [`Subject`] as stored. Source ids are written as text (`ehr:epic`).
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct SubjectJson {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    identity: Option<IdentityJson>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    account: Option<AccountSubjectJson>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    entitlement: Option<EntitlementSubjectJson>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    source: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct IdentityJson {
    key: String,
    name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    employee_id: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct AccountSubjectJson {
    source: String,
    id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    login: Option<String>,
    name: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct EntitlementSubjectJson {
    source: String,
    id: String,
    name: String,
}

/// [`Evidence`] as stored.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct EvidenceJson {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    source: Option<String>,
    record: String,
    field: String,
    value: String,
}

impl From<&Subject> for SubjectJson {
    fn from(subject: &Subject) -> Self {
        Self {
            identity: subject.identity.as_ref().map(|identity| IdentityJson {
                key: identity.key.clone(),
                name: identity.name.clone(),
                employee_id: identity.employee_id.clone(),
            }),
            account: subject.account.as_ref().map(|account| AccountSubjectJson {
                source: account.account.source.to_string(),
                id: account.account.id.clone(),
                login: account.login.clone(),
                name: account.name.clone(),
            }),
            entitlement: subject.entitlement.as_ref().map(|entitlement| EntitlementSubjectJson {
                source: entitlement.source.to_string(),
                id: entitlement.id.clone(),
                name: entitlement.name.clone(),
            }),
            source: subject.source.as_ref().map(ToString::to_string),
        }
    }
}

impl TryFrom<SubjectJson> for Subject {
    type Error = String;

    fn try_from(json: SubjectJson) -> Result<Self, String> {
        let account = match json.account {
            Some(account) => Some(AccountSubject {
                account: AccountRef { source: source_id(&account.source)?, id: account.id },
                login: account.login,
                name: account.name,
            }),
            None => None,
        };
        let entitlement = match json.entitlement {
            Some(entitlement) => Some(EntitlementSubject {
                source: source_id(&entitlement.source)?,
                id: entitlement.id,
                name: entitlement.name,
            }),
            None => None,
        };
        Ok(Self {
            identity: json.identity.map(|identity| IdentitySubject {
                key: identity.key,
                name: identity.name,
                employee_id: identity.employee_id,
            }),
            account,
            entitlement,
            source: json.source.as_deref().map(source_id).transpose()?,
        })
    }
}

impl From<&Evidence> for EvidenceJson {
    fn from(evidence: &Evidence) -> Self {
        Self {
            source: evidence.source.as_ref().map(ToString::to_string),
            record: evidence.record.clone(),
            field: evidence.field.clone(),
            value: evidence.value.clone(),
        }
    }
}

impl TryFrom<EvidenceJson> for Evidence {
    type Error = String;

    fn try_from(json: EvidenceJson) -> Result<Self, String> {
        Ok(Self {
            source: json.source.as_deref().map(source_id).transpose()?,
            record: json.record,
            field: json.field,
            value: json.value,
        })
    }
}

fn source_id(text: &str) -> Result<SourceId, String> {
    SourceId::from_str(text).map_err(|e| e.to_string())
}
