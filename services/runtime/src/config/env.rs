//! The environment layer: `ROLLCALL_<SECTION>__<KEY>=value` sets `section.key`.
//!
//! After the prefix, `__` separates the levels of the key path and each level is
//! lowercased, so `ROLLCALL_OPS__LISTEN_ADDR` sets `ops.listen_addr` and
//! `ROLLCALL_NATS__TOKEN_FILE` sets `nats.token_file`.

use std::ffi::OsString;

use super::error::ConfigError;
use super::node::{Node, NodeKind, OnDuplicate, ScalarStyle, insert_path};
use super::origin::Origin;
use super::{CONFIG_ENV_VAR, ENV_PREFIX};

/// Reads every variable that starts with [`ENV_PREFIX`] into one tree.
///
/// [`CONFIG_ENV_VAR`] is skipped because it names the file rather than a key. Variables
/// are applied in name order so that the result does not depend on the environment's order.
pub(crate) fn read_env_layer(vars: &[(OsString, OsString)]) -> Result<Node, ConfigError> {
    let mut named: Vec<(String, &OsString)> = vars
        .iter()
        .filter_map(|(name, value)| {
            let name = name.to_str()?;
            let is_key = name.starts_with(ENV_PREFIX) && name != CONFIG_ENV_VAR;
            is_key.then(|| (name.to_owned(), value))
        })
        .collect();
    named.sort_by(|left, right| left.0.cmp(&right.0));

    let mut root = Node::empty_map(Origin::Defaults);
    for (var, value) in named {
        let path = key_path(&var)?;
        let Some(text) = value.to_str() else {
            return Err(ConfigError::EnvVar {
                var,
                reason: "its value is not valid UTF-8".to_owned(),
            });
        };
        let origin = Origin::Env { var: var.clone() };
        let mut node =
            Node::new(NodeKind::Scalar { text: text.to_owned(), style: ScalarStyle::Text }, origin);
        node.ignorable = is_service_link(&var);
        if let Err(earlier) = insert_path(&mut root, &path, node, OnDuplicate::Reject) {
            return Err(ConfigError::EnvVar {
                var,
                reason: format!("it sets the same key as {earlier}; unset one of them"),
            });
        }
    }
    Ok(root)
}

/// Splits a variable's name into the lowercase key path it sets.
fn key_path(var: &str) -> Result<Vec<String>, ConfigError> {
    let rest = var.strip_prefix(ENV_PREFIX).unwrap_or(var);
    let mut path = Vec::new();
    for part in rest.split("__") {
        let valid = !part.is_empty()
            && !part.starts_with('_')
            && !part.ends_with('_')
            && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            return Err(ConfigError::EnvVar {
                var: var.to_owned(),
                reason: format!(
                    "`{part}` is not a key name; after `{ENV_PREFIX}` write keys of letters, digits and `_`, separated by `__`"
                ),
            });
        }
        path.push(part.to_ascii_lowercase());
    }
    Ok(path)
}

/// Tells whether a variable has the shape of those Kubernetes injects for every Service in
/// the namespace ("Discovering services", Kubernetes docs): `<NAME>_SERVICE_HOST`,
/// `<NAME>_SERVICE_PORT[_<PORT_NAME>]`, `<NAME>_PORT` and
/// `<NAME>_PORT_<number>_<TCP|UDP|SCTP>[_PROTO|_PORT|_ADDR]`.
///
/// A Service named `rollcall-engine` makes every pod see `ROLLCALL_ENGINE_SERVICE_HOST`,
/// which would otherwise be rejected as an unknown key. Such variables never contain `__`,
/// and they are dropped only when the configuration has no key of that name.
pub(crate) fn is_service_link(var: &str) -> bool {
    if var.contains("__") {
        return false;
    }
    if var.ends_with("_SERVICE_HOST") || var.ends_with("_PORT") || var.contains("_SERVICE_PORT") {
        return true;
    }
    let Some((_, after)) = var.rsplit_once("_PORT_") else {
        return false;
    };
    let mut parts = after.split('_');
    let number = parts.next().unwrap_or_default();
    let protocol = parts.next().unwrap_or_default();
    let suffix = parts.next();
    let valid_number = !number.is_empty() && number.chars().all(|c| c.is_ascii_digit());
    let valid_protocol = matches!(protocol, "TCP" | "UDP" | "SCTP");
    let valid_suffix = matches!(suffix, None | Some("PROTO" | "PORT" | "ADDR"));
    valid_number && valid_protocol && valid_suffix && parts.next().is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_link_shapes_are_recognised() {
        for var in [
            "ROLLCALL_ENGINE_SERVICE_HOST",
            "ROLLCALL_ENGINE_SERVICE_PORT",
            "ROLLCALL_ENGINE_SERVICE_PORT_METRICS",
            "ROLLCALL_ENGINE_PORT",
            "ROLLCALL_ENGINE_PORT_9090_TCP",
            "ROLLCALL_ENGINE_PORT_9090_TCP_ADDR",
        ] {
            assert!(is_service_link(var), "{var}");
        }
    }

    #[test]
    fn config_keys_are_not_service_links() {
        for var in ["ROLLCALL_OPS__PORT", "ROLLCALL_LOG__LEVEL", "ROLLCALL_ENGINE_PORT_X_TCP"] {
            assert!(!is_service_link(var), "{var}");
        }
    }

    #[test]
    fn key_path_lowercases_and_splits() {
        let path = key_path("ROLLCALL_NATS__TOKEN_FILE").unwrap();
        assert_eq!(path, vec!["nats".to_owned(), "token_file".to_owned()]);
    }

    #[test]
    fn key_path_rejects_empty_level() {
        let error = key_path("ROLLCALL_OPS____PORT").unwrap_err();
        assert!(
            matches!(error, ConfigError::EnvVar { ref var, .. } if var == "ROLLCALL_OPS____PORT")
        );
    }
}
