//! Authentication methods and the four-step strength ladder.
//!
//! Placements follow Microsoft's authentication-methods overview ("phishing-resistant"
//! versus "phishable"), CISA's Secure Cloud Business Applications baseline for Entra ID
//! (MS.AAD.3.1 and 3.5: SMS, voice and e-mail one-time passcodes are the weakest and shall
//! be disabled) and NIST SP 800-63B rev. 3, section 5.1.3.3 (the phone network is a
//! restricted authenticator). `docs/rules.md` lists the sources per method.

use chrono::{DateTime, Utc};

/// How hard a method is to phish or intercept, weakest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Strength {
    /// No second factor: password only, or a single-factor primary credential.
    None,
    /// SMS, voice call, and e-mail one-time passcodes for guests.
    Weak,
    /// A possession factor whose output can be relayed: Authenticator push or phone
    /// sign-in, software and hardware OATH codes.
    Strong,
    /// Bound to the origin or channel: FIDO2 and passkeys, Windows Hello for Business,
    /// platform credentials, multi-factor certificates.
    PhishingResistant,
}

impl Strength {
    /// The lowercase name used in reports and policy files.
    pub fn as_str(self) -> &'static str {
        match self {
            Strength::None => "none",
            Strength::Weak => "weak",
            Strength::Strong => "strong",
            Strength::PhishingResistant => "phishing_resistant",
        }
    }
}

/// The type of phone an Entra phone method is registered as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PhoneType {
    /// Mobile phone: SMS and voice.
    Mobile,
    /// Alternate mobile phone: voice only.
    AlternateMobile,
    /// Office phone: voice only.
    Office,
    /// A phone of a type the export does not name.
    Unspecified,
}

/// One kind of registered authentication method.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MethodKind {
    /// A password.
    Password,
    /// An e-mail address: a self-service password reset method for members.
    Email,
    /// A phone number for SMS or voice codes.
    Phone {
        /// Which of the three phone slots the number is in.
        phone_type: PhoneType,
        /// `smsSignInState: ready`: the number is a primary, single-factor credential.
        sms_sign_in: bool,
    },
    /// Microsoft Authenticator: push approval or passwordless phone sign-in.
    MicrosoftAuthenticator,
    /// A software TOTP token.
    SoftwareOath,
    /// A hardware OATH token.
    HardwareOath,
    /// A FIDO2 security key or passkey.
    Fido2,
    /// Windows Hello for Business.
    WindowsHelloForBusiness {
        /// `keyStrength: weak` was reported.
        weak_key: bool,
    },
    /// A platform credential (for example macOS Platform SSO).
    PlatformCredential,
    /// A multi-factor certificate (certificate-based authentication).
    CertificateMultiFactor,
    /// A Temporary Access Pass: an onboarding bootstrap, never a strength class.
    TemporaryAccessPass {
        /// Whether the pass can be used now; `None` when the export does not say.
        usable: Option<bool>,
    },
    /// A QR code with PIN: a primary sign-in method, not a second factor.
    QrCodePin,
    /// An app password for legacy clients: it bypasses MFA.
    AppPassword,
    /// Security questions: a password-reset method only.
    SecurityQuestions,
    /// An external MFA provider; its real strength depends on the provider.
    External,
    /// A method type this version of Rollcall does not know. Kept and reported, never
    /// counted as a factor.
    Unrecognized(String),
}

/// One registered authentication method of an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthMethod {
    /// What kind of method it is.
    pub kind: MethodKind,
    /// The source's id for the method. Entra reuses fixed ids for phone and password
    /// methods across users, so this is never a key on its own.
    pub id: Option<String>,
    /// When it was registered.
    pub created_at: Option<DateTime<Utc>>,
    /// The source's own type name (`#microsoft.graph.phoneAuthenticationMethod`,
    /// `mobilePhone`), kept as evidence.
    pub raw_type: String,
}

impl AuthMethod {
    /// Creates a method of `kind` with only its raw type name known.
    pub fn new(kind: MethodKind, raw_type: impl Into<String>) -> Self {
        Self { kind, id: None, created_at: None, raw_type: raw_type.into() }
    }
}

impl MethodKind {
    /// The strength this method gives as a second factor, or `None` when it is not a
    /// second factor at all (password, e-mail for members, TAP, unknown types).
    ///
    /// `guest` selects the guest reading of e-mail: a one-time passcode sign-in (weak).
    pub fn factor_strength(&self, guest: bool) -> Option<Strength> {
        match self {
            MethodKind::Fido2
            | MethodKind::WindowsHelloForBusiness { .. }
            | MethodKind::PlatformCredential
            | MethodKind::CertificateMultiFactor => Some(Strength::PhishingResistant),
            MethodKind::MicrosoftAuthenticator
            | MethodKind::SoftwareOath
            | MethodKind::HardwareOath => Some(Strength::Strong),
            // NOTE: no public source classifies external MFA providers; they are read as
            // strong, and the report names the provider type so a person can check it.
            MethodKind::External => Some(Strength::Strong),
            MethodKind::Phone { .. } => Some(Strength::Weak),
            MethodKind::Email if guest => Some(Strength::Weak),
            MethodKind::Email
            | MethodKind::Password
            | MethodKind::TemporaryAccessPass { .. }
            | MethodKind::QrCodePin
            | MethodKind::AppPassword
            | MethodKind::SecurityQuestions
            | MethodKind::Unrecognized(_) => None,
        }
    }

    /// Whether the method sends codes over the phone network (SMS or voice).
    pub fn is_phone(&self) -> bool {
        matches!(self, MethodKind::Phone { .. })
    }

