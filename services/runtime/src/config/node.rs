//! The configuration tree that every layer is read into before the layers are merged and
//! the service's type is deserialized from the result.

use super::origin::Origin;

/// One value of the merged configuration and the place that set it.
#[derive(Debug, Clone)]
pub(crate) struct Node {
    pub(crate) kind: NodeKind,
    pub(crate) origin: Origin,
    /// Set on environment variables that Kubernetes may have injected for a Service (see
    /// `env::is_service_link`). Such a key is dropped instead of rejected when the
    /// configuration has no field of that name.
    pub(crate) ignorable: bool,
}

/// The shape of a configuration value.
#[derive(Debug, Clone)]
pub(crate) enum NodeKind {
    /// A YAML null: `~`, `null` or nothing after the colon.
    Null,
    /// A scalar, kept as written so that the field's type decides how to read it.
    Scalar { text: String, style: ScalarStyle },
    /// A mapping, in the order its keys were written.
    Map(Vec<(String, Node)>),
    /// A sequence.
    Seq(Vec<Node>),
}

/// How a scalar was written, which decides what a field of any type reads from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ScalarStyle {
    /// Unquoted YAML: `8080` reads as a number and `true` as a boolean.
    Plain,
    /// Quoted or block YAML: always text.
    Quoted,
    /// The value of an environment variable or flag: typed like `Plain`, and read as YAML
    /// flow syntax (`[a, b]`, `{k: v}`) when the field is a list or a mapping.
    Text,
}

impl Node {
    /// Creates a node from a value and its origin.
    pub(crate) fn new(kind: NodeKind, origin: Origin) -> Node {
        Node { kind, origin, ignorable: false }
    }

    /// Creates an empty mapping, the root of every layer.
    pub(crate) fn empty_map(origin: Origin) -> Node {
        Node::new(NodeKind::Map(Vec::new()), origin)
    }

    /// Describes the kind of value for messages, without its text, which may be a secret.
    pub(crate) fn kind_name(&self) -> &'static str {
        match &self.kind {
            NodeKind::Null => "an empty value",
            NodeKind::Scalar { .. } => "a single value",
            NodeKind::Map(_) => "a mapping",
            NodeKind::Seq(_) => "a list",
        }
    }
}

/// The policy for inserting a path where the layer already has a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OnDuplicate {
    /// Keep the later value (repeated `--set` flags).
    Replace,
    /// Return the earlier value's origin (two environment variables for one key).
    Reject,
}

/// Inserts `value` at `path` under `root`, creating the mappings on the way.
///
/// Returns the origin of the value in the way when a step of the path is already a
/// non-mapping value, or when the key is already set and `on_duplicate` is `Reject`.
pub(crate) fn insert_path(
    root: &mut Node,
    path: &[String],
    value: Node,
    on_duplicate: OnDuplicate,
) -> Result<(), Origin> {
    let Some((first, rest)) = path.split_first() else {
        return Ok(());
    };
    let NodeKind::Map(entries) = &mut root.kind else {
        return Err(root.origin.clone());
    };
    let existing = entries.iter_mut().find(|(key, _)| key == first);
    if rest.is_empty() {
        match existing {
            Some((_, node)) if on_duplicate == OnDuplicate::Reject => Err(node.origin.clone()),
            Some((_, node)) => {
                *node = value;
                Ok(())
            }
            None => {
                entries.push((first.clone(), value));
                Ok(())
            }
        }
    } else {
        match existing {
            Some((_, node)) => insert_path(node, rest, value, on_duplicate),
            None => {
                let mut child = Node::empty_map(value.origin.clone());
                insert_path(&mut child, rest, value, on_duplicate)?;
                entries.push((first.clone(), child));
                Ok(())
            }
        }
    }
}

