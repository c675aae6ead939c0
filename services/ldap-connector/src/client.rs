//! One connection to a directory: connect with TLS, bind, paged search, ranged reads.
//!
//! Responses are decoded here from their BER structure instead of with ldap3's
//! `SearchEntry::construct` and `ControlParser`, because those panic on a malformed
//! response and this connector must turn any server response into an error.

use std::time::Duration;

use ldap3::asn1::{PL, StructureTag, parse_tag};
use ldap3::controls::{PagedResults, RawControl};
use ldap3::{Ldap, LdapConnAsync, LdapConnSettings, Scope};
use rollcall_ingest::ldap::LdapEntry;
use rollcall_ingest::ldap::range::{RangeCollector, RangeStatus, parse_description};
use tokio::task::JoinHandle;

use crate::config::{Directory, TlsMode};
use crate::error::{SyncError, search_hint, server_text};
use crate::tls;

/// OID of the paged results control (RFC 2696), also Active Directory's.
pub const PAGED_RESULTS_OID: &str = "1.2.840.113556.1.4.319";

/// Counts of one paged search.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchStats {
    /// Entries returned.
    pub entries: u64,
    /// Pages requested.
    pub pages: u64,
    /// Referral URLs returned (search result references), which are reported, not chased.
    pub referrals: Vec<String>,
}

/// A bound connection.
pub struct Session {
    ldap: Ldap,
    driver: JoinHandle<()>,
    url: String,
    operation_timeout: Duration,
}

impl Session {
    /// Connects to the directory, protects the connection as configured, and binds.
    ///
    /// # Errors
    ///
    /// [`SyncError::CaFile`], [`SyncError::Connect`], [`SyncError::ConnectTimeout`],
    /// [`SyncError::Bind`] or [`SyncError::Operation`] for a bind that got no response.
    pub async fn open(directory: &Directory) -> Result<Session, SyncError> {
        let url = directory.url.clone();
        let mut settings = LdapConnSettings::new().set_conn_timeout(directory.connect_timeout);
        if let (TlsMode::Ldaps | TlsMode::Starttls, Some(ca_file)) =
            (directory.tls, directory.ca_file.as_deref())
        {
            settings = settings
                .set_config(tls::client_config(ca_file)?)
                .set_starttls(directory.tls == TlsMode::Starttls);
        }
        // This timeout bounds the TCP connect, the TLS handshake and StartTLS together,
        // whichever of them ldap3's own timeout also covers.
        let connecting = LdapConnAsync::with_settings(settings, &url);
        let (connection, ldap) = match tokio::time::timeout(directory.connect_timeout, connecting)
            .await
        {
            Err(_) => {
                return Err(SyncError::ConnectTimeout {
                    url,
                    seconds: directory.connect_timeout.as_secs(),
                });
            }
            // ldap3 applies its connect timeout to the TLS handshake too.
            Ok(Err(ldap3::LdapError::Timeout { .. })) => {
                return Err(SyncError::ConnectTimeout {
                    url,
                    seconds: directory.connect_timeout.as_secs(),
                });
            }
            Ok(Err(error)) => return Err(SyncError::Connect { url, reason: error.to_string() }),
            Ok(Ok(pair)) => pair,
        };

        let driver = tokio::spawn(async move {
            if let Err(error) = connection.drive().await {
                tracing::debug!(%error, "LDAP connection ended with an error");
            }
        });
        let mut session =
            Session { ldap, driver, url, operation_timeout: directory.operation_timeout };

        let Some(password) = directory.password.expose_str() else {
            return Err(SyncError::Bind {
                url: session.url.clone(),
                bind_dn: directory.bind_dn.clone(),
                rc: 49,
                text: ": the password file is not UTF-8 text, so it was not sent".to_owned(),
            });
        };
        let result = session
            .ldap
            .with_timeout(session.operation_timeout)
            .simple_bind(&directory.bind_dn, password)
            .await
            .map_err(|error| SyncError::Operation {
                url: session.url.clone(),
                operation: "bind".to_owned(),
                reason: describe(&error, session.operation_timeout),
            })?;
        if result.rc != 0 {
            return Err(SyncError::Bind {
                url: session.url.clone(),
                bind_dn: directory.bind_dn.clone(),
                rc: result.rc,
                text: server_text(&result.text),
            });
        }
        Ok(session)
    }