    /// A short plain-English name for reports.
    pub fn describe(&self) -> String {
        match self {
            MethodKind::Password => "password".into(),
            MethodKind::Email => "e-mail (password reset)".into(),
            MethodKind::Phone { phone_type, sms_sign_in } => {
                let kind = match phone_type {
                    PhoneType::Mobile => "mobile phone (SMS and voice)",
                    PhoneType::AlternateMobile => "alternate mobile phone (voice)",
                    PhoneType::Office => "office phone (voice)",
                    PhoneType::Unspecified => "phone (SMS or voice)",
                };
                if *sms_sign_in { format!("{kind}, SMS sign-in enabled") } else { kind.into() }
            }
            MethodKind::MicrosoftAuthenticator => "Microsoft Authenticator".into(),
            MethodKind::SoftwareOath => "software OATH token".into(),
            MethodKind::HardwareOath => "hardware OATH token".into(),
            MethodKind::Fido2 => "FIDO2 security key or passkey".into(),
            MethodKind::WindowsHelloForBusiness { weak_key: false } => {
                "Windows Hello for Business".into()
            }
            MethodKind::WindowsHelloForBusiness { weak_key: true } => {
                "Windows Hello for Business (weak key)".into()
            }
            MethodKind::PlatformCredential => "platform credential".into(),
            MethodKind::CertificateMultiFactor => "multi-factor certificate".into(),
            MethodKind::TemporaryAccessPass { usable: Some(false) } => {
                "Temporary Access Pass (not usable)".into()
            }
            MethodKind::TemporaryAccessPass { .. } => "Temporary Access Pass".into(),
            MethodKind::QrCodePin => "QR code with PIN".into(),
            MethodKind::AppPassword => "app password".into(),
            MethodKind::SecurityQuestions => "security questions".into(),
            MethodKind::External => "external MFA provider".into(),
            MethodKind::Unrecognized(name) => format!("unrecognized method `{name}`"),
        }
    }
}

/// The MFA position of one account, rolled up from its registered methods.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MfaSummary {
    /// The strongest second factor registered; `Strength::None` when there is none.
    pub strongest: Strength,
    /// The weakest second factor registered: an attacker picks this one. `None` when
    /// there is no second factor at all.
    pub weakest: Option<Strength>,
    /// An SMS or voice method is registered.
    pub has_phone: bool,
    /// A phone number is enabled as a single-factor SMS sign-in.
    pub sms_sign_in: bool,
    /// A Temporary Access Pass that is usable, or whose usability the export does not give.
    pub usable_tap: bool,
    /// Method types that were not recognised, by their raw names.
    pub unrecognized: Vec<String>,
}

impl MfaSummary {
    /// Rolls up `methods`. The result does not depend on their order.
    pub fn of(methods: &[AuthMethod], guest: bool) -> Self {
        let mut strongest = Strength::None;
        let mut weakest: Option<Strength> = None;
        let mut has_phone = false;
        let mut sms_sign_in = false;
        let mut usable_tap = false;
        let mut unrecognized = Vec::new();
        for method in methods {
            if let Some(strength) = method.kind.factor_strength(guest) {
                strongest = strongest.max(strength);
                weakest = Some(weakest.map_or(strength, |w| w.min(strength)));
            }
            match &method.kind {
                MethodKind::Phone { sms_sign_in: ready, .. } => {
                    has_phone = true;
                    sms_sign_in |= *ready;
                }
                MethodKind::TemporaryAccessPass { usable } => usable_tap |= *usable != Some(false),
                MethodKind::Unrecognized(name) => unrecognized.push(name.clone()),
                _ => {}
            }
        }
        unrecognized.sort();
        unrecognized.dedup();
        Self { strongest, weakest, has_phone, sms_sign_in, usable_tap, unrecognized }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn method(kind: MethodKind) -> AuthMethod {
        AuthMethod::new(kind, "test")
    }

    #[test]
    fn password_and_email_give_no_mfa() {
        let summary =
            MfaSummary::of(&[method(MethodKind::Password), method(MethodKind::Email)], false);
        assert_eq!(summary.strongest, Strength::None);
        assert_eq!(summary.weakest, None);
    }

    #[test]
    fn guest_email_counts_as_weak() {
        let summary = MfaSummary::of(&[method(MethodKind::Email)], true);
        assert_eq!(summary.strongest, Strength::Weak);
    }

    #[test]
    fn fido2_with_phone_keeps_both_ends() {
        let phone = MethodKind::Phone { phone_type: PhoneType::Office, sms_sign_in: false };
        let summary = MfaSummary::of(&[method(phone), method(MethodKind::Fido2)], false);
        assert_eq!(summary.strongest, Strength::PhishingResistant);
        assert_eq!(summary.weakest, Some(Strength::Weak));
        assert!(summary.has_phone);
    }

    #[test]
    fn tap_is_never_a_class() {
        let tap = MethodKind::TemporaryAccessPass { usable: Some(true) };
        let summary = MfaSummary::of(&[method(tap)], false);
        assert_eq!(summary.strongest, Strength::None);
        assert!(summary.usable_tap);
        let expired = MethodKind::TemporaryAccessPass { usable: Some(false) };
        assert!(!MfaSummary::of(&[method(expired)], false).usable_tap);
    }

    #[test]
    fn unrecognized_is_kept_not_counted() {
        let unknown = MethodKind::Unrecognized("#microsoft.graph.future".into());
        let summary = MfaSummary::of(&[method(unknown)], false);
        assert_eq!(summary.strongest, Strength::None);
        assert_eq!(summary.unrecognized, vec!["#microsoft.graph.future".to_owned()]);
    }
}
