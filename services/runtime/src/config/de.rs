//! A serde deserializer over the merged configuration tree.
//!
//! It rejects unknown keys itself, from the field list that serde's derive passes to
//! `deserialize_struct`, because only here is the key's origin still known. The same list
//! separates `<key>_file` (a secret read from a file) from an unknown key.

use std::cell::RefCell;

use serde::de::value::StringDeserializer;
use serde::de::{Deserializer, IntoDeserializer, Visitor};

use super::ConfigWarning;
use super::access::{EnumAccessor, MapAccessor, SeqAccessor, StructAccessor, plan_struct};
use super::error::{ConfigError, DeError};
use super::node::{Node, NodeKind, ScalarStyle};
use super::path::KeyPath;
use super::scalar::{parse_bool, parse_float, parse_integer};
use super::yaml::parse_inline;
use crate::secret::SECRET_NEWTYPE;

/// State shared by every deserializer of one load.
#[derive(Default)]
pub(crate) struct Context {
    /// Warnings for the service to log once logging is running.
    pub(crate) warnings: RefCell<Vec<ConfigWarning>>,
}

/// Deserializes one value of the tree.
pub(crate) struct NodeDeserializer<'c> {
    pub(crate) node: Node,
    pub(crate) path: KeyPath,
    pub(crate) context: &'c Context,
}

impl<'c> NodeDeserializer<'c> {
    pub(crate) fn new(node: Node, path: KeyPath, context: &'c Context) -> Self {
        NodeDeserializer { node, path, context }
    }

    fn invalid(&self, reason: String) -> DeError {
        DeError::from(ConfigError::InvalidValue {
            key: self.path.to_string(),
            origin: self.node.origin.clone(),
            reason,
        })
    }

    fn mismatch(&self, expected: &str) -> DeError {
        self.invalid(format!("expected {expected}, found {}", self.node.kind_name()))
    }

    /// Returns the scalar's text, or a type error naming `expected`.
    fn scalar_text(&self, expected: &str) -> Result<&str, DeError> {
        match &self.node.kind {
            NodeKind::Scalar { text, .. } => Ok(text),
            _ => Err(self.mismatch(expected)),
        }
    }

    /// Reads an environment or flag value as YAML flow syntax, for a field that needs a
    /// list or a mapping; other nodes are returned unchanged.
    fn expand_text(self) -> Result<Self, DeError> {
        let NodeKind::Scalar { text, style: ScalarStyle::Text } = &self.node.kind else {
            return Ok(self);
        };
        match parse_inline(text, &self.node.origin) {
            Ok(node) => Ok(NodeDeserializer { node, ..self }),
            Err(error) => Err(self.invalid(format!(
                "{}; write a list as `[a, b]` and a mapping as `{{key: value}}`",
                error.reason
            ))),
        }
    }

    fn deserialize_secret<'de, V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let hint = format!("set `{}_file` to the path of a file that contains it", self.path);
        match &self.node.kind {
            NodeKind::Scalar { text, .. } if text.is_empty() => {
                return Err(self.invalid(format!("the secret is empty; {hint}")));
            }
            NodeKind::Scalar { .. } => {}
            _ => return Err(self.mismatch(&format!("a secret; {hint}"))),
        }
        let NodeKind::Scalar { text, .. } = self.node.kind else {
            return Err(self.mismatch(&format!("a secret; {hint}")));
        };
        self.context.warnings.borrow_mut().push(ConfigWarning::InlineSecret {
            key: self.path.to_string(),
            origin: self.node.origin.clone(),
        });
        visitor.visit_string::<DeError>(text)
    }
}