    /// Runs a subtree search with the paged results control and hands each entry to
    /// `on_entry`. Search result references are collected, not followed.
    ///
    /// The control is marked critical, so a server without paging refuses the search
    /// (result code 12) instead of silently stopping at its size limit.
    ///
    /// # Errors
    ///
    /// [`SyncError::Operation`] for a lost connection or a page that timed out,
    /// [`SyncError::SearchResult`] for an error result such as a size limit, and
    /// [`SyncError::Malformed`] for a response that cannot be decoded.
    pub async fn paged_search(
        &mut self,
        base: &str,
        filter: &str,
        attributes: &[String],
        page_size: i32,
        on_entry: impl FnMut(LdapEntry),
    ) -> Result<SearchStats, SyncError> {
        self.paged_search_scoped(base, Scope::Subtree, filter, attributes, page_size, on_entry)
            .await
    }

    /// Runs [`Session::paged_search`] with another scope, as a referral URL may name one.
    ///
    /// # Errors
    ///
    /// As for [`Session::paged_search`].
    pub async fn paged_search_scoped(
        &mut self,
        base: &str,
        scope: Scope,
        filter: &str,
        attributes: &[String],
        page_size: i32,
        mut on_entry: impl FnMut(LdapEntry),
    ) -> Result<SearchStats, SyncError> {
        let mut stats = SearchStats::default();
        let mut cookie = Vec::new();
        loop {
            stats.pages += 1;
            let mut control = RawControl::from(PagedResults { size: page_size, cookie });
            control.crit = true;
            let operation = format!("search page {}", stats.pages);
            let url = self.url.clone();
            // Entries are decoded and handed on as they arrive, so the caller's work on one
            // entry overlaps the connection task's receiving and parsing of the next.
            let on_message = |message| match decode_response(message) {
                Some(Response::Entry(entry)) => {
                    stats.entries += 1;
                    on_entry(entry);
                    Ok(())
                }
                Some(Response::Reference(urls)) => {
                    stats.referrals.extend(urls);
                    Ok(())
                }
                Some(Response::Intermediate) => Ok(()),
                None => Err(SyncError::Malformed { url: url.clone(), what: "search result entry" }),
            };
            let result = self
                .search_each(base, scope, filter, attributes, Some(control), &operation, on_message)
                .await?;
            if result.rc != 0 {
                return Err(SyncError::SearchResult {
                    url: self.url.clone(),
                    base: base.to_owned(),
                    rc: result.rc,
                    text: server_text(&result.text),
                    hint: search_hint(result.rc),
                });
            }
            let control = result
                .ctrls
                .iter()
                .find(|control| control.1.ctype == PAGED_RESULTS_OID)
                .map(|control| control.1.val.as_deref().unwrap_or_default());
            // No control in the response: the server returned everything at once.
            let Some(value) = control else { break };
            cookie = paged_cookie(value).ok_or_else(|| SyncError::Malformed {
                url: self.url.clone(),
                what: "paged results control",
            })?;
            if cookie.is_empty() {
                break;
            }
        }
        Ok(stats)
    }

