//! Conversions of authentication methods between the domain and `rollcall.v1.AuthMethod`.
//!
//! The message carries the method kind as an enum. Some kinds have values of their own
//! (phone slot, SMS sign-in, weak key, pass usability, unrecognized type name), each in a
//! field that stays at its default for every other kind.

use rollcall_core::model::{AuthMethod, MethodKind, PhoneType};

use crate::error::ConvertError;
use crate::v1;
use crate::wire::{enum_from_proto, optional_timestamp_from_proto, optional_timestamp_to_proto};

/// Converts an authentication method into its `rollcall.v1.AuthMethod` message.
pub fn auth_method_to_proto(method: &AuthMethod) -> v1::AuthMethod {
    let mut message = v1::AuthMethod {
        kind: v1::MethodKind::Unspecified.into(),
        id: method.id.clone(),
        created_at: optional_timestamp_to_proto(method.created_at),
        raw_type: method.raw_type.clone(),
        phone_type: v1::PhoneType::Unspecified.into(),
        sms_sign_in: false,
        weak_key: false,
        usable: None,
        unrecognized_type: String::new(),
    };
    let kind = match &method.kind {
        MethodKind::Password => v1::MethodKind::Password,
        MethodKind::Email => v1::MethodKind::Email,
        MethodKind::Phone { phone_type, sms_sign_in } => {
            message.phone_type = phone_type_to_proto(*phone_type).into();
            message.sms_sign_in = *sms_sign_in;
            v1::MethodKind::Phone
        }
        MethodKind::MicrosoftAuthenticator => v1::MethodKind::MicrosoftAuthenticator,
        MethodKind::SoftwareOath => v1::MethodKind::SoftwareOath,
        MethodKind::HardwareOath => v1::MethodKind::HardwareOath,
        MethodKind::Fido2 => v1::MethodKind::Fido2,
        MethodKind::WindowsHelloForBusiness { weak_key } => {
            message.weak_key = *weak_key;
            v1::MethodKind::WindowsHelloForBusiness
        }
        MethodKind::PlatformCredential => v1::MethodKind::PlatformCredential,
        MethodKind::CertificateMultiFactor => v1::MethodKind::CertificateMultiFactor,
        MethodKind::TemporaryAccessPass { usable } => {
            message.usable = *usable;
            v1::MethodKind::TemporaryAccessPass
        }
        MethodKind::QrCodePin => v1::MethodKind::QrCodePin,
        MethodKind::AppPassword => v1::MethodKind::AppPassword,
        MethodKind::SecurityQuestions => v1::MethodKind::SecurityQuestions,
        MethodKind::External => v1::MethodKind::External,
        MethodKind::Unrecognized(name) => {
            message.unrecognized_type.clone_from(name);
            v1::MethodKind::Unrecognized
        }
    };
    message.kind = kind.into();
    message
}

