//! Reads `GET /users/{id}/authentication/methods` and its typed sub-collections.
//!
//! The mixed list distinguishes methods by `@odata.type` only; the typed sub-collections
//! (`phoneMethods`, `fido2Methods`, ...) send no `@odata.type`, so their name gives the
//! type. Types follow the Graph v1.0 and beta `authenticationMethod` resource pages.

use rollcall_core::model::{AuthMethod, MethodKind, PhoneType};
use serde_json::Value;

use super::fields::{Item, Notes};
use super::kind::{MethodCollection, Route, short_type};
use super::records::{Collected, MethodList};

/// Reads the items of a methods response for the user its route names.
pub(crate) fn read_methods(
    items: &[Item],
    route: &Route,
    path: &str,
    out: &mut Collected,
    notes: &mut Notes,
) {
    let Some(user) = route.target.clone().filter(|user| !user.trim().is_empty()) else {
        notes.warn(
            path,
            "these authentication methods do not say whose they are, so they are skipped: \
             save them as `users/<user-id>/authentication/methods.json`",
        );
        return;
    };
    let methods =
        items.iter().filter_map(|item| read_method(item, route.collection, notes)).collect();
    let file = notes.file().to_path_buf();
    out.method_lists.push(MethodList { user, methods, file, path: path.to_owned() });
}

/// Reads one method. Returns `None` only for an item without any type to go by.
fn read_method(item: &Item, collection: MethodCollection, notes: &mut Notes) -> Option<AuthMethod> {
    let raw_type = match item.odata_type().or(collection.item_type()) {
        Some(raw_type) => raw_type.to_owned(),
        None => {
            notes.warn(
                &item.path,
                "this method has no `@odata.type`, so its kind is unknown and it is skipped: \
                 save the raw `authentication/methods` response, which types every method",
            );
            return None;
        }
    };

    let kind = match short_type(&raw_type) {
        "passwordAuthenticationMethod" => MethodKind::Password,
        "emailAuthenticationMethod" => MethodKind::Email,
        "phoneAuthenticationMethod" => phone(item),
        "microsoftAuthenticatorAuthenticationMethod"
        // Deprecated type for passwordless phone sign-in; the same app.
        | "passwordlessMicrosoftAuthenticatorAuthenticationMethod" => {
            MethodKind::MicrosoftAuthenticator
        }
        "softwareOathAuthenticationMethod" => MethodKind::SoftwareOath,
        "hardwareOathAuthenticationMethod" => MethodKind::HardwareOath,
        "fido2AuthenticationMethod" => MethodKind::Fido2,
        "windowsHelloForBusinessAuthenticationMethod" => MethodKind::WindowsHelloForBusiness {
            weak_key: text_is(item, "keyStrength", "weak"),
        },
        "platformCredentialAuthenticationMethod" => MethodKind::PlatformCredential,
        "temporaryAccessPassAuthenticationMethod" => MethodKind::TemporaryAccessPass {
            usable: item.flag("isUsable", notes).value(),
        },
        "qrCodePinAuthenticationMethod" => MethodKind::QrCodePin,
        "externalAuthenticationMethod" => MethodKind::External,
        _ => MethodKind::Unrecognized(raw_type.clone()),
    };

    let mut method = AuthMethod::new(kind, raw_type);
    method.id = match item.get("id") {
        Some(Value::String(id)) if !id.trim().is_empty() => Some(id.clone()),
        _ => None,
    };
    // The resource pages define `createdDateTime`, but several list samples send
    // `creationDateTime`.
    if let Some(key) = item.first_present(&["createdDateTime", "creationDateTime"]) {
        method.created_at = item.time(key, notes).value();
    }
    Some(method)
}

/// A phone method: `phoneType` gives the slot, and `smsSignInState: ready` means the number
/// is also a single-factor SMS sign-in credential.
fn phone(item: &Item) -> MethodKind {
    let phone_type = match item.get("phoneType").and_then(Value::as_str) {
        Some(name) if name.eq_ignore_ascii_case("mobile") => PhoneType::Mobile,
        Some(name) if name.eq_ignore_ascii_case("alternateMobile") => PhoneType::AlternateMobile,
        Some(name) if name.eq_ignore_ascii_case("office") => PhoneType::Office,
        _ => PhoneType::Unspecified,
    };
    MethodKind::Phone { phone_type, sms_sign_in: text_is(item, "smsSignInState", "ready") }
}

fn text_is(item: &Item, key: &str, expected: &str) -> bool {
    item.get(key).and_then(Value::as_str).is_some_and(|text| text.eq_ignore_ascii_case(expected))
}
