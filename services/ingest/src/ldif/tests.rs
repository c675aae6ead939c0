//! Tests of the LDIF reader on hand-written files and the public samples.

use std::path::{Path, PathBuf};

use proptest::prelude::*;

use super::{LdifError, LdifFile, parse};
use crate::diagnostic::{Diagnostic, Level, Location};

fn read(text: &str) -> LdifFile {
    parse(Path::new("test.ldif"), text.as_bytes()).unwrap_or_else(|error| panic!("{error}"))
}

fn public(name: &str) -> Vec<u8> {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/public-payloads").join(name);
    std::fs::read(&path).unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()))
}

fn warning_lines(file: &LdifFile) -> Vec<u64> {
    file.diagnostics
        .iter()
        .filter(|d| d.level == Level::Warning)
        .map(|d| match d.location {
            Location::Line(line) => line,
            _ => 0,
        })
        .collect()
}

#[test]
fn content_records_with_every_value_form() {
    let file = read(concat!(
        "version: 1\n",
        "\n",
        "# first entry\n",
        "dn: cn=Ana Reyes,ou=Staff,dc=example\n",
        "objectClass: inetOrgPerson\n",
        "cn:   Ana Reyes\n",
        "description: a long line that is fol\n",
        " ded once\n",
        "displayName:: Sm9zw6k=\n",
        "description;lang-en:\n",
        "\n",
        "dn:: Y249TsO6w7FleixkYz1leGFtcGxl\n",
        "member;range=0-2: cn=a,dc=example\n",
    ));
    assert_eq!(file.diagnostics, Vec::new());
    assert_eq!(file.entries.len(), 2);
    let first = &file.entries[0];
    assert_eq!(first.line, 4);
    assert_eq!(first.entry.dn, "cn=Ana Reyes,ou=Staff,dc=example");
    assert_eq!(first.entry.values("cn"), [b"Ana Reyes".to_vec()]);
    assert_eq!(first.entry.values("description"), [b"a long line that is folded once".to_vec()]);
    assert_eq!(first.entry.values("displayname"), ["José".as_bytes().to_vec()]);
    assert_eq!(first.entry.values("description;lang-en"), [Vec::<u8>::new()]);
    let second = &file.entries[1];
    assert_eq!(second.line, 12);
    assert_eq!(second.entry.dn, "cn=Núñez,dc=example");
    assert_eq!(second.entry.values("member;range=0-2"), [b"cn=a,dc=example".to_vec()]);
}

#[test]
fn crlf_and_bom_accepted() {
    let file =
        read("\u{feff}dn: cn=a,dc=example\r\ncn: a\r\n b\r\n\r\ndn: cn=c,dc=example\r\ncn: c\r\n");
    assert_eq!(file.diagnostics, Vec::new());
    assert_eq!(file.entries.len(), 2);
    assert_eq!(file.entries[0].entry.values("cn"), [b"ab".to_vec()]);
    assert_eq!(file.entries[1].line, 5);
}

#[test]
fn folded_comment_stays_comment() {
    let file = read("dn: cn=a,dc=example\n# a comment that\n continues: here\ncn: a\n");
    assert_eq!(file.diagnostics, Vec::new());
    assert_eq!(file.entries[0].entry.attributes, vec![("cn".to_owned(), vec![b"a".to_vec()])]);
}

#[test]
fn values_stay_bytes() {
    let file = read("dn: cn=a,dc=example\nobjectGUID:: /wABAgMEBQYHCAkKCwwNDg==\n");
    let guid = file.entries[0].entry.values("objectGUID");
    assert_eq!(guid, [vec![0xff, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]]);
}

#[test]
fn descriptions_case_insensitive() {
    let file = read("dn: cn=g,dc=example\nobjectclass: Group\nobjectClass: top\n");
    assert_eq!(file.entries[0].entry.values("OBJECTCLASS"), [b"Group".to_vec(), b"top".to_vec()]);
}

#[test]
fn change_record_rejected_with_line() {
    let error =
        parse(Path::new("x.ldif"), b"dn: cn=a,dc=example\nchangetype: modify\nadd: cn\ncn: a\n")
            .unwrap_err();
    assert_eq!(error, LdifError::ChangeRecord { line: 2, changetype: "modify".into() });
    assert_eq!(
        error.to_string(),
        "line 2: `changetype: modify` marks an LDIF change record, which edits entries instead of listing them; export the directory with ldapsearch, or with ldifde (whose records are `changetype: add`), and pass that file"
    );
}

#[test]
fn ldifde_add_records_read_as_content() {
    // ldifde -f export.ldf writes each entry with `changetype: add` after its DN.
    let file = read(
        "dn: CN=Ana Reyes,OU=Staff,DC=example\r\nchangetype: add\r\nobjectClass: user\r\nsAMAccountName: areyes\r\n\r\n",
    );
    assert!(file.diagnostics.is_empty(), "{:?}", file.diagnostics);
    assert_eq!(file.entries.len(), 1);
    assert_eq!(file.entries[0].entry.values("sAMAccountName"), [b"areyes".to_vec()]);
    assert!(file.entries[0].entry.values("changetype").is_empty());
}