    /// Reads the rest of every ranged attribute of `entry` (`member;range=0-1499` from
    /// Active Directory) with base-scope searches, and returns the extra records for the
    /// same DN, to be merged into the entry like the extra LDIF records of an export.
    ///
    /// `max_reads` bounds the reads for one entry, against a server that keeps returning
    /// the same chunk. With `range_size`, each read requests that many values
    /// (`member;range=5-9`) instead of the rest (`member;range=5-*`), which the server may
    /// cut where it likes. Each returned record is one read.
    ///
    /// # Errors
    ///
    /// As for [`Session::paged_search`].
    pub async fn complete_ranges(
        &mut self,
        entry: &LdapEntry,
        max_reads: usize,
        range_size: Option<u32>,
    ) -> Result<Vec<LdapEntry>, SyncError> {
        let mut collectors = collectors_of(entry);
        let mut extra = Vec::new();
        for _ in 0..max_reads {
            let next = collectors.iter().find_map(|(_, collector)| match collector.status() {
                RangeStatus::Complete => None,
                RangeStatus::Incomplete { next } => Some(next),
            });
            let Some(next) = next else { break };
            let next = bounded_request(&next, range_size);
            let record = self.read_base(&entry.dn, std::slice::from_ref(&next)).await?;
            let Some(record) = record else { break };
            let before = collectors.iter().map(|(_, c)| c.status()).collect::<Vec<_>>();
            for (key, range, values) in ranged_attributes(&record) {
                let slot = collectors.iter().position(|(existing, _)| *existing == key);
                match slot.and_then(|index| collectors.get_mut(index)) {
                    Some((_, collector)) => {
                        collector.add(range, values);
                    }
                    None => {
                        let mut collector = RangeCollector::new(&key);
                        collector.add(range, values);
                        collectors.push((key, collector));
                    }
                }
            }
            extra.push(record);
            let after = collectors.iter().map(|(_, c)| c.status()).collect::<Vec<_>>();
            if before == after {
                // The response added nothing new; the import reports the attribute as
                // incomplete.
                break;
            }
        }
        Ok(extra)
    }

    /// Reads one entry by DN with a base-scope search, or `None` when it does not exist.
    ///
    /// # Errors
    ///
    /// As for [`Session::paged_search`], except that a missing entry is `Ok(None)`.
    pub async fn read_base(
        &mut self,
        dn: &str,
        attributes: &[String],
    ) -> Result<Option<LdapEntry>, SyncError> {
        let operation = format!("read of `{dn}`");
        // The messages are decoded after the result code, which decides whether they count.
        let mut entries = Vec::new();
        let collect = |message| {
            entries.push(message);
            Ok(())
        };
        let result = self
            .search_each(dn, Scope::Base, "(objectClass=*)", attributes, None, &operation, collect)
            .await?;
        // 32: no such object, a member DN that points nowhere.
        if result.rc == 32 {
            return Ok(None);
        }
        if result.rc != 0 {
            return Err(SyncError::SearchResult {
                url: self.url.clone(),
                base: dn.to_owned(),
                rc: result.rc,
                text: server_text(&result.text),
                hint: search_hint(result.rc),
            });
        }
        for message in entries {
            match decode_response(message) {
                Some(Response::Entry(entry)) => return Ok(Some(entry)),
                Some(_) => {}
                None => {
                    return Err(SyncError::Malformed {
                        url: self.url.clone(),
                        what: "search result entry",
                    });
                }
            }
        }
        Ok(None)
    }

    /// Sends one modify request (RFC 4511 section 4.6) for `dn` and returns the server's
    /// result code and diagnostic text (with a leading `: `, or empty). The server applies all of `changes` or none, so
    /// a delete of the value read before and an add of the new value make a
    /// read-modify-write that fails with result code 16 (noSuchAttribute) when another
    /// writer changed the value in between.
    ///
    /// # Errors
    ///
    /// [`SyncError::Operation`] for a lost connection or a request that timed out. A
    /// result code other than 0 is returned as `Ok`, for the caller to judge.
    pub async fn modify(
        &mut self,
        dn: &str,
        changes: Vec<ldap3::Mod<Vec<u8>>>,
    ) -> Result<(u32, String), SyncError> {
        let timeout = self.operation_timeout;
        let operation = format!("modify of `{dn}`");
        let modify = self.ldap.with_timeout(timeout).modify(dn, changes);
        match tokio::time::timeout(timeout, modify).await {
            Ok(Ok(result)) => Ok((result.rc, server_text(&result.text))),
            Ok(Err(error)) => Err(SyncError::Operation {
                url: self.url.clone(),
                operation,
                reason: describe(&error, timeout),
            }),
            Err(_) => Err(SyncError::Operation {
                url: self.url.clone(),
                operation,
                reason: format!(
                    "no answer within {} s (`operation_timeout_seconds`)",
                    timeout.as_secs()
                ),
            }),
        }
    }

