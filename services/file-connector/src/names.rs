//! File names that upload tools use while a file is still being written. The connector
//! never reads such a file and does not wait for it to settle.

use std::path::Path;

/// Name endings of files that are still being written, compared without letter case:
/// `.tmp`, `.part` and `.partial`, common in scripts and download tools (Firefox writes
/// `.part`), `.crdownload` (Chrome and Edge), `.filepart` (WinSCP) and `.swp` (vim).
pub const TEMPORARY_SUFFIXES: [&str; 6] =
    [".tmp", ".part", ".partial", ".crdownload", ".filepart", ".swp"];

/// Checks whether `relative`, a path inside a tenant folder, is a temporary upload.
/// That is a path with a hidden component (starting with `.`, as rsync and many scripts
/// name the file they write before renaming it) or a Microsoft Office lock file (starting
/// with `~$`), or a name ending in one of [`TEMPORARY_SUFFIXES`].
pub fn is_temporary(relative: &Path) -> bool {
    let hidden = relative.components().any(|component| {
        let name = component.as_os_str().to_string_lossy();
        name.starts_with('.') || name.starts_with("~$")
    });
    if hidden {
        return true;
    }
    let Some(name) = relative.file_name() else { return false };
    let name = name.to_string_lossy().to_ascii_lowercase();
    TEMPORARY_SUFFIXES.iter().any(|suffix| name.ends_with(suffix))
}

#[cfg(test)]
mod tests {
    use super::is_temporary;
    use std::path::Path;

    #[test]
    fn temporary_names_are_recognised() {
        for name in [
            ".users.json.x7Qa",
            "entra/.users.json",
            ".git/config",
            "ehr/users.csv.tmp",
            "ehr/users.csv.PART",
            "hr/roster.csv.partial",
            "hr/roster.csv.crdownload",
            "hr/roster.csv.filepart",
            "hr/~$roster.xlsx",
            "hr/.roster.csv.swp",
        ] {
            assert!(is_temporary(Path::new(name)), "{name} should be temporary");
        }
    }

    #[test]
    fn export_names_are_not_temporary() {
        for name in ["tenant.yaml", "entra/users.json", "ehr/athena-users.csv", "hr/roster.csv"] {
            assert!(!is_temporary(Path::new(name)), "{name} should be read");
        }
    }
}
