//! Patterns that select sources and entitlements in the tenant policy.
//!
//! An entitlement pattern is `[kind:]glob`. The optional kind is one of the entitlement
//! kind names (`group`, `directory_role`, `template`, `subtemplate`, `security_class`,
//! `role`, `permission`, `user_group`); anything else before a colon is part of the glob,
//! so an athenahealth role such as `Clinicals: Provider` needs no escaping. The glob is
//! matched case-insensitively against the entitlement's name and against its id; `*` and
//! `?` are wildcards, and `\*` matches a literal star.

use globset::{Glob, GlobBuilder, GlobMatcher, GlobSet, GlobSetBuilder};

use crate::model::{Entitlement, EntitlementKind, SourceId};

/// A pattern in the policy that is not a valid glob.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid pattern `{pattern}`: {reason}; escape `*`, `?`, `[`, `{{` with `\\` to match them literally"
)]
pub struct PatternError {
    /// The pattern as written.
    pub pattern: String,
    /// What the glob compiler rejected.
    pub reason: String,
}

fn build_glob(pattern: &str, glob: &str) -> Result<Glob, PatternError> {
    GlobBuilder::new(glob)
        .case_insensitive(true)
        .literal_separator(false)
        .backslash_escape(true)
        .build()
        .map_err(|e| PatternError { pattern: pattern.to_owned(), reason: e.kind().to_string() })
}

fn compile_glob(pattern: &str, glob: &str) -> Result<GlobMatcher, PatternError> {
    build_glob(pattern, glob).map(|g| g.compile_matcher())
}

/// A compiled glob over source ids (`ehr:*`, `entra`, `ldap*`).
#[derive(Debug, Clone)]
pub struct SourcePattern {
    text: String,
    glob: GlobMatcher,
}

impl SourcePattern {
    /// Compiles `pattern`.
    pub fn new(pattern: &str) -> Result<Self, PatternError> {
        Ok(Self { text: pattern.to_owned(), glob: compile_glob(pattern, pattern)? })
    }

    /// Whether `source` matches.
    pub fn matches(&self, source: &SourceId) -> bool {
        self.glob.is_match(source.to_string())
    }