/// Merges `overlay` onto `base`: mappings merge key by key, and any other value in
/// `overlay` replaces what `base` had at that key.
pub(crate) fn merge(base: Node, overlay: Node) -> Node {
    match (base.kind, overlay.kind) {
        (NodeKind::Map(mut base_entries), NodeKind::Map(overlay_entries)) => {
            for (key, over) in overlay_entries {
                let position = base_entries.iter().position(|(existing, _)| *existing == key);
                match position.and_then(|index| base_entries.get_mut(index)) {
                    Some((_, slot)) => {
                        let placeholder = Node::new(NodeKind::Null, Origin::Defaults);
                        let earlier = std::mem::replace(slot, placeholder);
                        *slot = merge(earlier, over);
                    }
                    None => base_entries.push((key, over)),
                }
            }
            Node { kind: NodeKind::Map(base_entries), origin: base.origin, ignorable: false }
        }
        (_, kind) => Node { kind, origin: overlay.origin, ignorable: overlay.ignorable },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(value: &str, origin: Origin) -> Node {
        Node::new(NodeKind::Scalar { text: value.to_owned(), style: ScalarStyle::Text }, origin)
    }

    fn env(var: &str) -> Origin {
        Origin::Env { var: var.to_owned() }
    }

    fn path(keys: &[&str]) -> Vec<String> {
        keys.iter().map(|key| (*key).to_owned()).collect()
    }

    fn scalar_at<'a>(node: &'a Node, keys: &[&str]) -> Option<&'a str> {
        let mut current = node;
        for key in keys {
            let NodeKind::Map(entries) = &current.kind else { return None };
            current = &entries.iter().find(|(name, _)| name == key)?.1;
        }
        match &current.kind {
            NodeKind::Scalar { text, .. } => Some(text),
            _ => None,
        }
    }

    #[test]
    fn insert_creates_sections() {
        let mut root = Node::empty_map(Origin::Defaults);
        let value = text("9090", env("ROLLCALL_OPS__PORT"));
        insert_path(&mut root, &path(&["ops", "port"]), value, OnDuplicate::Reject).unwrap();
        assert_eq!(scalar_at(&root, &["ops", "port"]), Some("9090"));
    }

    #[test]
    fn insert_rejects_duplicate_when_asked() {
        let mut root = Node::empty_map(Origin::Defaults);
        let keys = path(&["ops", "port"]);
        insert_path(&mut root, &keys, text("1", env("A")), OnDuplicate::Reject).unwrap();
        let clash = insert_path(&mut root, &keys, text("2", env("B")), OnDuplicate::Reject);
        assert_eq!(clash, Err(env("A")));
    }

    #[test]
    fn insert_replaces_duplicate_when_asked() {
        let mut root = Node::empty_map(Origin::Defaults);
        let keys = path(&["level"]);
        insert_path(&mut root, &keys, text("1", env("A")), OnDuplicate::Replace).unwrap();
        insert_path(&mut root, &keys, text("2", env("B")), OnDuplicate::Replace).unwrap();
        assert_eq!(scalar_at(&root, &["level"]), Some("2"));
    }

    #[test]
    fn insert_below_a_scalar_returns_its_origin() {
        let mut root = Node::empty_map(Origin::Defaults);
        insert_path(&mut root, &path(&["ops"]), text("x", env("A")), OnDuplicate::Reject).unwrap();
        let clash = insert_path(
            &mut root,
            &path(&["ops", "port"]),
            text("1", env("B")),
            OnDuplicate::Reject,
        );
        assert_eq!(clash, Err(env("A")));
    }

    #[test]
    fn merge_keeps_base_keys_and_overrides_leaves() {
        let mut base = Node::empty_map(Origin::Defaults);
        insert_path(&mut base, &path(&["ops", "port"]), text("1", env("A")), OnDuplicate::Reject)
            .unwrap();
        insert_path(&mut base, &path(&["ops", "host"]), text("h", env("A")), OnDuplicate::Reject)
            .unwrap();
        let mut overlay = Node::empty_map(Origin::Defaults);
        insert_path(
            &mut overlay,
            &path(&["ops", "port"]),
            text("2", env("B")),
            OnDuplicate::Reject,
        )
        .unwrap();

        let merged = merge(base, overlay);

        assert_eq!(scalar_at(&merged, &["ops", "port"]), Some("2"));
        assert_eq!(scalar_at(&merged, &["ops", "host"]), Some("h"));
    }
}
