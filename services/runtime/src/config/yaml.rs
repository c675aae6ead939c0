//! Reads YAML into the configuration tree, keeping the line of every key so that errors
//! can point at it. Event-based (saphyr-parser) because serde's YAML crates drop positions.

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle as YamlStyle, Span};

use super::node::{Node, NodeKind, ScalarStyle};
use super::origin::Origin;

/// Nesting deeper than this is rejected; no configuration needs it, and the reader
/// recurses once per level.
pub(crate) const MAX_DEPTH: usize = 64;

/// Values created by expanding aliases (`*name`) past this count are rejected, so that a
/// small file cannot expand into a huge tree.
pub(crate) const MAX_ALIAS_VALUES: usize = 10_000;

/// A YAML text that cannot be read as configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct YamlError {
    /// 1-based line, 0 when the parser gave none.
    pub(crate) line: usize,
    /// 1-based column, 0 when the parser gave none.
    pub(crate) column: usize,
    /// The problem, as a lowercase clause.
    pub(crate) reason: String,
}

/// Reads a configuration file's text. An empty file is an empty mapping.
pub(crate) fn parse_document(
    text: &str,
    origin_at: &dyn Fn(usize) -> Origin,
) -> Result<Node, YamlError> {
    let root = Reader::new(text, origin_at).read_document()?;
    match root {
        None => Ok(Node::empty_map(origin_at(1))),
        Some(node) if matches!(node.kind, NodeKind::Map(_) | NodeKind::Null) => Ok(node),
        Some(node) => Err(YamlError {
            line: line_of(&node.origin),
            column: 0,
            reason: format!(
                "the top level is {}, but it must be a mapping of keys",
                node.kind_name()
            ),
        }),
    }
}

/// Reads the value of an environment variable or flag as YAML flow syntax, every value
/// taking the variable's or flag's origin.
pub(crate) fn parse_inline(text: &str, origin: &Origin) -> Result<Node, YamlError> {
    let origin_at = |_line: usize| origin.clone();
    let node = Reader::new(text, &origin_at).read_document()?;
    Ok(node.unwrap_or_else(|| Node::new(NodeKind::Null, origin.clone())))
}

fn line_of(origin: &Origin) -> usize {
    match origin {
        Origin::File { line, .. } => *line,
        _ => 0,
    }
}

struct Reader<'input, 'o> {
    parser: Parser<'input, saphyr_parser::StrInput<'input>>,
    origin_at: &'o dyn Fn(usize) -> Origin,
    anchors: HashMap<usize, Node>,
    alias_values: usize,
}

impl<'input, 'o> Reader<'input, 'o> {
    fn new(text: &'input str, origin_at: &'o dyn Fn(usize) -> Origin) -> Self {
        Reader {
            parser: Parser::new_from_str(text),
            origin_at,
            anchors: HashMap::new(),
            alias_values: 0,
        }
    }

    fn next(&mut self) -> Result<(Event<'input>, Span), YamlError> {
        match self.parser.next_event() {
            Some(Ok(event)) => Ok(event),
            Some(Err(error)) => Err(YamlError {
                line: error.marker().line(),
                column: error.marker().col() + 1,
                reason: error.info().to_owned(),
            }),
            None => Err(YamlError { line: 0, column: 0, reason: "the text ends early".to_owned() }),
        }
    }

    /// Reads the stream's only document; `None` when the stream has no document.
    fn read_document(mut self) -> Result<Option<Node>, YamlError> {
        let (event, _) = self.next()?;
        if event != Event::StreamStart {
            return Err(unexpected(&event, 0));
        }
        let (event, span) = self.next()?;
        match event {
            Event::StreamEnd => return Ok(None),
            Event::DocumentStart(_) => {}
            other => return Err(unexpected(&other, span.start.line())),
        }
        let (event, span) = self.next()?;
        let root = self.read_node(event, span, 0)?;
        let (event, span) = self.next()?;
        if event != Event::DocumentEnd {
            return Err(unexpected(&event, span.start.line()));
        }
        let (event, span) = self.next()?;
        if event != Event::StreamEnd {
            return Err(YamlError {
                line: span.start.line(),
                column: 0,
                reason: "the text has more than one YAML document; keep one and remove the `---` lines after it".to_owned(),
            });
        }
        Ok(Some(root))
    }

