//! One sync of one directory: read it completely, map it with the LDIF reader's mapping,
//! publish the snapshot, and publish a sync report whatever happened.

use std::collections::{HashSet, VecDeque};
use std::path::PathBuf;
use std::time::Instant;

use chrono::{DateTime, Utc};
use ldap3::Scope;
use rollcall_bus::Publisher;
use rollcall_core::model::SourceSnapshot;
use rollcall_ingest::diagnostic::{Diagnostic, Level, Location};
use rollcall_ingest::ldap::{EntryOrigin, LdapEntry, LdapImport, normalize_dn};
use rollcall_proto::{ContentHash, InputProblem, SyncOutcome, SyncReport, sync_report_to_proto};
use uuid::Uuid;

use crate::client::{Session, needs_ranges};
use crate::config::{Directory, ReferralPolicy};
use crate::error::SyncError;
use crate::metrics::{DirectoryLabels, SyncMetrics};
use crate::referral::LdapUrl;

/// The connector name written in sync reports.
pub const CONNECTOR_NAME: &str = "ldap-connector";

/// Reads for one entry's ranged attributes. At AD's default of 1500 values a read, this
/// covers 15 million members.
const MAX_RANGE_READS: usize = 10_000;

/// Groups outside the base read in one sync, against a directory whose member links lead
/// through an unbounded number of other groups.
const MAX_OUTSIDE_GROUPS: usize = 10_000;

/// Counts of one read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadStats {
    /// Entries read, including extra reads.
    pub entries: u64,
    /// Search pages.
    pub pages: u64,
    /// Groups read from outside the base.
    pub outside_groups: u64,
    /// Base-scope reads for further ranges of ranged attributes (`member;range=5-9`).
    pub range_reads: u64,
    /// Referral URLs that were not followed: all of them with `referrals: report`, else
    /// those to servers outside `referral_servers` and those a referred server returned.
    pub referrals: Vec<String>,
    /// Referral URLs whose subtree was searched and merged into the snapshot.
    pub followed_referrals: Vec<String>,
}

/// A complete read of a directory.
#[derive(Debug, Clone)]
pub struct DirectoryRead {
    /// The snapshot, with `collected_at` set to the start of the read.
    pub snapshot: SourceSnapshot,
    /// The mapping's warnings and notes, and one for unfollowed referrals.
    pub diagnostics: Vec<Diagnostic>,
    /// Counts.
    pub stats: ReadStats,
}

/// Reads the whole directory and maps it to a snapshot. Nothing is kept from a read that
/// fails part way.
///
/// # Errors
///
/// The first [`SyncError`]; the connection is closed.
pub async fn read_directory(
    directory: &Directory,
    collected_at: DateTime<Utc>,
) -> Result<DirectoryRead, SyncError> {
    let mut import = LdapImport::with_source(directory.source.clone());
    let mut session = Session::open(directory).await?;
    let read = read_entries(&mut session, directory, Scope::Subtree, &mut import).await;
    session.close().await;
    let mut stats = read?;
    if directory.referrals == ReferralPolicy::Follow {
        follow_referrals(directory, &mut import, &mut stats).await?;
    }

    let (mut snapshot, mut diagnostics) = import.finish();
    snapshot.collected_at = Some(collected_at);
    if let Some(first) = stats.referrals.first() {
        let fix = match directory.referrals {
            ReferralPolicy::Report => {
                "set `referrals: follow` with those servers in `referral_servers`, or add them as directories of their own"
            }
            ReferralPolicy::Follow => {
                "add those servers to `referral_servers` (a referred server's own referrals are never followed), or add them as directories of their own"
            }
        };
        diagnostics.push(Diagnostic::new(
            Level::Warning,
            &directory.url,
            Location::File,
            format!(
                "the server returned {} referrals that were not followed (the first is `{first}`), so entries held by other servers are missing; {fix}",
                stats.referrals.len()
            ),
        ));
    }
    Ok(DirectoryRead { snapshot, diagnostics, stats })
}

