//! Line numbers for byte offsets.
//!
//! The CSV parser reports a record's position as the offset where it stopped after the
//! previous record, which can sit before the `\n` of a `\r\n` pair or before skipped blank
//! lines. The index maps an offset to the line where the record's first character is.

/// The byte offset at which each line starts; `\r\n`, `\n` and a lone `\r` each end a line.
#[derive(Debug, Clone)]
pub(crate) struct LineIndex<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        let bytes = text.as_bytes();
        let mut starts = vec![0];
        for (index, &byte) in bytes.iter().enumerate() {
            let ends_line = match byte {
                b'\n' => true,
                b'\r' => bytes.get(index + 1) != Some(&b'\n'),
                _ => false,
            };
            if ends_line {
                starts.push(index + 1);
            }
        }
        Self { text, starts }
    }

    /// Returns the 1-based line of the first character at or after `offset` that is not a line
    /// break.
    pub(crate) fn record_line(&self, offset: u64) -> u64 {
        let offset = usize::try_from(offset).unwrap_or(usize::MAX).min(self.text.len());
        let rest = self.text.as_bytes().get(offset..).unwrap_or_default();
        let skipped = rest.iter().take_while(|&&b| b == b'\r' || b == b'\n').count();
        let start = offset + skipped;
        self.starts.partition_point(|&line_start| line_start <= start) as u64
    }
}
