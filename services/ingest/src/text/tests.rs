use proptest::prelude::*;

use super::*;

fn roster(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/../../testdata/field-cases/csv-excel-roster/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn utf8_bom_stripped() {
    let decoded = decode(&roster("roster-excel-utf8-bom-semicolon.csv"), None).unwrap();
    assert!(decoded.text.starts_with("Login;Last Name"));
    assert_eq!(decoded.decoding.encoding, TextEncoding::Utf8);
    assert_eq!(decoded.decoding.detection, Detection::ByteOrderMark);
    assert_eq!(decoded.decoding.describe(), "utf-8 (BOM stripped)");
    assert!(decoded.text.contains("Núñez"));
}

#[test]
fn ansi_falls_back_to_windows_1252() {
    let decoded = decode(&roster("roster-excel-ansi-comma.csv"), None).unwrap();
    assert_eq!(decoded.decoding.encoding, TextEncoding::Windows1252);
    assert_eq!(decoded.decoding.detection, Detection::Fallback { first_invalid_line: 2 });
    assert_eq!(decoded.decoding.describe(), "windows-1252");
    assert!(decoded.text.contains("Núñez,José"));
    assert!(decoded.text.contains("Zoë"));
    assert!(!decoded.text.contains('\u{FFFD}'));
}

#[test]
fn windows_1252_maps_punctuation() {
    // 0x93 and 0x94 are curly quotes and 0x80 the euro sign in Windows-1252, not C1 controls.
    let decoded = decode(b"\x93x\x94 \x80", None).unwrap();
    assert_eq!(decoded.text, "\u{201C}x\u{201D} \u{20AC}");
}

#[test]
fn windows_1252_keeps_undefined_bytes() {
    let decoded = decode(b"a\x81b", None).unwrap();
    assert_eq!(decoded.text, "a\u{81}b");
}

#[test]
fn valid_utf8_detected() {
    let decoded = decode("Login,Name\nx,Renée\n".as_bytes(), None).unwrap();
    assert_eq!(decoded.decoding.detection, Detection::ValidUtf8);
    assert_eq!(decoded.text, "Login,Name\nx,Renée\n");
}

#[test]
fn utf16le_bom_decoded() {
    let mut bytes = vec![0xFF, 0xFE];
    for unit in "Login\tName\r\nx\tZoë\r\n".encode_utf16() {
        bytes.extend_from_slice(&unit.to_le_bytes());
    }
    let decoded = decode(&bytes, None).unwrap();
    assert_eq!(decoded.text, "Login\tName\r\nx\tZoë\r\n");
    assert_eq!(decoded.decoding.encoding, TextEncoding::Utf16Le);
    assert_eq!(decoded.decoding.describe(), "utf-16le (BOM stripped)");
}

#[test]
fn utf16be_bom_decoded() {
    let mut bytes = vec![0xFE, 0xFF];
    for unit in "Login\n".encode_utf16() {
        bytes.extend_from_slice(&unit.to_be_bytes());
    }
    let decoded = decode(&bytes, None).unwrap();
    assert_eq!(decoded.text, "Login\n");
    assert_eq!(decoded.decoding.encoding, TextEncoding::Utf16Be);
}

#[test]
fn utf16le_without_bom_sniffed() {
    let bytes: Vec<u8> = "Login,Name\n".encode_utf16().flat_map(u16::to_le_bytes).collect();
    let decoded = decode(&bytes, None).unwrap();
    assert_eq!(decoded.text, "Login,Name\n");
    assert_eq!(decoded.decoding.detection, Detection::Utf16Pattern);
}

#[test]
fn unpaired_surrogate_rejected() {
    let mut bytes = vec![0xFF, 0xFE];
    bytes.extend_from_slice(&u16::from(b'a').to_le_bytes());
    bytes.extend_from_slice(&u16::from(b'\n').to_le_bytes());
    bytes.extend_from_slice(&0xD800u16.to_le_bytes());
    let error = decode(&bytes, None).unwrap_err();
    assert_eq!(error, TextError::InvalidUtf16 { unit: 0xD800, line: 2, offset: 6 });
}

#[test]
fn odd_utf16_length_rejected() {
    let error = decode(&[0xFF, 0xFE, b'a', 0, b'b'], None).unwrap_err();
    assert_eq!(error, TextError::InvalidUtf16 { unit: u16::from(b'b'), line: 1, offset: 4 });
}

#[test]
fn forced_utf8_rejects_invalid_byte() {
    let error = decode(b"Login\nRen\xE9e\n", Some(TextEncoding::Utf8)).unwrap_err();
    assert_eq!(error, TextError::InvalidUtf8 { byte: 0xE9, line: 2, offset: 9 });
    assert!(error.to_string().starts_with("invalid UTF-8 byte `0xE9` at line 2"));
}

#[test]
fn utf8_bom_with_invalid_bytes_rejected() {
    let error = decode(b"\xEF\xBB\xBFa\n\xFF", None).unwrap_err();
    assert_eq!(error, TextError::InvalidUtf8 { byte: 0xFF, line: 2, offset: 5 });
}

#[test]
fn forced_windows_1252_reads_utf8_bytes_as_1252() {
    let decoded = decode("é".as_bytes(), Some(TextEncoding::Windows1252)).unwrap();
    assert_eq!(decoded.text, "Ã©");
    assert_eq!(decoded.decoding.detection, Detection::Forced);
}

#[test]
fn bom_overrides_forced_encoding() {
    let decoded = decode(b"\xEF\xBB\xBFLogin", Some(TextEncoding::Windows1252)).unwrap();
    assert_eq!(decoded.text, "Login");
    assert_eq!(decoded.decoding.encoding, TextEncoding::Utf8);
}

#[test]
fn stray_marks_removed() {
    let decoded = decode("\u{FEFF}a,b\n\u{FEFF}c,d\u{FEFF}\n".as_bytes(), None).unwrap();
    assert_eq!(decoded.text, "a,b\nc,d\n");
    assert_eq!(decoded.decoding.stray_marks_removed, 2);
}

#[test]
fn empty_input_is_utf8() {
    let decoded = decode(b"", None).unwrap();
    assert_eq!(decoded.text, "");
    assert_eq!(decoded.decoding.detection, Detection::ValidUtf8);
}

#[test]
fn labels_parse() {
    assert_eq!(TextEncoding::from_label("UTF-8"), Some(TextEncoding::Utf8));
    assert_eq!(TextEncoding::from_label("latin1"), Some(TextEncoding::Windows1252));
    assert_eq!(TextEncoding::from_label("cp1252"), Some(TextEncoding::Windows1252));
    assert_eq!(TextEncoding::from_label("utf-16"), Some(TextEncoding::Utf16Le));
    assert_eq!(TextEncoding::from_label("shift_jis"), None);
}

proptest! {
    #[test]
    fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        if let Ok(decoded) = decode(&bytes, None) {
            const BOM: char = '\u{FEFF}';
            const REPLACEMENT: char = '\u{FFFD}';
            prop_assert!(!decoded.text.contains(BOM));
            let encodes_fffd = [[0xEF, 0xBF, 0xBD].as_slice(), &[0xFD, 0xFF], &[0xFF, 0xFD]]
                .iter()
                .any(|needle| bytes.windows(needle.len()).any(|w| w == *needle));
            prop_assert!(encodes_fffd || !decoded.text.contains(REPLACEMENT));
        }
    }

    #[test]
    fn forced_decode_never_panics(
        bytes in proptest::collection::vec(any::<u8>(), 0..256),
        choice in 0usize..4,
    ) {
        let forced = [
            TextEncoding::Utf8,
            TextEncoding::Utf16Le,
            TextEncoding::Utf16Be,
            TextEncoding::Windows1252,
        ];
        let _ = decode(&bytes, forced.get(choice).copied());
    }
}
