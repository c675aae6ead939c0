//! Standard Webhooks signature verification (<https://www.standardwebhooks.com/>).
//!
//! A sender signs `{webhook-id}.{webhook-timestamp}.{body}` with HMAC-SHA256 under a key
//! shared as `whsec_` followed by the key's base64, and sends the headers
//! `webhook-id`, `webhook-timestamp` (Unix seconds) and `webhook-signature`, a
//! space-separated list of `v1,<base64 of the 32-byte MAC>`. Entries of other versions
//! are ignored; one `v1` entry that matches one of the tenant's keys is enough.

use axum::http::HeaderMap;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ring::hmac;

/// Seconds a timestamp may lie before or after the receiver's clock: five minutes, as the
/// Standard Webhooks specification recommends, so a captured request cannot be replayed
/// later and clock skew up to that amount is tolerated.
pub const TOLERANCE_SECONDS: i64 = 300;

/// The prefix of a Standard Webhooks secret.
pub const SECRET_PREFIX: &str = "whsec_";

/// The longest `webhook-id` accepted, in bytes. Senders use UUIDs or ULIDs.
pub const MAX_ID_BYTES: usize = 256;

/// An HMAC-SHA256 signature is 32 bytes.
const MAC_BYTES: usize = 32;

/// A webhook signing key of a tenant.
pub struct SigningKey {
    id: String,
    key: hmac::Key,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey").field("id", &self.id).finish_non_exhaustive()
    }
}

/// A secret that is not `whsec_` followed by base64.
#[derive(Debug, thiserror::Error)]
#[error(
    "webhook key `{id}` is not a Standard Webhooks secret: write it as `whsec_` followed by the base64 of at least 24 random bytes"
)]
pub struct KeyError {
    /// The key's configured id.
    pub id: String,
}

impl SigningKey {
    /// Reads a `whsec_<base64>` secret. The key must be 24 to 64 bytes, the range
    /// Standard Webhooks prescribes.
    pub fn from_secret(id: &str, secret: &[u8]) -> Result<Self, KeyError> {
        let error = || KeyError { id: id.to_owned() };
        let encoded = secret.strip_prefix(SECRET_PREFIX.as_bytes()).ok_or_else(error)?;
        let bytes = STANDARD.decode(encoded).map_err(|_| error())?;
        if !(24..=64).contains(&bytes.len()) {
            return Err(error());
        }
        Ok(Self { id: id.to_owned(), key: hmac::Key::new(hmac::HMAC_SHA256, &bytes) })
    }

    /// Returns the key's configured id.
    pub fn id(&self) -> &str {
        &self.id
    }
}

/// The reason a request's signature was rejected. [`Rejection::reason`] is the metric label and
/// the `reason` member of the 401 body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    /// A `webhook-*` header is absent or not visible ASCII.
    MissingHeader(&'static str),
    /// `webhook-id` is empty or longer than [`MAX_ID_BYTES`].
    MalformedId,
    /// `webhook-timestamp` is not a whole number of seconds.
    MalformedTimestamp,
    /// The timestamp is more than [`TOLERANCE_SECONDS`] in the past.
    Expired,
    /// The timestamp is more than [`TOLERANCE_SECONDS`] in the future.
    FutureDated,
    /// `webhook-signature` has no `v1` entry, or a `v1` entry that is not the base64 of
    /// 32 bytes (such as `v1,` with nothing after the comma).
    MalformedSignature,
    /// No `v1` entry is the MAC of this request under any of the tenant's keys: a wrong
    /// or foreign key, or a changed id, timestamp or body.
    Mismatch,
}

