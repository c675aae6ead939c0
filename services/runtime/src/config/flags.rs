//! The flag layer: each `--set key.path=value` sets one key, and a later flag for the same
//! key replaces an earlier one.

use super::error::ConfigError;
use super::node::{Node, NodeKind, OnDuplicate, ScalarStyle, insert_path};
use super::origin::Origin;

/// Reads `--set` assignments (`KEY.PATH=VALUE`, without the flag itself) into one tree.
pub(crate) fn read_flag_layer(assignments: &[String]) -> Result<Node, ConfigError> {
    let mut root = Node::empty_map(Origin::Defaults);
    for assignment in assignments {
        let Some((key, value)) = assignment.split_once('=') else {
            return Err(ConfigError::Flag {
                key: assignment.clone(),
                reason: "it has no `=`; write `--set KEY.PATH=VALUE`".to_owned(),
            });
        };
        let path: Vec<String> = key.split('.').map(str::to_owned).collect();
        let invalid = path.iter().find(|part| {
            part.is_empty()
                || !part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        });
        if let Some(part) = invalid {
            return Err(ConfigError::Flag {
                key: key.to_owned(),
                reason: format!(
                    "`{part}` is not a key name; write keys of letters, digits, `_` and `-`, separated by `.`"
                ),
            });
        }
        let origin = Origin::Flag { key: key.to_owned() };
        let node = Node::new(
            NodeKind::Scalar { text: value.to_owned(), style: ScalarStyle::Text },
            origin,
        );
        if let Err(earlier) = insert_path(&mut root, &path, node, OnDuplicate::Replace) {
            return Err(ConfigError::Flag {
                key: key.to_owned(),
                reason: format!(
                    "{earlier} already sets a single value where this key needs a section"
                ),
            });
        }
    }
    Ok(root)
}