/// Hands a scalar to a visitor of any type, as the YAML core schema types it.
fn visit_resolved<'de, V: Visitor<'de>>(text: String, visitor: V) -> Result<V::Value, DeError> {
    if let Some(value) = parse_bool(&text) {
        return visitor.visit_bool::<DeError>(value);
    }
    if let Some(value) = parse_integer(&text) {
        if let Ok(value) = i64::try_from(value) {
            return visitor.visit_i64(value);
        }
        if let Ok(value) = u64::try_from(value) {
            return visitor.visit_u64(value);
        }
    }
    if let Some(value) = parse_float(&text) {
        return visitor.visit_f64::<DeError>(value);
    }
    visitor.visit_string::<DeError>(text)
}

macro_rules! deserialize_integer {
    ($method:ident, $type:ty, $visit:ident) => {
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
            let text = self.scalar_text("an integer")?;
            let Some(value) = parse_integer(text).and_then(|value| <$type>::try_from(value).ok())
            else {
                return Err(self.invalid(format!(
                    "expected an integer from {} to {}, found `{text}`",
                    <$type>::MIN,
                    <$type>::MAX
                )));
            };
            let (path, origin) = (self.path, self.node.origin);
            visitor.$visit::<DeError>(value).map_err(|error| error.locate(&path, &origin))
        }
    };
}

macro_rules! deserialize_float {
    ($method:ident, $visit:ident) => {
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
            let text = self.scalar_text("a number")?;
            let Some(value) = parse_float(text) else {
                return Err(self.invalid(format!("expected a number, found `{text}`")));
            };
            let (path, origin) = (self.path, self.node.origin);
            visitor.$visit::<DeError>(value).map_err(|error| error.locate(&path, &origin))
        }
    };
}