impl Rejection {
    /// Returns a stable name for metrics and response bodies.
    pub fn reason(self) -> &'static str {
        match self {
            Rejection::MissingHeader(_) => "missing_header",
            Rejection::MalformedId => "malformed_id",
            Rejection::MalformedTimestamp => "malformed_timestamp",
            Rejection::Expired => "expired_timestamp",
            Rejection::FutureDated => "future_timestamp",
            Rejection::MalformedSignature => "malformed_signature",
            Rejection::Mismatch => "signature_mismatch",
        }
    }

    /// Every reason, for documentation and tests.
    pub const REASONS: [&'static str; 7] = [
        "missing_header",
        "malformed_id",
        "malformed_timestamp",
        "expired_timestamp",
        "future_timestamp",
        "malformed_signature",
        "signature_mismatch",
    ];

    /// Describes what the sender should fix, for the response body.
    pub fn detail(self) -> String {
        match self {
            Rejection::MissingHeader(name) => {
                format!("the `{name}` header is missing or not visible ASCII; send webhook-id, webhook-timestamp and webhook-signature")
            }
            Rejection::MalformedId => {
                format!("`webhook-id` must be 1 to {MAX_ID_BYTES} bytes")
            }
            Rejection::MalformedTimestamp => {
                "`webhook-timestamp` must be the Unix time in whole seconds".to_owned()
            }
            Rejection::Expired => format!(
                "`webhook-timestamp` is more than {TOLERANCE_SECONDS} seconds in the past; sign the request again when sending it"
            ),
            Rejection::FutureDated => format!(
                "`webhook-timestamp` is more than {TOLERANCE_SECONDS} seconds in the future; check the sender's clock"
            ),
            Rejection::MalformedSignature => "`webhook-signature` must be a space-separated list of `v1,<base64 of the HMAC-SHA256>`".to_owned(),
            Rejection::Mismatch => "no signature matches this request under the tenant's keys; check the key and that the body is sent exactly as signed".to_owned(),
        }
    }
}

/// A request whose signature matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The `webhook-id` header.
    pub webhook_id: String,
    /// The id of the key that matched.
    pub key_id: String,
}

/// Verifies the `webhook-*` headers of a request with body `body` against `keys` at Unix
/// time `now`.
pub fn verify(
    keys: &[SigningKey],
    headers: &HeaderMap,
    body: &[u8],
    now: i64,
) -> Result<Verified, Rejection> {
    let header = |name: &'static str| {
        headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .ok_or(Rejection::MissingHeader(name))
    };
    let id = header("webhook-id")?;
    let timestamp = header("webhook-timestamp")?;
    let signatures = header("webhook-signature")?;

    if id.is_empty() || id.len() > MAX_ID_BYTES {
        return Err(Rejection::MalformedId);
    }
    let seconds: i64 = timestamp.trim().parse().map_err(|_| Rejection::MalformedTimestamp)?;
    if seconds < now.saturating_sub(TOLERANCE_SECONDS) {
        return Err(Rejection::Expired);
    }
    if seconds > now.saturating_add(TOLERANCE_SECONDS) {
        return Err(Rejection::FutureDated);
    }

    let mut macs = Vec::new();
    for entry in signatures.split(' ').filter(|entry| !entry.is_empty()) {
        let (version, value) = entry.split_once(',').ok_or(Rejection::MalformedSignature)?;
        if version != "v1" {
            continue;
        }
        let mac = STANDARD.decode(value).map_err(|_| Rejection::MalformedSignature)?;
        if mac.len() != MAC_BYTES {
            return Err(Rejection::MalformedSignature);
        }
        macs.push(mac);
    }
    if macs.is_empty() {
        return Err(Rejection::MalformedSignature);
    }

    let mut signed = Vec::with_capacity(id.len() + timestamp.len() + body.len() + 2);
    signed.extend_from_slice(id.as_bytes());
    signed.push(b'.');
    signed.extend_from_slice(timestamp.as_bytes());
    signed.push(b'.');
    signed.extend_from_slice(body);
    for key in keys {
        // `hmac::verify` compares in constant time.
        if macs.iter().any(|mac| hmac::verify(&key.key, &signed, mac).is_ok()) {
            return Ok(Verified { webhook_id: id.to_owned(), key_id: key.id.clone() });
        }
    }
    Err(Rejection::Mismatch)
}

