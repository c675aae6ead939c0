//! Tests of the YAML reader's positions and limits, which the public API shows only
//! through error messages.

use super::node::{Node, NodeKind, ScalarStyle};
use super::origin::Origin;
use super::yaml::{MAX_DEPTH, parse_document, parse_inline};

fn file_origin(line: usize) -> Origin {
    Origin::File { path: "service.yaml".into(), line }
}

fn entry<'a>(node: &'a Node, key: &str) -> &'a Node {
    let NodeKind::Map(entries) = &node.kind else { panic!("not a mapping: {node:?}") };
    &entries.iter().find(|(name, _)| name == key).unwrap_or_else(|| panic!("no key {key}")).1
}

#[test]
fn yaml_keys_keep_their_lines() {
    let text = "# comment\nops:\n  listen: 127.0.0.1:9090\n\nlog:\n  level: debug\n";
    let root = parse_document(text, &file_origin).unwrap();
    assert_eq!(entry(&root, "ops").origin, file_origin(2));
    assert_eq!(entry(entry(&root, "ops"), "listen").origin, file_origin(3));
    assert_eq!(entry(entry(&root, "log"), "level").origin, file_origin(6));
}

#[test]
fn yaml_quoted_scalars_stay_text() {
    let root = parse_document("a: '8080'\nb: 8080\nc: ~\n", &file_origin).unwrap();
    assert!(matches!(entry(&root, "a").kind, NodeKind::Scalar { style: ScalarStyle::Quoted, .. }));
    assert!(matches!(entry(&root, "b").kind, NodeKind::Scalar { style: ScalarStyle::Plain, .. }));
    assert!(matches!(entry(&root, "c").kind, NodeKind::Null));
}

#[test]
fn yaml_empty_file_is_empty_mapping() {
    let root = parse_document("", &file_origin).unwrap();
    assert!(matches!(root.kind, NodeKind::Map(ref entries) if entries.is_empty()));
}

#[test]
fn yaml_duplicate_key_names_line() {
    let error = parse_document("a: 1\nb: 2\na: 3\n", &file_origin).unwrap_err();
    assert_eq!(error.line, 3);
    assert!(error.reason.contains("`a` appears twice"), "{}", error.reason);
}

#[test]
fn yaml_top_level_list_rejected() {
    let error = parse_document("- a\n- b\n", &file_origin).unwrap_err();
    assert!(error.reason.contains("must be a mapping"), "{}", error.reason);
}

#[test]
fn yaml_second_document_rejected() {
    let error = parse_document("a: 1\n---\nb: 2\n", &file_origin).unwrap_err();
    assert!(error.reason.contains("more than one YAML document"), "{}", error.reason);
}

#[test]
fn yaml_syntax_error_has_position() {
    let error = parse_document("a: [1, 2\nb: 3\n", &file_origin).unwrap_err();
    assert!(error.line >= 1, "{error:?}");
}

#[test]
fn yaml_aliases_expand() {
    let root = parse_document("base: &b {x: 1}\ncopy: *b\n", &file_origin).unwrap();
    let copy = entry(&root, "copy");
    assert!(matches!(entry(copy, "x").kind, NodeKind::Scalar { ref text, .. } if text == "1"));
}

#[test]
fn yaml_alias_bomb_rejected() {
    let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for level in 1..8 {
        let previous = level - 1;
        let items = vec![format!("*a{previous}"); 10].join(", ");
        text.push_str(&format!("a{level}: &a{level} [{items}]\n"));
    }
    let error = parse_document(&text, &file_origin).unwrap_err();
    assert!(error.reason.contains("aliases"), "{}", error.reason);
}

#[test]
fn yaml_deep_nesting_rejected() {
    let depth = MAX_DEPTH + 5;
    let text = format!("a: {}{}\n", "[".repeat(depth), "]".repeat(depth));
    let error = parse_document(&text, &file_origin).unwrap_err();
    assert!(error.reason.contains("nested more than"), "{}", error.reason);
}

#[test]
fn inline_flow_list_takes_origin() {
    let origin = Origin::Env { var: "ROLLCALL_HOSTS".into() };
    let node = parse_inline("[a, b]", &origin).unwrap();
    let NodeKind::Seq(items) = node.kind else { panic!("not a list") };
    assert_eq!(items.len(), 2);
    assert!(items.iter().all(|item| item.origin == origin));
}