impl<'de> Deserializer<'de> for NodeDeserializer<'_> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let (path, origin) = (self.path.clone(), self.node.origin.clone());
        let result = match self.node.kind {
            NodeKind::Null => visitor.visit_unit::<DeError>(),
            NodeKind::Scalar { text, style: ScalarStyle::Quoted } => {
                visitor.visit_string::<DeError>(text)
            }
            NodeKind::Scalar { text, .. } => visit_resolved(text, visitor),
            NodeKind::Map(entries) => {
                visitor.visit_map(MapAccessor::new(entries, self.path, self.context))
            }
            NodeKind::Seq(items) => {
                visitor.visit_seq(SeqAccessor::new(items, self.path, self.context))
            }
        };
        result.map_err(|error| error.locate(&path, &origin))
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let text = self.scalar_text("`true` or `false`")?;
        let Some(value) = parse_bool(text) else {
            return Err(self.invalid(format!("expected `true` or `false`, found `{text}`")));
        };
        let (path, origin) = (self.path, self.node.origin);
        visitor.visit_bool::<DeError>(value).map_err(|error| error.locate(&path, &origin))
    }

    deserialize_integer!(deserialize_i8, i8, visit_i8);
    deserialize_integer!(deserialize_i16, i16, visit_i16);
    deserialize_integer!(deserialize_i32, i32, visit_i32);
    deserialize_integer!(deserialize_i64, i64, visit_i64);
    deserialize_integer!(deserialize_i128, i128, visit_i128);
    deserialize_integer!(deserialize_u8, u8, visit_u8);
    deserialize_integer!(deserialize_u16, u16, visit_u16);
    deserialize_integer!(deserialize_u32, u32, visit_u32);
    deserialize_integer!(deserialize_u64, u64, visit_u64);
    deserialize_integer!(deserialize_u128, u128, visit_u128);
    deserialize_float!(deserialize_f32, visit_f64);
    deserialize_float!(deserialize_f64, visit_f64);

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_string(visitor)
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_string(visitor)
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let (path, origin) = (self.path.clone(), self.node.origin.clone());
        let NodeKind::Scalar { text, .. } = self.node.kind else {
            return Err(self.mismatch("text"));
        };
        visitor.visit_string::<DeError>(text).map_err(|error| error.locate(&path, &origin))
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_byte_buf(visitor)
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let (path, origin) = (self.path.clone(), self.node.origin.clone());
        let NodeKind::Scalar { text, .. } = self.node.kind else {
            return Err(self.mismatch("text"));
        };
        visitor
            .visit_byte_buf::<DeError>(text.into_bytes())
            .map_err(|error| error.locate(&path, &origin))
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let (path, origin) = (self.path.clone(), self.node.origin.clone());
        // An empty environment variable or `--set key=` unsets an optional key.
        let absent = match &self.node.kind {
            NodeKind::Null => true,
            NodeKind::Scalar { text, style: ScalarStyle::Text } => text.is_empty(),
            _ => false,
        };
        let result =
            if absent { visitor.visit_none::<DeError>() } else { visitor.visit_some(self) };
        result.map_err(|error| error.locate(&path, &origin))
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.node.kind {
            NodeKind::Null => visitor.visit_unit::<DeError>(),
            _ => Err(self.mismatch("an empty value")),
        }
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let (path, origin) = (self.path.clone(), self.node.origin.clone());
        let result = if name == SECRET_NEWTYPE {
            self.deserialize_secret(visitor)
        } else {
            visitor.visit_newtype_struct(self)
        };
        result.map_err(|error| error.locate(&path, &origin))
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let this = self.expand_text()?;
        let (path, origin) = (this.path.clone(), this.node.origin.clone());
        let result = match this.node.kind {
            NodeKind::Seq(items) => {
                visitor.visit_seq(SeqAccessor::new(items, this.path, this.context))
            }
            NodeKind::Null => {
                visitor.visit_seq(SeqAccessor::new(Vec::new(), this.path, this.context))
            }
            _ => return Err(this.mismatch("a list, written `[a, b]` in a variable or flag")),
        };
        result.map_err(|error| error.locate(&path, &origin))
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let this = self.expand_text()?;
        let (path, origin) = (this.path.clone(), this.node.origin.clone());
        let entries = match this.node.kind {
            NodeKind::Map(entries) => entries,
            NodeKind::Null => Vec::new(),
            _ => {
                return Err(
                    this.mismatch("a mapping, written `{key: value}` in a variable or flag")
                );
            }
        };
        // A map accepts any key, so Kubernetes' Service variables would otherwise land in
        // a map at the root.
        let entries = entries.into_iter().filter(|(_, node)| !node.ignorable).collect();
        visitor
            .visit_map(MapAccessor::new(entries, this.path, this.context))
            .map_err(|error| error.locate(&path, &origin))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let this = self.expand_text()?;
        let (path, origin) = (this.path.clone(), this.node.origin.clone());
        let entries = match this.node.kind {
            NodeKind::Map(entries) => entries,
            // `ops:` with nothing after it is an empty section, so its defaults apply.
            NodeKind::Null => Vec::new(),
            _ => return Err(this.mismatch("a mapping")),
        };
        let planned = plan_struct(entries, fields, &path)?;
        visitor
            .visit_map(StructAccessor::new(planned, this.path, this.context))
            .map_err(|error| error.locate(&path, &origin))
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let expected = format!("one of `{}`", variants.join("`, `"));
        let is_flow_mapping = matches!(
            &self.node.kind,
            NodeKind::Scalar { text, style: ScalarStyle::Text } if text.trim_start().starts_with('{')
        );
        let this = if is_flow_mapping { self.expand_text()? } else { self };
        let (path, origin) = (this.path.clone(), this.node.origin.clone());
        let result = match this.node.kind {
            NodeKind::Scalar { text, .. } => {
                let variant: StringDeserializer<DeError> = text.into_deserializer();
                visitor.visit_enum(variant)
            }
            NodeKind::Map(entries) if entries.len() == 1 => {
                let mut entries = entries.into_iter();
                let Some((variant, node)) = entries.next() else {
                    return Err(
                        DeError::Unlocated(format!("expected {expected}")).locate(&path, &origin)
                    );
                };
                visitor.visit_enum(EnumAccessor::new(variant, node, this.path, this.context))
            }
            _ => return Err(this.mismatch(&expected)),
        };
        result.map_err(|error| error.locate(&path, &origin))
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_string(visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_unit::<DeError>()
    }
}