/// Searches the subtree of each referral whose server is in `referral_servers`, once per
/// referral URL, and adds its entries to `import`. The referred server's own referrals
/// are reported, not followed, so a referral back to the first server cannot loop.
///
/// # Errors
///
/// [`SyncError::Referral`] naming the referral, for the first referred server that
/// cannot be read.
async fn follow_referrals(
    directory: &Directory,
    import: &mut LdapImport,
    stats: &mut ReadStats,
) -> Result<(), SyncError> {
    let references = std::mem::take(&mut stats.referrals);
    let mut followed: HashSet<String> = HashSet::new();
    for reference in references {
        let target = LdapUrl::parse(&reference).ok().and_then(|url| {
            let (_, server) =
                directory.referral_servers.iter().find(|(address, _)| *address == url.server)?;
            Some((url, server.clone()))
        });
        let Some((url, server)) = target else {
            stats.referrals.push(reference);
            continue;
        };
        if !followed.insert(reference.clone()) {
            continue;
        }
        let mut referred = directory.clone();
        referred.url = server;
        if let Some(dn) = url.dn {
            referred.base_dn = dn;
        }
        if let Some(filter) = url.filter {
            referred.filter = filter;
        }
        // Groups outside the referred subtree are the first server's to read.
        referred.follow_groups_outside_base = false;
        let scope = url.scope.unwrap_or(Scope::Subtree);
        let read = read_referred(&referred, scope, import).await.map_err(|error| {
            SyncError::Referral { referral: reference.clone(), source: Box::new(error) }
        })?;
        tracing::info!(
            tenant = %directory.tenant,
            source = %directory.source,
            referral = %reference,
            entries = read.entries,
            "followed a referral"
        );
        stats.entries += read.entries;
        stats.pages += read.pages;
        stats.range_reads += read.range_reads;
        stats.referrals.extend(read.referrals);
        stats.followed_referrals.push(reference);
    }
    Ok(())
}

/// Opens a session to a referred server, reads its subtree into `import` and closes it.
async fn read_referred(
    referred: &Directory,
    scope: Scope,
    import: &mut LdapImport,
) -> Result<ReadStats, SyncError> {
    let mut session = Session::open(referred).await?;
    let read = read_entries(&mut session, referred, scope, import).await;
    session.close().await;
    read
}

/// Runs the paged search, then reads the rest of ranged attributes and the groups outside
/// the base, and adds every record to `import` in that order.
///
/// Search entries go into `import` as they arrive, so the import parses their DNs and maps
/// them while the connection task receives the next ones.
async fn read_entries(
    session: &mut Session,
    directory: &Directory,
    scope: Scope,
    import: &mut LdapImport,
) -> Result<ReadStats, SyncError> {
    let origin = EntryOrigin { file: PathBuf::from(&directory.url), location: Location::File };
    let under_base = SpelledUnderBase::new(&directory.base_dn);
    // Entries with ranged attributes still to read, and the member DNs of groups that may
    // lie outside the base, in the order the search returned them.
    let mut ranged = Vec::new();
    let mut outside_members = Vec::new();
    let search = session
        .paged_search_scoped(
            &directory.base_dn,
            scope,
            &directory.filter,
            &directory.attributes,
            directory.page_size,
            |entry| {
                if needs_ranges(&entry) {
                    ranged.push(entry.clone());
                }
                if directory.follow_groups_outside_base && is_group(&entry) {
                    outside_members.extend(
                        member_dns(&entry).filter(|dn| !under_base.matches(dn)).map(str::to_owned),
                    );
                }
                import.add_entry(entry, origin.clone());
            },
        )
        .await?;
    let mut stats = ReadStats {
        entries: search.entries,
        pages: search.pages,
        referrals: search.referrals,
        ..ReadStats::default()
    };
    let range_size = directory.member_range_size;
    let mut extra = Vec::new();
    for entry in &ranged {
        let chunks = session.complete_ranges(entry, MAX_RANGE_READS, range_size).await?;
        stats.range_reads += chunks.len() as u64;
        extra.extend(chunks);
    }
    if directory.follow_groups_outside_base {
        let outside = read_outside_groups(session, directory, import, outside_members).await?;
        for group in &outside {
            if needs_ranges(group) {
                let chunks = session.complete_ranges(group, MAX_RANGE_READS, range_size).await?;
                stats.range_reads += chunks.len() as u64;
                extra.extend(chunks);
            }
        }
        stats.outside_groups = outside.len() as u64;
        extra.extend(outside);
    }
    stats.entries += extra.len() as u64;
    for record in extra {
        import.add_entry(record, origin.clone());
    }
    Ok(stats)
}

/// A plain suffix test for DNs that spell the base the way the configuration does, which
/// sorts most member DNs out before any DN is parsed.
struct SpelledUnderBase {
    /// `,` and the base, trimmed and lowercased.
    suffix: String,
}