/// Returns the `webhook-signature` entry `v1,<base64>` for a request: what a sender
/// computes. For tests and the documentation's example.
pub fn sign(key_bytes: &[u8], id: &str, timestamp: i64, body: &[u8]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, key_bytes);
    let mut context = hmac::Context::with_key(&key);
    context.update(id.as_bytes());
    context.update(b".");
    context.update(timestamp.to_string().as_bytes());
    context.update(b".");
    context.update(body);
    format!("v1,{}", STANDARD.encode(context.sign().as_ref()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &[u8] = b"0123456789abcdef01234567";

    fn key(id: &str, bytes: &[u8]) -> SigningKey {
        let secret = format!("{SECRET_PREFIX}{}", STANDARD.encode(bytes));
        SigningKey::from_secret(id, secret.as_bytes()).unwrap()
    }

    fn headers(id: &str, timestamp: &str, signature: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("webhook-id", id.parse().unwrap());
        headers.insert("webhook-timestamp", timestamp.parse().unwrap());
        headers.insert("webhook-signature", signature.parse().unwrap());
        headers
    }

    #[test]
    fn verify_accepts_only_unchanged_requests() {
        let keys = [key("k1", KEY)];
        let signature = sign(KEY, "msg_1", 1_000, b"{}");
        let verified = verify(&keys, &headers("msg_1", "1000", &signature), b"{}", 1_000);
        assert_eq!(verified.unwrap().key_id, "k1");
        let changed = verify(&keys, &headers("msg_1", "1000", &signature), b"{ }", 1_000);
        assert_eq!(changed, Err(Rejection::Mismatch));
        let other_id = verify(&keys, &headers("msg_2", "1000", &signature), b"{}", 1_000);
        assert_eq!(other_id, Err(Rejection::Mismatch));
    }

    #[test]
    fn verify_tolerates_five_minutes_of_skew() {
        let keys = [key("k1", KEY)];
        for (at, expected) in [
            (1_000 - 300, Ok(())),
            (1_000 + 300, Ok(())),
            (1_000 - 301, Err(Rejection::Expired)),
            (1_000 + 301, Err(Rejection::FutureDated)),
        ] {
            let signature = sign(KEY, "m", at, b"x");
            let result = verify(&keys, &headers("m", &at.to_string(), &signature), b"x", 1_000);
            assert_eq!(result.map(|_| ()), expected, "timestamp {at}");
        }
    }

    #[test]
    fn verify_rejects_malformed_signatures() {
        let keys = [key("k1", KEY)];
        let good = sign(KEY, "m", 1_000, b"x");
        for signature in ["v1,", "v1", "v1,!!!", "v1,AAAA", "v2,abc", " ", &format!("v1, {good}")] {
            let result = verify(&keys, &headers("m", "1000", signature), b"x", 1_000);
            assert_eq!(result, Err(Rejection::MalformedSignature), "{signature:?}");
        }
        // Other versions are skipped, and any matching v1 entry is enough.
        let other = sign(b"another key of 24 bytes!", "m", 1_000, b"x");
        let listed = format!("v1a,abc {other} {good}");
        assert!(verify(&keys, &headers("m", "1000", &listed), b"x", 1_000).is_ok());
    }

    /// The worked example of `docs/services/hr-webhook.md`.
    #[test]
    fn verify_documented_example() {
        let secret = b"whsec_bWFkZS11cCBrZXk6IG5ldmVyIHVzZSBpdCBsaXZlISE=";
        let body = br#"{"type":"termination","employee_id":"E1001","effective_at":"2026-12-04T17:00:00-06:00","time_zone":"America/Chicago","reason":"voluntary resignation","manager_employee_id":"E0007"}"#;
        let signature = "v1,iOTJIZk3CZY/VqkZxOwvsV5Alt635Acc3JrW1LmTBPs=";
        let key_bytes = STANDARD.decode(&secret[SECRET_PREFIX.len()..]).unwrap();
        assert_eq!(sign(&key_bytes, "msg_2Zx7Hq4VhJm1", 1_764_892_800, body), signature);
        let keys = [SigningKey::from_secret("example", secret).unwrap()];
        let headers = headers("msg_2Zx7Hq4VhJm1", "1764892800", signature);
        assert!(verify(&keys, &headers, body, 1_764_892_800).is_ok());
    }

    #[test]
    fn from_secret_checks_prefix_and_length() {
        assert!(SigningKey::from_secret("k", STANDARD.encode(KEY).as_bytes()).is_err());
        assert!(SigningKey::from_secret("k", b"whsec_!!").is_err());
        let short = format!("whsec_{}", STANDARD.encode(b"short"));
        assert!(SigningKey::from_secret("k", short.as_bytes()).is_err());
    }
}
