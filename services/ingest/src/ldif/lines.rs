//! Splitting an LDIF file into records of unfolded lines (RFC 2849, "Notes on LDIF
//! Syntax").

/// One line after unfolding, with the number of its first physical line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct LogicalLine {
    /// The 1-based number of the first physical line.
    pub line: u64,
    /// The content with continuation lines joined and line ends removed.
    pub text: Vec<u8>,
}

/// The records of a file and the continuation lines that had nothing to continue.
#[derive(Debug, Default)]
pub(super) struct SplitFile {
    /// Groups of lines between blank lines, comments removed.
    pub records: Vec<Vec<LogicalLine>>,
    /// The numbers of continuation lines at the start of the file or right after a blank
    /// line.
    pub orphan_continuations: Vec<u64>,
}

/// The kind of line a continuation line would extend.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Previous {
    Nothing,
    Content,
    Comment,
}

/// Splits `bytes` into records.
///
/// Lines end in LF or CRLF. A line starting with one space continues the previous line
/// without that space, including a comment line (so a folded comment stays a comment). A
/// line starting with `#` is a comment. Blank lines separate records. A UTF-8 byte order
/// mark at the start, which Windows editors add, is skipped.
pub(super) fn split_records(bytes: &[u8]) -> SplitFile {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut split = SplitFile::default();
    let mut current: Vec<LogicalLine> = Vec::new();
    let mut previous = Previous::Nothing;

    for (index, raw) in bytes.split(|&b| b == b'\n').enumerate() {
        let number = u64::try_from(index).unwrap_or(u64::MAX).saturating_add(1);
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        match raw.split_first() {
            None => {
                if !current.is_empty() {
                    split.records.push(std::mem::take(&mut current));
                }
                previous = Previous::Nothing;
            }
            Some((b' ', rest)) => match previous {
                Previous::Content => {
                    if let Some(last) = current.last_mut() {
                        last.text.extend_from_slice(rest);
                    }
                }
                Previous::Comment => {}
                Previous::Nothing => split.orphan_continuations.push(number),
            },
            Some((b'#', _)) => previous = Previous::Comment,
            Some(_) => {
                current.push(LogicalLine { line: number, text: raw.to_vec() });
                previous = Previous::Content;
            }
        }
    }
    if !current.is_empty() {
        split.records.push(current);
    }
    split
}