/// Converts a `rollcall.v1.AuthMethod` message into an authentication method.
///
/// # Errors
///
/// [`ConvertError::Missing`] or [`ConvertError::UnknownEnum`] for an unset or unknown
/// `kind`, or an unset or unknown `phone_type` on a phone method, and
/// [`ConvertError::Unexpected`] when a field of another method kind is set.
pub fn auth_method_from_proto(message: v1::AuthMethod) -> Result<AuthMethod, ConvertError> {
    let kind_number = message.kind;
    let kind = match enum_from_proto(kind_number, "kind")? {
        v1::MethodKind::Unspecified => return Err(ConvertError::missing("kind")),
        v1::MethodKind::Password => MethodKind::Password,
        v1::MethodKind::Email => MethodKind::Email,
        v1::MethodKind::Phone => MethodKind::Phone {
            phone_type: phone_type_from_proto(message.phone_type)?,
            sms_sign_in: message.sms_sign_in,
        },
        v1::MethodKind::MicrosoftAuthenticator => MethodKind::MicrosoftAuthenticator,
        v1::MethodKind::SoftwareOath => MethodKind::SoftwareOath,
        v1::MethodKind::HardwareOath => MethodKind::HardwareOath,
        v1::MethodKind::Fido2 => MethodKind::Fido2,
        v1::MethodKind::WindowsHelloForBusiness => {
            MethodKind::WindowsHelloForBusiness { weak_key: message.weak_key }
        }
        v1::MethodKind::PlatformCredential => MethodKind::PlatformCredential,
        v1::MethodKind::CertificateMultiFactor => MethodKind::CertificateMultiFactor,
        v1::MethodKind::TemporaryAccessPass => {
            MethodKind::TemporaryAccessPass { usable: message.usable }
        }
        v1::MethodKind::QrCodePin => MethodKind::QrCodePin,
        v1::MethodKind::AppPassword => MethodKind::AppPassword,
        v1::MethodKind::SecurityQuestions => MethodKind::SecurityQuestions,
        v1::MethodKind::External => MethodKind::External,
        v1::MethodKind::Unrecognized => MethodKind::Unrecognized(message.unrecognized_type.clone()),
    };
    reject_other_kinds_fields(&message, &kind)?;
    Ok(AuthMethod {
        kind,
        id: message.id,
        created_at: optional_timestamp_from_proto(message.created_at, "created_at")?,
        raw_type: message.raw_type,
    })
}

/// Rejects a kind-specific field set on a method of another kind. Such a message comes
/// from a publisher bug, and reading it would drop the value without notice.
fn reject_other_kinds_fields(
    message: &v1::AuthMethod,
    kind: &MethodKind,
) -> Result<(), ConvertError> {
    let unexpected =
        |field: &str, reason| Err(ConvertError::Unexpected { field: field.to_owned(), reason });
    let is_phone = matches!(kind, MethodKind::Phone { .. });
    if !is_phone && message.phone_type != 0 {
        return unexpected("phone_type", "the method kind is not a phone");
    }
    if !is_phone && message.sms_sign_in {
        return unexpected("sms_sign_in", "the method kind is not a phone");
    }
    if !matches!(kind, MethodKind::WindowsHelloForBusiness { .. }) && message.weak_key {
        return unexpected("weak_key", "the method kind is not Windows Hello for Business");
    }
    if !matches!(kind, MethodKind::TemporaryAccessPass { .. }) && message.usable.is_some() {
        return unexpected("usable", "the method kind is not a Temporary Access Pass");
    }
    if !matches!(kind, MethodKind::Unrecognized(_)) && !message.unrecognized_type.is_empty() {
        return unexpected("unrecognized_type", "the method kind is not METHOD_KIND_UNRECOGNIZED");
    }
    Ok(())
}

/// Converts a phone slot. The domain's `Unspecified` (a phone whose type the export does
/// not name) is `PHONE_TYPE_OTHER`, because `PHONE_TYPE_UNSPECIFIED` means "not set".
fn phone_type_to_proto(phone_type: PhoneType) -> v1::PhoneType {
    match phone_type {
        PhoneType::Mobile => v1::PhoneType::Mobile,
        PhoneType::AlternateMobile => v1::PhoneType::AlternateMobile,
        PhoneType::Office => v1::PhoneType::Office,
        PhoneType::Unspecified => v1::PhoneType::Other,
    }
}

fn phone_type_from_proto(value: i32) -> Result<PhoneType, ConvertError> {
    match enum_from_proto(value, "phone_type")? {
        v1::PhoneType::Unspecified => Err(ConvertError::missing("phone_type")),
        v1::PhoneType::Mobile => Ok(PhoneType::Mobile),
        v1::PhoneType::AlternateMobile => Ok(PhoneType::AlternateMobile),
        v1::PhoneType::Office => Ok(PhoneType::Office),
        v1::PhoneType::Other => Ok(PhoneType::Unspecified),
    }
}
