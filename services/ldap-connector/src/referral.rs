//! LDAP URLs (RFC 4516) as search result references carry them, and the match of a
//! referral against the servers a directory may follow referrals to.

use ldap3::Scope;

/// Scheme, host and port of an LDAP server: what a referral must match to be followed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerAddress {
    /// `true` for `ldaps://`.
    pub ldaps: bool,
    /// Host name in lowercase, or an IP address (IPv6 without brackets).
    pub host: String,
    /// Port, 389 or 636 when the URL has none.
    pub port: u16,
}

/// A parsed LDAP URL: `ldap://host:port/dn?attributes?scope?filter?extensions`.
#[derive(Debug, Clone, PartialEq)]
pub struct LdapUrl {
    /// The server.
    pub server: ServerAddress,
    /// The DN, percent-decoded, when the URL has a non-empty one.
    pub dn: Option<String>,
    /// The scope, when the URL names one.
    pub scope: Option<Scope>,
    /// The filter, percent-decoded, when the URL has one.
    pub filter: Option<String>,
}

/// An LDAP URL that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    /// The scheme is not `ldap://` or `ldaps://`.
    #[error("is not an `ldap://` or `ldaps://` URL")]
    Scheme,
    /// The host is empty.
    #[error("has no host")]
    Host,
    /// The port is not a number from 1 to 65535.
    #[error("has an invalid port `{0}`")]
    Port(String),
    /// The scope is not `base`, `one` or `sub`.
    #[error("has an invalid scope `{0}`; RFC 4516 allows `base`, `one` and `sub`")]
    Scope(String),
    /// A `%` is not followed by two hex digits, or the decoded bytes are not UTF-8.
    #[error("has an invalid percent-encoding")]
    Encoding,
    /// An extension is marked critical (`!`), which this client does not implement.
    #[error("has the critical extension `{0}`, which the connector does not support")]
    CriticalExtension(String),
}

impl LdapUrl {
    /// Parses `url` as RFC 4516 writes it. Scheme and host are compared without regard to
    /// case, so they are lowercased.
    ///
    /// # Errors
    ///
    /// A [`UrlError`] naming the part that is invalid.
    pub fn parse(url: &str) -> Result<LdapUrl, UrlError> {
        let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
        let (ldaps, rest) = if lower.starts_with("ldaps://") {
            (true, url.get(8..).unwrap_or_default())
        } else if lower.starts_with("ldap://") {
            (false, url.get(7..).unwrap_or_default())
        } else {
            return Err(UrlError::Scheme);
        };
        let (hostport, path) = rest.split_once('/').unwrap_or((rest, ""));
        let server = parse_hostport(hostport, ldaps)?;

        let mut parts = path.splitn(5, '?');
        let dn = decode(parts.next().unwrap_or_default())?;
        let _attributes = parts.next();
        let scope = match parts.next().unwrap_or_default().to_ascii_lowercase().as_str() {
            "" => None,
            "base" => Some(Scope::Base),
            "one" => Some(Scope::OneLevel),
            "sub" => Some(Scope::Subtree),
            other => return Err(UrlError::Scope(other.to_owned())),
        };
        let filter = decode(parts.next().unwrap_or_default())?;
        for extension in parts.next().unwrap_or_default().split(',') {
            if let Some(critical) = extension.trim().strip_prefix('!') {
                return Err(UrlError::CriticalExtension(critical.to_owned()));
            }
        }
        Ok(LdapUrl {
            server,
            dn: Some(dn).filter(|dn| !dn.is_empty()),
            scope,
            filter: Some(filter).filter(|filter| !filter.is_empty()),
        })
    }
}

/// Reads `host[:port]`, with an IPv6 address in brackets.
fn parse_hostport(hostport: &str, ldaps: bool) -> Result<ServerAddress, UrlError> {
    let default_port = if ldaps { 636 } else { 389 };
    let (host, port) = match hostport.strip_prefix('[') {
        Some(bracketed) => {
            let (host, after) = bracketed.split_once(']').ok_or(UrlError::Host)?;
            (host, after.strip_prefix(':'))
        }
        None => match hostport.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (hostport, None),
        },
    };
    let host = decode(host)?.to_ascii_lowercase();
    if host.is_empty() {
        return Err(UrlError::Host);
    }
    let port = match port {
        None | Some("") => default_port,
        Some(text) => match text.parse::<u16>() {
            Ok(port) if port > 0 => port,
            _ => return Err(UrlError::Port(text.to_owned())),
        },
    };
    Ok(ServerAddress { ldaps, host, port })
}

/// Resolves `%XX` escapes (RFC 3986 section 2.1).
fn decode(text: &str) -> Result<String, UrlError> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while let Some(&byte) = bytes.get(index) {
        if byte == b'%' {
            let hex = text.get(index + 1..index + 3).ok_or(UrlError::Encoding)?;
            if !hex.bytes().all(|digit| digit.is_ascii_hexdigit()) {
                return Err(UrlError::Encoding);
            }
            out.push(u8::from_str_radix(hex, 16).map_err(|_| UrlError::Encoding)?);
            index += 3;
        } else {
            out.push(byte);
            index += 1;
        }
    }
    String::from_utf8(out).map_err(|_| UrlError::Encoding)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use ldap3::Scope;

    use super::{LdapUrl, ServerAddress, UrlError};

    #[test]
    fn referral_url_parts_are_read() {
        let url = LdapUrl::parse("LDAP://Branch.Example:3389/ou=Branch%20Office,dc=example??sub")
            .unwrap();
        assert_eq!(
            url.server,
            ServerAddress { ldaps: false, host: "branch.example".to_owned(), port: 3389 }
        );
        assert_eq!(url.dn.as_deref(), Some("ou=Branch Office,dc=example"));
        assert_eq!(url.scope, Some(Scope::Subtree));
        assert_eq!(url.filter, None);

        let bare = LdapUrl::parse("ldaps://dc02").unwrap();
        assert_eq!(bare.server.port, 636);
        assert_eq!(bare.dn, None);
        let v6 = LdapUrl::parse("ldap://[::1]:1389/dc=x?cn?one?(cn=a%2a)").unwrap();
        assert_eq!(v6.server.host, "::1");
        assert_eq!(v6.scope, Some(Scope::OneLevel));
        assert_eq!(v6.filter.as_deref(), Some("(cn=a*)"));
    }

    #[test]
    fn invalid_referral_urls_are_rejected() {
        assert_eq!(LdapUrl::parse("https://dc02/dc=x"), Err(UrlError::Scheme));
        assert_eq!(LdapUrl::parse("ldap:///dc=x"), Err(UrlError::Host));
        assert_eq!(LdapUrl::parse("ldap://dc02:0"), Err(UrlError::Port("0".to_owned())));
        assert_eq!(LdapUrl::parse("ldap://dc02:x/"), Err(UrlError::Port("x".to_owned())));
        assert_eq!(
            LdapUrl::parse("ldap://dc02/dc=x??tree"),
            Err(UrlError::Scope("tree".to_owned()))
        );
        assert_eq!(LdapUrl::parse("ldap://dc02/dc=%zz"), Err(UrlError::Encoding));
        assert_eq!(LdapUrl::parse("ldap://dc02/dc=%ff"), Err(UrlError::Encoding));
        assert_eq!(
            LdapUrl::parse("ldap://dc02/dc=x????!bindname=cn=x"),
            Err(UrlError::CriticalExtension("bindname=cn=x".to_owned()))
        );
    }
}
