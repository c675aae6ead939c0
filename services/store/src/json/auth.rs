//! The JSON form of authentication methods, inside an account's `auth_methods`.

use chrono::{DateTime, Utc};
use rollcall_core::model::{AuthMethod, MethodKind, PhoneType};
use serde::{Deserialize, Serialize};

/// [`AuthMethod`] as stored.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct AuthMethodJson {
    kind: MethodKindJson,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    created_at: Option<DateTime<Utc>>,
    raw_type: String,
}

/// [`MethodKind`], tagged by `type` in snake case.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum MethodKindJson {
    Password,
    Email,
    Phone { phone_type: PhoneTypeJson, sms_sign_in: bool },
    MicrosoftAuthenticator,
    SoftwareOath,
    HardwareOath,
    Fido2,
    WindowsHelloForBusiness { weak_key: bool },
    PlatformCredential,
    CertificateMultiFactor,
    TemporaryAccessPass { usable: Option<bool> },
    QrCodePin,
    AppPassword,
    SecurityQuestions,
    External,
    Unrecognized { name: String },
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum PhoneTypeJson {
    Mobile,
    AlternateMobile,
    Office,
    Unspecified,
}

impl From<&AuthMethod> for AuthMethodJson {
    fn from(method: &AuthMethod) -> Self {
        Self {
            kind: MethodKindJson::from(&method.kind),
            id: method.id.clone(),
            created_at: method.created_at,
            raw_type: method.raw_type.clone(),
        }
    }
}

impl From<AuthMethodJson> for AuthMethod {
    fn from(json: AuthMethodJson) -> Self {
        Self {
            kind: json.kind.into(),
            id: json.id,
            created_at: json.created_at,
            raw_type: json.raw_type,
        }
    }
}

impl From<&MethodKind> for MethodKindJson {
    fn from(kind: &MethodKind) -> Self {
        match kind {
            MethodKind::Password => Self::Password,
            MethodKind::Email => Self::Email,
            MethodKind::Phone { phone_type, sms_sign_in } => {
                Self::Phone { phone_type: (*phone_type).into(), sms_sign_in: *sms_sign_in }
            }
            MethodKind::MicrosoftAuthenticator => Self::MicrosoftAuthenticator,
            MethodKind::SoftwareOath => Self::SoftwareOath,
            MethodKind::HardwareOath => Self::HardwareOath,
            MethodKind::Fido2 => Self::Fido2,
            MethodKind::WindowsHelloForBusiness { weak_key } => {
                Self::WindowsHelloForBusiness { weak_key: *weak_key }
            }
            MethodKind::PlatformCredential => Self::PlatformCredential,
            MethodKind::CertificateMultiFactor => Self::CertificateMultiFactor,
            MethodKind::TemporaryAccessPass { usable } => {
                Self::TemporaryAccessPass { usable: *usable }
            }
            MethodKind::QrCodePin => Self::QrCodePin,
            MethodKind::AppPassword => Self::AppPassword,
            MethodKind::SecurityQuestions => Self::SecurityQuestions,
            MethodKind::External => Self::External,
            MethodKind::Unrecognized(name) => Self::Unrecognized { name: name.clone() },
        }
    }
}

impl From<MethodKindJson> for MethodKind {
    fn from(json: MethodKindJson) -> Self {
        match json {
            MethodKindJson::Password => Self::Password,
            MethodKindJson::Email => Self::Email,
            MethodKindJson::Phone { phone_type, sms_sign_in } => {
                Self::Phone { phone_type: phone_type.into(), sms_sign_in }
            }
            MethodKindJson::MicrosoftAuthenticator => Self::MicrosoftAuthenticator,
            MethodKindJson::SoftwareOath => Self::SoftwareOath,
            MethodKindJson::HardwareOath => Self::HardwareOath,
            MethodKindJson::Fido2 => Self::Fido2,
            MethodKindJson::WindowsHelloForBusiness { weak_key } => {
                Self::WindowsHelloForBusiness { weak_key }
            }
            MethodKindJson::PlatformCredential => Self::PlatformCredential,
            MethodKindJson::CertificateMultiFactor => Self::CertificateMultiFactor,
            MethodKindJson::TemporaryAccessPass { usable } => Self::TemporaryAccessPass { usable },
            MethodKindJson::QrCodePin => Self::QrCodePin,
            MethodKindJson::AppPassword => Self::AppPassword,
            MethodKindJson::SecurityQuestions => Self::SecurityQuestions,
            MethodKindJson::External => Self::External,
            MethodKindJson::Unrecognized { name } => Self::Unrecognized(name),
        }
    }
}

impl From<PhoneType> for PhoneTypeJson {
    fn from(phone_type: PhoneType) -> Self {
        match phone_type {
            PhoneType::Mobile => Self::Mobile,
            PhoneType::AlternateMobile => Self::AlternateMobile,
            PhoneType::Office => Self::Office,
            PhoneType::Unspecified => Self::Unspecified,
        }
    }
}

impl From<PhoneTypeJson> for PhoneType {
    fn from(json: PhoneTypeJson) -> Self {
        match json {
            PhoneTypeJson::Mobile => Self::Mobile,
            PhoneTypeJson::AlternateMobile => Self::AlternateMobile,
            PhoneTypeJson::Office => Self::Office,
            PhoneTypeJson::Unspecified => Self::Unspecified,
        }
    }
}
