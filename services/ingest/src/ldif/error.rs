//! Errors that stop an LDIF file from being read at all.

/// An LDIF file that is not a content export Rollcall can read.
///
/// Problems confined to one record (broken base64, a line without `:`) are warnings in
/// [`super::LdifFile::diagnostics`] instead, and the rest of the file is still read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LdifError {
    /// A `changetype:` line: the file contains change records, written for ldapmodify or
    /// `ldifde -i`, not search results.
    #[error(
        "line {line}: `changetype: {changetype}` marks an LDIF change record, which edits entries instead of listing them; export the directory with ldapsearch, or with ldifde (whose records are `changetype: add`), and pass that file"
    )]
    ChangeRecord {
        /// The 1-based line of the `changetype:` line.
        line: u64,
        /// The change type as written (`add`, `modify`).
        changetype: String,
    },
    /// A `control:` line inside an entry, which RFC 2849 allows only in change records.
    #[error(
        "line {line}: `control:` belongs to an LDIF change record, but Rollcall reads only content records such as ldapsearch output, so export the entries with ldapsearch and pass that file"
    )]
    Control {
        /// The 1-based line of the `control:` line.
        line: u64,
    },
    /// An `attr:< URL` value, which points at data outside the file.
    #[error(
        "line {line}: the value of `{attribute}` is the URL `{url}`, but Rollcall does not read other files, so export again without `ldapsearch -t` to keep every value inline"
    )]
    UrlValue {
        /// The 1-based line of the value.
        line: u64,
        /// The attribute description (or `dn`).
        attribute: String,
        /// The URL as written.
        url: String,
    },
}
