//! One sync of one directory: read it completely, map it with the LDIF reader's mapping,
//! publish the snapshot, and publish a sync report whatever happened.

use std::collections::{HashSet, VecDeque};
use std::path::PathBuf;
use std::time::Instant;

use chrono::{DateTime, Utc};
use rollcall_bus::Publisher;
use rollcall_core::model::SourceSnapshot;
use rollcall_ingest::diagnostic::{Diagnostic, Level, Location};
use rollcall_ingest::ldap::{EntryOrigin, LdapEntry, LdapImport, normalize_dn};
use rollcall_proto::{ContentHash, InputProblem, SyncOutcome, SyncReport, sync_report_to_proto};
use uuid::Uuid;

use crate::client::{Session, needs_ranges};
use crate::config::Directory;
use crate::error::SyncError;
use crate::metrics::{DirectoryLabels, SyncMetrics};

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
    /// Referral URLs the server returned, not followed.
    pub referrals: Vec<String>,
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
    let read = read_entries(&mut session, directory, &mut import).await;
    session.close().await;
    let stats = read?;

    let (mut snapshot, mut diagnostics) = import.finish();
    snapshot.collected_at = Some(collected_at);
    if let Some(first) = stats.referrals.first() {
        diagnostics.push(Diagnostic::new(
            Level::Warning,
            &directory.url,
            Location::File,
            format!(
                "the server returned {} referrals (the first is `{first}`), which were not followed, so entries held by other servers are missing; add those servers as directories of their own",
                stats.referrals.len()
            ),
        ));
    }
    Ok(DirectoryRead { snapshot, diagnostics, stats })
}

/// Runs the paged search, then reads the rest of ranged attributes and the groups outside
/// the base, and adds every record to `import` in that order.
///
/// Search entries go into `import` as they arrive, so the import parses their DNs and maps
/// them while the connection task receives the next ones.
async fn read_entries(
    session: &mut Session,
    directory: &Directory,
    import: &mut LdapImport,
) -> Result<ReadStats, SyncError> {
    let origin = EntryOrigin { file: PathBuf::from(&directory.url), location: Location::File };
    let under_base = SpelledUnderBase::new(&directory.base_dn);
    // Entries with ranged attributes still to read, and the member DNs of groups that may
    // lie outside the base, in the order the search returned them.
    let mut ranged = Vec::new();
    let mut outside_members = Vec::new();
    let search = session
        .paged_search(
            &directory.base_dn,
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
        outside_groups: 0,
        referrals: search.referrals,
    };
    let mut extra = Vec::new();
    for entry in &ranged {
        extra.extend(session.complete_ranges(entry, MAX_RANGE_READS).await?);
    }
    if directory.follow_groups_outside_base {
        let outside = read_outside_groups(session, directory, import, outside_members).await?;
        for group in &outside {
            if needs_ranges(group) {
                extra.extend(session.complete_ranges(group, MAX_RANGE_READS).await?);
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