    /// Runs one search request and hands every message of the response to `on_message` as
    /// it arrives: entries, search result references and intermediate responses, undecoded.
    /// The first error `on_message` returns abandons the request and is returned.
    ///
    /// ldap3's `search` is not used because its adapter decodes references with a parser
    /// that panics on a malformed one. The whole request must finish within the operation
    /// timeout, not only each message.
    #[allow(
        clippy::too_many_arguments,
        reason = "the search request's own fields, plus the operation name for messages"
    )]
    async fn search_each(
        &mut self,
        base: &str,
        scope: Scope,
        filter: &str,
        attributes: &[String],
        control: Option<RawControl>,
        operation: &str,
        mut on_message: impl FnMut(StructureTag) -> Result<(), SyncError>,
    ) -> Result<ldap3::LdapResult, SyncError> {
        let timeout = self.operation_timeout;
        let failure = |error: ldap3::LdapError| SyncError::Operation {
            url: self.url.clone(),
            operation: operation.to_owned(),
            reason: describe(&error, timeout),
        };
        let ldap = &mut self.ldap;
        let search = async move {
            if let Some(control) = control {
                ldap.with_controls(control);
            }
            let mut stream = ldap
                .with_timeout(timeout)
                .streaming_search(base, scope, filter, attributes)
                .await?;
            let mut rejected = None;
            while let Some(message) = stream.next().await? {
                if let Err(error) = on_message(message.0) {
                    rejected = Some(error);
                    break;
                }
            }
            // After a rejected message this abandons the rest of the response.
            let result = stream.finish().await;
            Ok::<_, ldap3::LdapError>((result, rejected))
        };
        match tokio::time::timeout(timeout, search).await {
            Ok(Ok((_, Some(rejected)))) => Err(rejected),
            Ok(Ok((result, None))) => Ok(result),
            Ok(Err(error)) => Err(failure(error)),
            Err(_) => Err(SyncError::Operation {
                url: self.url.clone(),
                operation: operation.to_owned(),
                reason: format!(
                    "no answer within {} s (`operation_timeout_seconds`)",
                    timeout.as_secs()
                ),
            }),
        }
    }

    /// Unbinds and closes the connection, waiting at most one operation timeout.
    pub async fn close(mut self) {
        let _ = tokio::time::timeout(self.operation_timeout, self.ldap.unbind()).await;
        self.driver.abort();
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        // A session dropped on an error path must not leave its connection task behind.
        self.driver.abort();
    }
}

/// Says what an ldap3 error means for the operator: ldap3's own text names its internal
/// channels ("op send error: channel closed") rather than the lost connection.
fn describe(error: &ldap3::LdapError, timeout: Duration) -> String {
    use ldap3::LdapError;
    match error {
        LdapError::OpSend { .. }
        | LdapError::ResultRecv { .. }
        | LdapError::IdScrubSend { .. }
        | LdapError::MiscSend { .. }
        | LdapError::EndOfStream => {
            format!("the connection to the server was lost ({error})")
        }
        LdapError::Timeout { .. } => {
            format!("no answer within {} s (`operation_timeout_seconds`)", timeout.as_secs())
        }
        other => other.to_string(),
    }
}

/// One message of a search response.
enum Response {
    Entry(LdapEntry),
    Reference(Vec<String>),
    Intermediate,
}

/// Decodes a search response message: `SearchResultEntry` (application tag 4),
/// `SearchResultReference` (19) or an intermediate response (25), as RFC 4511
/// section 4.5.2 defines them. `None` for anything malformed.
fn decode_response(tag: StructureTag) -> Option<Response> {
    match tag.id {
        19 => {
            let PL::C(uris) = tag.payload else { return None };
            let urls = uris
                .into_iter()
                .map(|uri| match uri.payload {
                    PL::P(bytes) => String::from_utf8(bytes).ok(),
                    PL::C(_) => None,
                })
                .collect::<Option<Vec<String>>>()?;
            Some(Response::Reference(urls))
        }
        25 => Some(Response::Intermediate),
        4 => decode_entry(tag.payload).map(Response::Entry),
        _ => None,
    }
}

