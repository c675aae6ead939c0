//! Helpers shared by the end-to-end tests: load a tenant folder the way `rollcall scan`
//! does and describe its findings as short, stable strings.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use rollcall_core::{Evaluation, Finding, evaluate};
use rollcall_ingest::layout::{self, LoadedTenant};

/// Returns the repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Loads and evaluates the tenant in `dir` at `as_of`.
///
/// # Panics
///
/// When the tenant folder cannot be loaded: a test input is broken.
pub fn scan(dir: &Path, as_of: DateTime<Utc>) -> (LoadedTenant, Evaluation) {
    let tenant = match layout::load_tenant(dir, as_of) {
        Ok(tenant) => tenant,
        Err(error) => panic!("cannot load `{}`: {error}", dir.display()),
    };
    let evaluation = evaluate(&tenant.config.tenant, &tenant.data, as_of);
    (tenant, evaluation)
}

/// Describes a finding as `kind subject`, where the subject is the first of: `<source>/<login or
/// id>` of the account (with ` [<entitlement name>]` when the finding names one), the
/// identity key, the source. Stable across runs and readable in a README table.
pub fn describe(finding: &Finding) -> String {
    let subject = &finding.subject;
    let name = if let Some(account) = &subject.account {
        let login = account.login.clone().unwrap_or_else(|| account.account.id.clone());
        match &subject.entitlement {
            Some(entitlement) => {
                format!("{}/{login} [{}]", account.account.source, entitlement.name)
            }
            None => format!("{}/{login}", account.account.source),
        }
    } else if let Some(identity) = &subject.identity {
        identity.key.clone()
    } else if let Some(source) = &subject.source {
        source.to_string()
    } else {
        String::from("-")
    };
    format!("{} {name}", finding.kind)
}

/// Describes and counts the findings: the same description twice counts twice.
pub fn tally(findings: &[Finding]) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for finding in findings {
        *counts.entry(describe(finding)).or_default() += 1;
    }
    counts
}

/// Reads `kind subject` lines from `text`, ignoring blank lines and `#` comments.
pub fn expected(text: &str) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
        *counts.entry(line.to_owned()).or_default() += 1;
    }
    counts
}