    fn read_node(
        &mut self,
        event: Event<'input>,
        span: Span,
        depth: usize,
    ) -> Result<Node, YamlError> {
        let line = span.start.line();
        if depth > MAX_DEPTH {
            return Err(YamlError {
                line,
                column: 0,
                reason: format!("values are nested more than {MAX_DEPTH} deep"),
            });
        }
        let origin = (self.origin_at)(line);
        let (node, anchor) = match event {
            Event::Scalar(text, style, anchor, tag) => {
                let forced_text = tag
                    .as_ref()
                    .is_some_and(|tag| tag.is_yaml_core_schema() && tag.suffix == "str");
                let kind = if style == YamlStyle::Plain && !forced_text {
                    if is_null(&text) {
                        NodeKind::Null
                    } else {
                        NodeKind::Scalar { text: text.into_owned(), style: ScalarStyle::Plain }
                    }
                } else {
                    NodeKind::Scalar { text: text.into_owned(), style: ScalarStyle::Quoted }
                };
                (Node::new(kind, origin), anchor)
            }
            Event::SequenceStart(anchor, _) => {
                let mut items = Vec::new();
                loop {
                    let (event, span) = self.next()?;
                    if event == Event::SequenceEnd {
                        break;
                    }
                    items.push(self.read_node(event, span, depth + 1)?);
                }
                (Node::new(NodeKind::Seq(items), origin), anchor)
            }
            Event::MappingStart(anchor, _) => (self.read_mapping(origin, depth)?, anchor),
            Event::Alias(id) => return self.expand_alias(id, line),
            other => return Err(unexpected(&other, line)),
        };
        if anchor > 0 {
            self.anchors.insert(anchor, node.clone());
        }
        Ok(node)
    }

    fn read_mapping(&mut self, origin: Origin, depth: usize) -> Result<Node, YamlError> {
        let mut entries: Vec<(String, Node)> = Vec::new();
        loop {
            let (event, span) = self.next()?;
            let line = span.start.line();
            let key = match event {
                Event::MappingEnd => break,
                Event::Scalar(text, ..) => text.into_owned(),
                Event::Alias(id) => match self.expand_alias(id, line)?.kind {
                    NodeKind::Scalar { text, .. } => text,
                    _ => return Err(non_text_key(line)),
                },
                _ => return Err(non_text_key(line)),
            };
            if entries.iter().any(|(existing, _)| *existing == key) {
                return Err(YamlError {
                    line,
                    column: span.start.col() + 1,
                    reason: format!("key `{key}` appears twice in the same mapping; keep one"),
                });
            }
            let (event, span) = self.next()?;
            let mut value = self.read_node(event, span, depth + 1)?;
            // Errors about a key point at the key's line, which a nested mapping's own
            // position (its first key) would not.
            value.origin = (self.origin_at)(line);
            entries.push((key, value));
        }
        Ok(Node::new(NodeKind::Map(entries), origin))
    }

    fn expand_alias(&mut self, id: usize, line: usize) -> Result<Node, YamlError> {
        let Some(node) = self.anchors.get(&id) else {
            return Err(YamlError {
                line,
                column: 0,
                reason: "an alias refers to no anchor".to_owned(),
            });
        };
        self.alias_values += count_values(node);
        if self.alias_values > MAX_ALIAS_VALUES {
            return Err(YamlError {
                line,
                column: 0,
                reason: format!(
                    "aliases (`*name`) expand to more than {MAX_ALIAS_VALUES} values; write the repeated parts out"
                ),
            });
        }
        Ok(node.clone())
    }
}

/// Tells whether a plain scalar is null in the YAML 1.2 core schema.
fn is_null(text: &str) -> bool {
    matches!(text, "" | "~" | "null" | "Null" | "NULL")
}

fn count_values(node: &Node) -> usize {
    match &node.kind {
        NodeKind::Map(entries) => {
            1 + entries.iter().map(|(_, value)| count_values(value)).sum::<usize>()
        }
        NodeKind::Seq(items) => 1 + items.iter().map(count_values).sum::<usize>(),
        NodeKind::Null | NodeKind::Scalar { .. } => 1,
    }
}

fn non_text_key(line: usize) -> YamlError {
    YamlError {
        line,
        column: 0,
        reason: "a key is a list or mapping; keys must be text".to_owned(),
    }
}

/// Reports parser output that a well-formed stream never has at that place. The event is
/// not printed because a scalar event contains the value, which may be a secret.
fn unexpected(_event: &Event<'_>, line: usize) -> YamlError {
    YamlError {
        line,
        column: 0,
        reason: "the YAML structure is malformed at this point".to_owned(),
    }
}