/// Decodes `SearchResultEntry ::= SEQUENCE { objectName LDAPDN, attributes
/// PartialAttributeList }`, keeping attribute order and values as bytes.
fn decode_entry(payload: PL) -> Option<LdapEntry> {
    let PL::C(parts) = payload else { return None };
    let mut parts = parts.into_iter();
    let PL::P(dn) = parts.next()?.payload else { return None };
    let mut entry = LdapEntry::new(String::from_utf8(dn).ok()?);
    let PL::C(attributes) = parts.next()?.payload else { return None };
    entry.attributes.reserve(attributes.len());
    for attribute in attributes {
        let PL::C(pair) = attribute.payload else { return None };
        let mut pair = pair.into_iter();
        let PL::P(name) = pair.next()?.payload else { return None };
        let name = String::from_utf8(name).ok()?;
        let PL::C(values) = pair.next()?.payload else { return None };
        // AD sends `member` without values beside `member;range=0-1499`. ldapsearch prints
        // no line for it, and `push_values` adds no attribute for it, so a live read stays
        // equal to an export.
        let mut bytes = Vec::with_capacity(values.len());
        for value in values {
            let PL::P(value) = value.payload else { return None };
            bytes.push(value);
        }
        entry.push_values(name, bytes);
    }
    Some(entry)
}

/// Reads the cookie of a paged results response control value
/// (`SEQUENCE { size INTEGER, cookie OCTET STRING }`).
fn paged_cookie(value: &[u8]) -> Option<Vec<u8>> {
    let (_, tag) = parse_tag(value).ok()?;
    let PL::C(parts) = tag.payload else { return None };
    let mut parts = parts.into_iter();
    let _size = parts.next()?;
    match parts.next()?.payload {
        PL::P(cookie) => Some(cookie),
        PL::C(_) => None,
    }
}

/// Ranged attributes of `entry` as (key, range, values).
fn ranged_attributes(
    entry: &LdapEntry,
) -> Vec<(String, Option<rollcall_ingest::ldap::ValueRange>, Vec<Vec<u8>>)> {
    entry
        .attributes
        .iter()
        .filter_map(|(description, values)| {
            let parsed = parse_description(description).ok()?;
            parsed.range.map(|range| (parsed.key(), Some(range), values.clone()))
        })
        .collect()
}

/// Builds a collector per ranged attribute of `entry`, with the entry's chunks and plain
/// values.
fn collectors_of(entry: &LdapEntry) -> Vec<(String, RangeCollector)> {
    let mut collectors: Vec<(String, RangeCollector)> = Vec::new();
    for (key, range, values) in ranged_attributes(entry) {
        let slot = collectors.iter().position(|(existing, _)| *existing == key);
        match slot.and_then(|index| collectors.get_mut(index)) {
            Some((_, collector)) => {
                collector.add(range, values);
            }
            None => {
                let mut collector = RangeCollector::new(&key);
                collector.add(range, values);
                collectors.push((key, collector));
            }
        }
    }
    collectors
}

/// Turns the collector's next request, `member;range=5-*`, into `member;range=5-9` for a
/// range size of 5. Without a size, or for a description that does not parse, it stays
/// as it is.
fn bounded_request(next: &str, range_size: Option<u32>) -> String {
    let Some(size) = range_size.filter(|size| *size > 0) else { return next.to_owned() };
    let Ok(parsed) = parse_description(next) else { return next.to_owned() };
    let Some(range) = parsed.range else { return next.to_owned() };
    let high = range.low.saturating_add(u64::from(size) - 1);
    format!("{};range={}-{high}", parsed.key(), range.low)
}

/// Returns whether `entry` has a ranged attribute that is not complete yet.
pub fn needs_ranges(entry: &LdapEntry) -> bool {
    // Only a description with an option can carry a range, and most entries have none.
    if !entry.attributes.iter().any(|(description, _)| description.contains(';')) {
        return false;
    }
    collectors_of(entry).iter().any(|(_, collector)| collector.status() != RangeStatus::Complete)
}

#[cfg(test)]
mod tests;