#[test]
fn public_config_changes_rejected() {
    let memberof =
        parse(Path::new("memberof.ldif"), &public("ldap-planetexpress-config-memberof.ldif"));
    assert_eq!(memberof, Err(LdifError::ChangeRecord { line: 3, changetype: "modify".into() }));
    let msad = parse(Path::new("msad.ldif"), &public("ldap-planetexpress-config-msad.ldif"));
    assert_eq!(msad, Err(LdifError::ChangeRecord { line: 5, changetype: "modify".into() }));
}

#[test]
fn control_line_rejected() {
    let error =
        parse(Path::new("x.ldif"), b"dn: cn=a,dc=example\ncontrol: 1.2.840.113556.1.4.805 true\n")
            .unwrap_err();
    assert_eq!(error, LdifError::Control { line: 2 });
}

#[test]
fn url_value_rejected() {
    let text = b"dn: cn=a,dc=example\njpegPhoto:< file:///tmp/ldapsearch-jpegPhoto-x1\n";
    let error = parse(Path::new("x.ldif"), text).unwrap_err();
    assert_eq!(
        error,
        LdifError::UrlValue {
            line: 2,
            attribute: "jpegPhoto".into(),
            url: "file:///tmp/ldapsearch-jpegPhoto-x1".into()
        }
    );
    assert!(error.to_string().contains("without `ldapsearch -t`"));
    assert!(matches!(
        parse(Path::new("x.ldif"), b"dn:< file:///dn\n"),
        Err(LdifError::UrlValue { line: 1, .. })
    ));
}

#[test]
fn broken_base64_value_skipped() {
    let file = read("dn: cn=a,dc=example\ncn: a\nobjectSid:: not*base64\nsn: b\n");
    assert_eq!(warning_lines(&file), [3]);
    assert!(
        file.diagnostics[0]
            .message
            .starts_with("the base64 value of `objectSid` (`not*base64`) is invalid")
    );
    assert_eq!(file.entries[0].entry.values("sn"), [b"b".to_vec()]);
    assert!(file.entries[0].entry.values("objectSid").is_empty());
}

#[test]
fn broken_base64_dn_skips_entry() {
    let file = read("dn:: %%%\ncn: a\nsn:: %%%\n\ndn: cn=b,dc=example\n");
    assert_eq!(warning_lines(&file), [1]);
    assert_eq!(file.entries.len(), 1);
    assert_eq!(file.entries[0].entry.dn, "cn=b,dc=example");
}

#[test]
fn non_utf8_dn_skips_entry() {
    let file = read("dn:: /w==\ncn: a\n");
    assert_eq!(file.entries.len(), 0);
    assert!(file.diagnostics[0].message.contains("the DN is not valid UTF-8"));
}

#[test]
fn continuation_at_file_start_warns() {
    let file = read(" stray\ndn: cn=a,dc=example\ncn: a\n\n orphan\n");
    assert_eq!(warning_lines(&file), [1, 5]);
    assert_eq!(
        file.diagnostics[0].message,
        "the line starts with a space, which continues the line before it, but there is no line before it in this record, so it was skipped"
    );
    assert_eq!(file.entries.len(), 1);
}

#[test]
fn missing_blank_line_starts_new_entry() {
    let file = read("dn: cn=a,dc=example\ncn: a\ndn: cn=b,dc=example\ncn: b\n");
    assert_eq!(warning_lines(&file), [3]);
    assert_eq!(file.entries.len(), 2);
    assert_eq!(file.entries[1].line, 3);
    assert_eq!(file.entries[1].entry.values("cn"), [b"b".to_vec()]);
}

#[test]
fn record_without_dn_skipped() {
    let file = read("cn: a\nsn: b\n\ndn: cn=c,dc=example\n");
    assert_eq!(warning_lines(&file), [1]);
    assert!(file.diagnostics[0].message.contains("has no `dn:` line, so it was skipped"));
    assert_eq!(file.entries.len(), 1);
}

#[test]
fn lines_before_late_dn_skipped() {
    let file = read("garbage line\ncn: a\ndn: cn=b,dc=example\ncn: b\n");
    assert_eq!(warning_lines(&file), [1]);
    assert_eq!(
        file.diagnostics[0].message,
        "the record starts with `garbage line` instead of `dn:`, so lines 1 to 2 were skipped. Every entry must start with its DN."
    );
    assert_eq!(file.entries.len(), 1);
    assert_eq!(file.entries[0].line, 3);
    assert_eq!(file.entries[0].entry.values("cn"), [b"b".to_vec()]);
}

