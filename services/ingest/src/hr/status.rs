//! Employment status words as rosters write them.

use rollcall_core::model::WorkerStatus;

/// Words that mean employed and working.
const ACTIVE: &[&str] = &[
    "active",
    "a",
    "employed",
    "actively employed",
    "current",
    "working",
    "full time",
    "part time",
];

/// Words that mean employed but away. Any status containing `leave` also counts.
const LEAVE: &[&str] = &[
    "on leave",
    "leave",
    "loa",
    "l",
    "leave of absence",
    "fmla",
    "furlough",
    "furloughed",
    "suspended",
];

/// Words that mean employment ended.
const TERMINATED: &[&str] = &[
    "terminated",
    "termed",
    "term",
    "t",
    "separated",
    "inactive",
    "i",
    "former",
    "resigned",
    "retired",
    "deceased",
    "dismissed",
    "laid off",
    "left",
];

/// Words that mean hired with a start date still to come.
const PENDING: &[&str] = &[
    "pending",
    "p",
    "pre hire",
    "prehire",
    "pre start",
    "new hire",
    "hired",
    "onboarding",
    "not started",
    "future start",
];

/// First words that decide a longer status, such as `Terminated - Voluntary` or
/// `Inactive (Retired)`.
const TERMINATED_FIRST_WORDS: &[&str] =
    &["terminated", "termed", "separated", "inactive", "resigned", "retired"];

/// Maps a roster's status word to a worker status, or returns `None` for an unrecognized word.
///
/// Case, `_`, `-`, `/`, `,`, brackets and repeated spaces are ignored, so `On_Leave`, `on-leave`
/// and `ON LEAVE` are the same word.
pub fn worker_status(raw: &str) -> Option<WorkerStatus> {
    let words: Vec<String> = raw
        .to_lowercase()
        .split(|c: char| c.is_whitespace() || matches!(c, '_' | '-' | '/' | '(' | ')' | ','))
        .filter(|word| !word.is_empty())
        .map(str::to_owned)
        .collect();
    let normalized = words.join(" ");
    let exact = |list: &[&str]| list.contains(&normalized.as_str());
    if exact(ACTIVE) {
        return Some(WorkerStatus::Active);
    }
    if exact(LEAVE) || words.iter().any(|word| word == "leave") {
        return Some(WorkerStatus::Leave);
    }
    if exact(TERMINATED) {
        return Some(WorkerStatus::Terminated);
    }
    if exact(PENDING) {
        return Some(WorkerStatus::Pending);
    }
    let first = words.first()?;
    TERMINATED_FIRST_WORDS.contains(&first.as_str()).then_some(WorkerStatus::Terminated)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_words_mapped() {
        let cases = [
            ("Active", Some(WorkerStatus::Active)),
            (" ACTIVE ", Some(WorkerStatus::Active)),
            ("Full-Time", Some(WorkerStatus::Active)),
            ("On Leave", Some(WorkerStatus::Leave)),
            ("on_leave", Some(WorkerStatus::Leave)),
            ("LOA", Some(WorkerStatus::Leave)),
            ("Medical Leave", Some(WorkerStatus::Leave)),
            ("Terminated", Some(WorkerStatus::Terminated)),
            ("Separated", Some(WorkerStatus::Terminated)),
            ("inactive", Some(WorkerStatus::Terminated)),
            ("Terminated - Voluntary", Some(WorkerStatus::Terminated)),
            ("Inactive (Retired)", Some(WorkerStatus::Terminated)),
            ("Pending", Some(WorkerStatus::Pending)),
            ("Pre-hire", Some(WorkerStatus::Pending)),
            ("", None),
            ("Contractor", None),
            ("Active?", None),
        ];
        for (raw, expected) in cases {
            assert_eq!(worker_status(raw), expected, "`{raw}`");
        }
    }
}
