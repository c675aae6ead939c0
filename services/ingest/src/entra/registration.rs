//! Reads `GET /reports/authenticationMethods/userRegistrationDetails`.
//!
//! `methodsRegistered` is a free string collection: the resource page gives examples only.
//! The names below also come from the beta sign-in usage enumeration
//! (`userSignInUsageByAuthMethodActivity`) and the `usersRegisteredByMethod` report.

use rollcall_core::model::{AuthMethod, MethodKind, PhoneType};
use serde_json::Value;

use super::fields::{Item, Notes, shorten};
use super::records::{Collected, Registration};

/// Report properties kept in `Account::attributes` as evidence. An empty string is a value
/// Graph sends for the preferred method, so it is kept as it is.
const EVIDENCE: [&str; 6] = [
    "userPreferredMethodForSecondaryAuthentication",
    "systemPreferredAuthenticationMethods",
    "isMfaRegistered",
    "isMfaCapable",
    "isPasswordlessCapable",
    "isAdmin",
];

/// Reads the rows of the registration report.
pub(crate) fn read_registrations(items: &[Item], out: &mut Collected, notes: &mut Notes) {
    for item in items {
        let Some(id) = item.id() else {
            notes.warn(&item.path, "this report row has no `id`, so it is skipped");
            continue;
        };
        let mut row = Registration {
            id,
            upn: item.text("userPrincipalName", notes),
            display_name: item.text("userDisplayName", notes),
            user_type: item.text("userType", notes),
            is_admin: item.flag("isAdmin", notes).value().unwrap_or(false),
            methods: read_registered(item, notes),
            attributes: Default::default(),
            file: notes.file().to_path_buf(),
            path: item.path.clone(),
        };
        for key in EVIDENCE {
            if let Some(raw) = item.raw(key) {
                row.attributes.insert(key.to_owned(), raw);
            }
        }
        out.registrations.push(row);
    }
}

fn read_registered(item: &Item, notes: &mut Notes) -> Option<Vec<AuthMethod>> {
    let names = match item.get("methodsRegistered")? {
        Value::Array(names) => names,
        Value::Null => return Some(Vec::new()),
        other => {
            notes.warn(
                &item.path_of("methodsRegistered"),
                format!(
                    "`methodsRegistered` should be a list of names but is `{}`, so it is \
                     ignored",
                    shorten(&other.to_string())
                ),
            );
            return None;
        }
    };
    let mut methods = Vec::new();
    for (index, name) in names.iter().enumerate() {
        match name.as_str() {
            Some(name) => methods.push(AuthMethod::new(registered_kind(name), name)),
            None => notes.warn(
                &format!("{}[{index}]", item.path_of("methodsRegistered")),
                format!("`{}` is not a method name, so it is skipped", shorten(&name.to_string())),
            ),
        }
    }
    Some(methods)
}

/// Maps one `methodsRegistered` name to a method kind. The report does not say whether SMS
/// sign-in is enabled, so phones are read without it.
pub(crate) fn registered_kind(name: &str) -> MethodKind {
    let phone = |phone_type| MethodKind::Phone { phone_type, sms_sign_in: false };
    let lowered = name.to_ascii_lowercase();
    match lowered.as_str() {
        "mobilephone" | "sms" | "mobilesms" | "mobilecall" => phone(PhoneType::Mobile),
        "alternatemobilephone" | "alternatemobilecall" => phone(PhoneType::AlternateMobile),
        "officephone" => phone(PhoneType::Office),
        "fido2" | "fido" | "fido2securitykey" | "passkeysynced" => MethodKind::Fido2,
        // passKeyDeviceBound, passKeyDeviceBoundAuthenticator, passKeyDeviceBoundWindowsHello.
        other if other.starts_with("passkeydevicebound") => MethodKind::Fido2,
        "windowshelloforbusiness" => MethodKind::WindowsHelloForBusiness { weak_key: false },
        // The macOS Secure Enclave key is the platform credential of macOS Platform SSO.
        "macossecureenclavekey" => MethodKind::PlatformCredential,
        "microsoftauthenticatorpush"
        | "microsoftauthenticatorpasswordless"
        | "appnotification"
        | "appcode" => MethodKind::MicrosoftAuthenticator,
        "softwareonetimepasscode" => MethodKind::SoftwareOath,
        "hardwareonetimepasscode" => MethodKind::HardwareOath,
        "email" => MethodKind::Email,
        "temporaryaccesspass" => MethodKind::TemporaryAccessPass { usable: None },
        "password" => MethodKind::Password,
        "apppassword" => MethodKind::AppPassword,
        "securityquestion" => MethodKind::SecurityQuestions,
        "qrcode" => MethodKind::QrCodePin,
        "externalauthmethod" => MethodKind::External,
        _ => MethodKind::Unrecognized(name.to_owned()),
    }
}