#[test]
fn line_without_colon_skipped() {
    let file = read("dn: cn=a,dc=example\n-\ncn: a\n");
    assert_eq!(warning_lines(&file), [2]);
    assert_eq!(file.entries[0].entry.values("cn"), [b"a".to_vec()]);
}

#[test]
fn ldapsearch_trailer_success_silent() {
    let file = read(concat!(
        "# extended LDIF\n#\n# LDAPv3\n\n",
        "# a, example\ndn: cn=a,dc=example\ncn: a\n\n",
        "# search result\nsearch: 2\nresult: 0 Success\ncontrol: 1.2.840.113556.1.4.319 false MAQCAQAEAA==\n",
        "pagedresults: cookie=\n\n",
        "# numResponses: 2\n# numEntries: 1\n",
    ));
    assert_eq!(file.diagnostics, Vec::new());
    assert_eq!(file.entries.len(), 1);
}

#[test]
fn ldapsearch_size_limit_warns() {
    let file = read("dn: cn=a,dc=example\ncn: a\n\nsearch: 2\nresult: 4 Size limit exceeded\n");
    assert_eq!(warning_lines(&file), [5]);
    assert!(
        file.diagnostics[0]
            .message
            .starts_with("the search ended with `result: 4 Size limit exceeded`")
    );
}

#[test]
fn search_reference_noted() {
    let file = read(
        "dn: cn=a,dc=example\n\nref: ldap://ForestDnsZones.example/DC=ForestDnsZones,DC=example\n",
    );
    assert_eq!(file.diagnostics.len(), 1);
    assert_eq!(file.diagnostics[0].level, Level::Info);
    assert_eq!(file.diagnostics[0].location, Location::Line(3));
}

#[test]
fn unknown_version_warns() {
    let file = read("version: 2\ndn: cn=a,dc=example\n");
    assert_eq!(warning_lines(&file), [1]);
    assert_eq!(file.entries.len(), 1);
}

#[test]
fn folded_base64_photo_decodes() {
    let file = parse(Path::new("fry.ldif"), &public("ldap-planetexpress-data-10_people_fry.ldif"))
        .unwrap();
    assert_eq!(file.diagnostics, Vec::new());
    let entry = &file.entries[0].entry;
    assert_eq!(entry.dn, "cn=Philip J. Fry,ou=people,dc=planetexpress,dc=com");
    let photo = &entry.values("jpegPhoto")[0];
    assert!(photo.starts_with(&[0xff, 0xd8, 0xff]));
    assert!(photo.len() > 20_000, "{}", photo.len());
    assert!(entry.values("userPassword")[0].starts_with(b"{ssha}"));
}

#[test]
fn padding_on_continuation_line() {
    let file = parse(Path::new("amy.ldif"), &public("ldap-planetexpress-data-10_people_amy.ldif"))
        .unwrap();
    assert_eq!(file.diagnostics, Vec::new());
    let password = &file.entries[0].entry.values("userPassword")[0];
    assert!(password.starts_with(b"{SSHA}"));
}

#[test]
fn ranged_field_case_entry() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/field-cases/ad-member-range/response-1.ldif");
    let file = parse(&path, &std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(file.diagnostics, Vec::<Diagnostic>::new());
    assert_eq!(file.entries.len(), 1);
    assert_eq!(file.entries[0].line, 19);
    assert_eq!(file.entries[0].entry.values("member;range=0-2").len(), 3);
}

#[test]
fn empty_input_has_no_entries() {
    assert_eq!(read(""), LdifFile::default());
    assert_eq!(read("\n\n# only a comment\n"), LdifFile::default());
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = parse(Path::new("fuzz.ldif"), &bytes);
    }

    #[test]
    fn ldif_like_lines_never_panic(lines in prop::collection::vec(
        prop_oneof![
            Just(String::new()),
            Just("version: 1".to_owned()),
            Just("dn: cn=a,dc=x".to_owned()),
            Just("dn:: Y249YQ==".to_owned()),
            Just("search: 2".to_owned()),
            Just("result: 4 Size limit exceeded".to_owned()),
            Just("ref: ldap://x".to_owned()),
            "[a-zA-Z;=0-9-]{0,12}::? ?[A-Za-z0-9+/=]{0,12}",
            " [ -~]{0,10}",
            "#[ -~]{0,10}",
        ],
        0..24,
    )) {
        let text = lines.join("\n");
        let _ = parse(Path::new("fuzz.ldif"), text.as_bytes());
    }
}

#[test]
fn missing_final_line_break_warns() {
    let file = read("dn: cn=a,dc=example\ncn: a\n\ndn: cn=b,dc=example\ncn: Imogen Thack");
    assert_eq!(warning_lines(&file), [5]);
    assert!(file.diagnostics[0].message.contains("may be cut off"));
    assert_eq!(file.entries.len(), 2);
    let whole = read("dn: cn=a,dc=example\ncn: a\n");
    assert!(whole.diagnostics.is_empty());
}