    /// Whether the pattern names one source rather than a family of them.
    pub fn is_exact(&self) -> bool {
        !self.text.contains(['*', '?', '[', '{'])
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

/// A compiled `[kind:]glob` over entitlements.
#[derive(Debug, Clone)]
pub struct EntitlementPattern {
    text: String,
    kind: Option<EntitlementKind>,
    glob: GlobMatcher,
    /// The glob has no wildcard: it names one entitlement.
    exact: bool,
}

impl EntitlementPattern {
    /// Compiles `pattern`.
    pub fn new(pattern: &str) -> Result<Self, PatternError> {
        let (kind, glob) = match pattern.split_once(':') {
            Some((prefix, rest)) => {
                match EntitlementKind::ALL.iter().find(|k| k.as_str() == prefix.trim()) {
                    Some(kind) => (Some(*kind), rest.trim()),
                    None => (None, pattern.trim()),
                }
            }
            None => (None, pattern.trim()),
        };
        let exact = !glob.contains(['*', '?', '[', '{']);
        Ok(Self { text: pattern.to_owned(), kind, glob: compile_glob(pattern, glob)?, exact })
    }

    /// Whether `entitlement` matches by kind and by name or id.
    pub fn matches(&self, entitlement: &Entitlement) -> bool {
        if self.kind.is_some_and(|kind| kind != entitlement.kind) {
            return false;
        }
        self.glob.is_match(&entitlement.name) || self.glob.is_match(&entitlement.id)
    }

    /// Whether the pattern names one entitlement rather than a family of them.
    pub fn is_exact(&self) -> bool {
        self.exact
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

/// Entitlement patterns grouped by the sources they apply to, as a policy writes them:
/// `{ "ehr:*": ["role:Front Desk"], entra: ["group:All Staff"] }`.
#[derive(Debug, Clone, Default)]
pub struct EntitlementSet {
    entries: Vec<(SourcePattern, Vec<EntitlementPattern>)>,
}

impl EntitlementSet {
    /// Compiles a source-to-patterns map.
    pub fn new<'a>(
        map: impl IntoIterator<Item = (&'a String, &'a Vec<String>)>,
    ) -> Result<Self, PatternError> {
        let mut entries = Vec::new();
        for (source, patterns) in map {
            let source = SourcePattern::new(source)?;
            let patterns =
                patterns.iter().map(|p| EntitlementPattern::new(p)).collect::<Result<_, _>>()?;
            entries.push((source, patterns));
        }
        Ok(Self { entries })
    }

    /// The first pattern that matches `entitlement` of `source`.
    pub fn find(
        &self,
        source: &SourceId,
        entitlement: &Entitlement,
    ) -> Option<&EntitlementPattern> {
        self.entries
            .iter()
            .filter(|(pattern, _)| pattern.matches(source))
            .flat_map(|(_, patterns)| patterns.iter())
            .find(|pattern| pattern.matches(entitlement))
    }

    /// Lists the source patterns of the set.
    pub fn sources(&self) -> impl Iterator<Item = &SourcePattern> {
        self.entries.iter().map(|(source, _)| source)
    }

    /// Whether the set has no patterns at all.
    pub fn is_empty(&self) -> bool {
        self.entries.iter().all(|(_, patterns)| patterns.is_empty())
    }
}

/// A compiled glob over names and logins.
#[derive(Debug, Clone)]
pub struct NamePattern {
    text: String,
    glob: GlobMatcher,
}

impl NamePattern {
    /// Compiles `pattern`.
    pub fn new(pattern: &str) -> Result<Self, PatternError> {
        Ok(Self { text: pattern.to_owned(), glob: compile_glob(pattern, pattern.trim())? })
    }

    /// Whether `value` matches.
    pub fn matches(&self, value: &str) -> bool {
        self.glob.is_match(value.trim())
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

/// A list of name patterns matched in one pass over a value: the generic and service
/// account patterns are checked against several names of every account, and one
/// combined matcher costs about as much as a single pattern.
#[derive(Debug, Clone)]
pub struct NameSet {
    set: GlobSet,
}

impl NameSet {
    /// Combines `patterns`, keeping their order.
    pub fn new(patterns: &[NamePattern]) -> Result<Self, PatternError> {
        let mut builder = GlobSetBuilder::new();
        for pattern in patterns {
            builder.add(build_glob(pattern.as_str(), pattern.as_str().trim())?);
        }
        let text = || patterns.iter().map(NamePattern::as_str).collect::<Vec<_>>().join(", ");
        let set = builder
            .build()
            .map_err(|e| PatternError { pattern: text(), reason: e.kind().to_string() })?;
        Ok(Self { set })
    }

    /// Finds the position of the first pattern, in list order, that matches `value`. This
    /// is the pattern that trying each [`NamePattern::matches`] in turn would find.
    pub fn first_match(&self, value: &str) -> Option<usize> {
        let value = value.trim();
        // Most values match no pattern, and the yes-or-no check is cheaper than listing
        // every matching pattern.
        if !self.set.is_match(value) {
            return None;
        }
        self.set.matches(value).into_iter().min()
    }

    /// Checks whether any pattern matches `value`.
    pub fn is_match(&self, value: &str) -> bool {
        self.set.is_match(value.trim())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn role(name: &str) -> Entitlement {
        Entitlement::new(name, EntitlementKind::Role, name)
    }

    #[test]
    fn kind_prefix_is_optional() {
        let pattern = EntitlementPattern::new("Clinicals: Provider").unwrap();
        assert!(pattern.matches(&role("Clinicals: Provider")));
        let typed = EntitlementPattern::new("group:Clinicals: Provider").unwrap();
        assert!(!typed.matches(&role("Clinicals: Provider")));
    }

    #[test]
    fn matching_ignores_case_and_checks_id() {
        let pattern = EntitlementPattern::new("template:t41020").unwrap();
        let template = Entitlement::new("T41020", EntitlementKind::Template, "AMB PHYSICIAN");
        assert!(pattern.matches(&template));
        assert!(pattern.is_exact());
    }

    #[test]
    fn escaped_star_is_literal() {
        let pattern = EntitlementPattern::new(r"group:Controlled Rx\*Approvers").unwrap();
        let group = Entitlement::new("g", EntitlementKind::Group, "Controlled Rx*Approvers");
        assert!(pattern.matches(&group));
        let other = Entitlement::new("h", EntitlementKind::Group, "Controlled RxXApprovers");
        assert!(!pattern.matches(&other));
    }

    #[test]
    fn unbalanced_brace_is_an_error() {
        let error = EntitlementPattern::new("group:{Clinicians").unwrap_err();
        assert_eq!(error.pattern, "group:{Clinicians");
    }

    #[test]
    fn name_set_keeps_list_order() {
        let patterns: Vec<NamePattern> =
            ["*desk*", "front*", "kiosk"].iter().map(|p| NamePattern::new(p).unwrap()).collect();
        let set = NameSet::new(&patterns).unwrap();
        for value in ["frontdesk1", " Front Desk ", "front", "KIOSK", "nurse", ""] {
            let one_by_one = patterns.iter().position(|p| p.matches(value));
            assert_eq!(set.first_match(value), one_by_one, "{value:?}");
            assert_eq!(set.is_match(value), one_by_one.is_some(), "{value:?}");
        }
        assert_eq!(set.first_match("frontdesk1"), Some(0));
        assert_eq!(set.first_match("front office"), Some(1));
    }

    #[test]
    fn source_pattern_selects_ehr() {
        let pattern = SourcePattern::new("ehr:*").unwrap();
        assert!(pattern.matches(&"ehr:epic".parse().unwrap()));
        assert!(!pattern.matches(&SourceId::entra()));
    }
}