impl SpelledUnderBase {
    fn new(base_dn: &str) -> Self {
        Self { suffix: format!(",{}", base_dn.trim().to_lowercase()) }
    }

    /// Returns whether `dn` is the base or ends in `,` and the base, ignoring case and
    /// surrounding spaces.
    fn matches(&self, dn: &str) -> bool {
        let dn = dn.trim();
        // When the part of `dn` that the suffix would cover is ASCII, lowercasing `dn`
        // leaves that part where it is, so it can be compared without a lowercased copy.
        // An ASCII `dn` is also too long to be the base itself.
        let tail = dn.len().checked_sub(self.suffix.len()).and_then(|start| dn.get(start..));
        if let Some(tail) = tail.filter(|tail| tail.is_ascii()) {
            if tail.eq_ignore_ascii_case(&self.suffix) {
                return true;
            }
            if dn.is_ascii() {
                return false;
            }
        }
        let dn = dn.to_lowercase();
        dn.ends_with(&self.suffix) || self.suffix.strip_prefix(',') == Some(dn.as_str())
    }
}

/// Reads the groups that synced groups name as members (`members`, from the search) but
/// that lie outside the base, then their member groups, and so on. Each DN is read at most
/// once, so a cycle of groups ends the walk instead of looping.
async fn read_outside_groups(
    session: &mut Session,
    directory: &Directory,
    import: &LdapImport,
    members: Vec<String>,
) -> Result<Vec<LdapEntry>, SyncError> {
    let mut queue = VecDeque::from(members);
    if queue.is_empty() {
        return Ok(Vec::new());
    }
    let base = dn_key(&directory.base_dn);
    // DNs that the import already contains are not read again.
    let mut seen: HashSet<String> = HashSet::new();
    let mut found = Vec::new();
    while let Some(dn) = queue.pop_front() {
        let key = dn_key(&dn);
        // Entries under the base that the search did not return did not match the filter
        // (computers, contacts), so they are not read again.
        if under_base(&key, &base) || import.contains_key(&key) || !seen.insert(key) {
            continue;
        }
        if found.len() >= MAX_OUTSIDE_GROUPS {
            tracing::warn!(
                url = %directory.url,
                limit = MAX_OUTSIDE_GROUPS,
                "stopped reading groups outside the base at the limit; their members are unresolved"
            );
            break;
        }
        let Some(entry) = session.read_base(&dn, &directory.attributes).await? else {
            continue;
        };
        if is_group(&entry) {
            queue.extend(member_dns(&entry).map(str::to_owned));
            found.push(entry);
        }
    }
    Ok(found)
}

/// Returns the comparison key of a DN: its RFC 4514 normal form, or the lowercased text
/// when it does not parse.
fn dn_key(dn: &str) -> String {
    normalize_dn(dn).unwrap_or_else(|_| dn.trim().to_lowercase())
}

/// Returns whether the normalised `dn` is `base` or below it.
fn under_base(dn: &str, base: &str) -> bool {
    dn == base || dn.strip_suffix(base).is_some_and(|rest| rest.ends_with(','))
}

/// Returns whether the entry has one of the group object classes the mapping reads.
fn is_group(entry: &LdapEntry) -> bool {
    entry.values("objectClass").iter().any(|class| {
        [&b"group"[..], b"groupOfNames", b"groupOfUniqueNames"]
            .iter()
            .any(|name| class.eq_ignore_ascii_case(name))
    })
}

/// Returns the member DNs of a group entry, plain and ranged, that are UTF-8 text.
fn member_dns(entry: &LdapEntry) -> impl Iterator<Item = &str> {
    entry
        .attributes
        .iter()
        .filter(|(description, _)| {
            let base = description.split(';').next().unwrap_or_default();
            base.eq_ignore_ascii_case("member") || base.eq_ignore_ascii_case("uniqueMember")
        })
        .flat_map(|(_, values)| values.iter())
        .filter_map(|value| std::str::from_utf8(value).ok())
}

/// Runs one sync attempt: reads the directory, publishes the snapshot, then publishes the
/// sync report. Returns the report, which went out unless publishing it failed (that is
/// logged and counted).
pub async fn sync_once(
    directory: &Directory,
    publisher: &Publisher,
    metrics: &SyncMetrics,
) -> SyncReport {
    let labels = DirectoryLabels {
        tenant: directory.tenant.to_string(),
        source: directory.source.to_string(),
    };
    let started_at = Utc::now();
    let timer = Instant::now();
    let result = match read_directory(directory, started_at).await {
        Ok(read) => {
            metrics.entries_read.get_or_create(&labels).inc_by(read.stats.entries);
            metrics.pages.get_or_create(&labels).inc_by(read.stats.pages);
            metrics.range_reads.get_or_create(&labels).inc_by(read.stats.range_reads);
            let snapshot_id = Uuid::new_v4();
            match publisher.publish_snapshot(&read.snapshot, &directory.tenant, snapshot_id).await {
                Ok(_) => Ok((read, snapshot_id)),
                Err(error) => Err(SyncError::Publish { reason: error.to_string() }),
            }
        }
        Err(error) => Err(error),
    };
    let finished_at = Utc::now();
    metrics.duration.get_or_create(&labels).observe(timer.elapsed().as_secs_f64());
    let report = match result {
        Ok((read, snapshot_id)) => {
            metrics.successes.get_or_create(&labels).inc();
            metrics.last_success.get_or_create(&labels).set(finished_at.timestamp());
            tracing::info!(
                tenant = %directory.tenant,
                source = %directory.source,
                snapshot_id = %snapshot_id,
                entries = read.stats.entries,
                pages = read.stats.pages,
                range_reads = read.stats.range_reads,
                followed_referrals = read.stats.followed_referrals.len(),
                accounts = read.snapshot.accounts.len(),
                entitlements = read.snapshot.entitlements.len(),
                memberships = read.snapshot.memberships.len(),
                "sync published a snapshot"
            );
            SyncReport {
                report_id: Uuid::new_v4(),
                tenant: directory.tenant.clone(),
                source: directory.source.clone(),
                started_at,
                finished_at,
                outcome: SyncOutcome::Ok,
                snapshot_id: Some(snapshot_id),
                content_hash: Some(ContentHash::of(&read.snapshot)),
                problems: read
                    .diagnostics
                    .iter()
                    .filter(|diagnostic| diagnostic.level == Level::Warning)
                    .map(|diagnostic| InputProblem {
                        input: directory.url.clone(),
                        location: None,
                        message: diagnostic.message.clone(),
                        fatal: false,
                    })
                    .collect(),
                connector: CONNECTOR_NAME.to_owned(),
            }
        }
        Err(error) => {
            metrics.error(&labels, error.stage());
            tracing::warn!(
                tenant = %directory.tenant,
                source = %directory.source,
                stage = error.stage().as_str(),
                error = %error,
                "sync failed; nothing was published"
            );
            failed_report(directory, started_at, finished_at, &error)
        }
    };
    if let Err(error) = publisher.publish(&sync_report_to_proto(&report)).await {
        metrics.error(&labels, crate::error::Stage::Publish);
        tracing::error!(
            tenant = %directory.tenant,
            source = %directory.source,
            report_id = %report.report_id,
            error = %error,
            "the sync report could not be published"
        );
    }
    report
}

/// Builds the report of a failed attempt: one fatal problem, no snapshot, no hash.
pub fn failed_report(
    directory: &Directory,
    started_at: DateTime<Utc>,
    finished_at: DateTime<Utc>,
    error: &SyncError,
) -> SyncReport {
    SyncReport {
        report_id: Uuid::new_v4(),
        tenant: directory.tenant.clone(),
        source: directory.source.clone(),
        started_at,
        finished_at: finished_at.max(started_at),
        outcome: SyncOutcome::Failed,
        snapshot_id: None,
        content_hash: None,
        problems: vec![InputProblem {
            input: directory.url.clone(),
            location: Some(format!("stage {}", error.stage().as_str())),
            message: error.to_string(),
            fatal: true,
        }],
        connector: CONNECTOR_NAME.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::{dn_key, under_base};

    #[test]
    fn under_base_needs_rdn_boundary() {
        let base = dn_key("DC=clinic,DC=example");
        assert!(under_base(&dn_key("CN=A,OU=Staff,DC=Clinic,DC=Example"), &base));
        assert!(under_base(&base, &base));
        assert!(!under_base(&dn_key("DC=otherclinic,DC=example"), &base));
        assert!(!under_base(&dn_key("CN=A,DC=partner,DC=example"), &base));
    }
}
