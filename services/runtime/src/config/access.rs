//! serde's access traits over the configuration tree: mappings, struct fields, sequences
//! and enums, and the deserializer that reads a secret from a `<key>_file` path.

use std::path::PathBuf;

use serde::de::value::StringDeserializer;
use serde::de::{
    DeserializeSeed, Deserializer, EnumAccess, IntoDeserializer, MapAccess, SeqAccess,
    VariantAccess, Visitor,
};

use super::de::{Context, NodeDeserializer};
use super::error::{ConfigError, DeError};
use super::node::{Node, NodeKind, ScalarStyle};
use super::origin::Origin;
use super::path::KeyPath;
use crate::secret::{SECRET_NEWTYPE, strip_trailing_newline};

/// The suffix that turns a secret's key into the key of the file that contains it.
pub(crate) const FILE_SUFFIX: &str = "_file";

/// A struct field's value: written directly, or the path of a secret's file.
pub(crate) enum FieldValue {
    Direct(Node),
    SecretFile(Node),
}

impl FieldValue {
    fn origin(&self) -> &Origin {
        match self {
            FieldValue::Direct(node) | FieldValue::SecretFile(node) => &node.origin,
        }
    }
}

/// Matches each key of a mapping to a field of the struct being deserialized.
///
/// A key matches a field when it is the field's name, or the name in another case if an
/// environment variable set it, or the name plus `_file`, which names a secret's file.
/// Any other key is an error, unless it is shaped like a Kubernetes Service variable.
/// When a secret is set both ways, the higher layer wins. Both in one layer is an error.
pub(crate) fn plan_struct(
    entries: Vec<(String, Node)>,
    fields: &'static [&'static str],
    path: &KeyPath,
) -> Result<Vec<(&'static str, FieldValue)>, DeError> {
    let find_field = |key: &str, origin: &Origin| {
        let exact = fields.iter().find(|field| **field == key);
        let from_env = matches!(origin, Origin::Env { .. });
        exact.or_else(|| {
            from_env.then(|| fields.iter().find(|field| field.eq_ignore_ascii_case(key))).flatten()
        })
    };

    let mut planned: Vec<(&'static str, FieldValue)> = Vec::with_capacity(entries.len());
    for (key, node) in entries {
        let value = if let Some(field) = find_field(&key, &node.origin) {
            (*field, FieldValue::Direct(node))
        } else if let Some(field) =
            key.strip_suffix(FILE_SUFFIX).and_then(|stem| find_field(stem, &node.origin))
        {
            (*field, FieldValue::SecretFile(node))
        } else if node.ignorable {
            continue;
        } else {
            return Err(DeError::from(ConfigError::UnknownKey {
                key: path.key(&key).to_string(),
                origin: node.origin,
            }));
        };

        let earlier = planned.iter().position(|(field, _)| *field == value.0);
        let Some(slot) = earlier.and_then(|index| planned.get_mut(index)) else {
            planned.push(value);
            continue;
        };
        if slot.1.origin().same_layer(value.1.origin()) {
            let file_origin = match (&slot.1, &value.1) {
                (FieldValue::SecretFile(node), _) | (_, FieldValue::SecretFile(node)) => {
                    node.origin.clone()
                }
                _ => value.1.origin().clone(),
            };
            return Err(DeError::from(ConfigError::SecretConflict {
                key: path.key(value.0).to_string(),
                origin: file_origin,
            }));
        }
        if value.1.origin().rank() > slot.1.origin().rank() {
            *slot = value;
        }
    }
    Ok(planned)
}

/// The fields of a struct, in the order they were written.
pub(crate) struct StructAccessor<'c> {
    fields: std::vec::IntoIter<(&'static str, FieldValue)>,
    pending: Option<(&'static str, FieldValue)>,
    path: KeyPath,
    context: &'c Context,
}

impl<'c> StructAccessor<'c> {
    pub(crate) fn new(
        fields: Vec<(&'static str, FieldValue)>,
        path: KeyPath,
        context: &'c Context,
    ) -> Self {
        StructAccessor { fields: fields.into_iter(), pending: None, path, context }
    }
}

impl<'de> MapAccess<'de> for StructAccessor<'_> {
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        let Some((field, value)) = self.fields.next() else {
            return Ok(None);
        };
        self.pending = Some((field, value));
        let key: StringDeserializer<DeError> = field.to_owned().into_deserializer();
        seed.deserialize(key).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        let Some((field, value)) = self.pending.take() else {
            return Err(DeError::Unlocated("a value was requested before its key".to_owned()));
        };
        let path = self.path.key(field);
        match value {
            FieldValue::Direct(node) => {
                seed.deserialize(NodeDeserializer::new(node, path, self.context))
            }
            FieldValue::SecretFile(node) => seed.deserialize(SecretFileDeserializer { node, path }),
        }
    }
}

/// A mapping whose keys are data rather than field names (`HashMap`, `BTreeMap`).
pub(crate) struct MapAccessor<'c> {
    entries: std::vec::IntoIter<(String, Node)>,
    pending: Option<(String, Node)>,
    path: KeyPath,
    context: &'c Context,
}

impl<'c> MapAccessor<'c> {
    pub(crate) fn new(entries: Vec<(String, Node)>, path: KeyPath, context: &'c Context) -> Self {
        MapAccessor { entries: entries.into_iter(), pending: None, path, context }
    }
}

impl<'de> MapAccess<'de> for MapAccessor<'_> {
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        let Some((key, value)) = self.entries.next() else {
            return Ok(None);
        };
        // Keys are typed like plain scalars, so a `HashMap<u16, _>` reads `8080:` as a number.
        let key_node = Node::new(
            NodeKind::Scalar { text: key.clone(), style: ScalarStyle::Plain },
            value.origin.clone(),
        );
        let key_path = self.path.key(&key);
        self.pending = Some((key, value));
        seed.deserialize(NodeDeserializer::new(key_node, key_path, self.context)).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        let Some((key, value)) = self.pending.take() else {
            return Err(DeError::Unlocated("a value was requested before its key".to_owned()));
        };
        seed.deserialize(NodeDeserializer::new(value, self.path.key(&key), self.context))
    }
}

/// The items of a list.
pub(crate) struct SeqAccessor<'c> {
    items: std::iter::Enumerate<std::vec::IntoIter<Node>>,
    path: KeyPath,
    context: &'c Context,
}

impl<'c> SeqAccessor<'c> {
    pub(crate) fn new(items: Vec<Node>, path: KeyPath, context: &'c Context) -> Self {
        SeqAccessor { items: items.into_iter().enumerate(), path, context }
    }
}

impl<'de> SeqAccess<'de> for SeqAccessor<'_> {
    type Error = DeError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DeError> {
        let Some((index, node)) = self.items.next() else {
            return Ok(None);
        };
        seed.deserialize(NodeDeserializer::new(node, self.path.index(index), self.context))
            .map(Some)
    }
}

/// An enum written as a one-key mapping: `{variant: content}`.
pub(crate) struct EnumAccessor<'c> {
    variant: String,
    content: NodeDeserializer<'c>,
}

impl<'c> EnumAccessor<'c> {
    pub(crate) fn new(variant: String, node: Node, path: KeyPath, context: &'c Context) -> Self {
        let content = NodeDeserializer::new(node, path.key(&variant), context);
        EnumAccessor { variant, content }
    }
}

impl<'de, 'c> EnumAccess<'de> for EnumAccessor<'c> {
    type Error = DeError;
    type Variant = NodeDeserializer<'c>;

    fn variant_seed<V: DeserializeSeed<'de>>(
        self,
        seed: V,
    ) -> Result<(V::Value, Self::Variant), DeError> {
        let name: StringDeserializer<DeError> = self.variant.into_deserializer();
        let value = seed.deserialize(name)?;
        Ok((value, self.content))
    }
}

impl<'de> VariantAccess<'de> for NodeDeserializer<'_> {
    type Error = DeError;

    fn unit_variant(self) -> Result<(), DeError> {
        serde::Deserialize::deserialize(self)
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, DeError> {
        seed.deserialize(self)
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_seq(visitor)
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_struct("", fields, visitor)
    }
}

/// Deserializes a secret from the file that `<key>_file` names. Every type but a secret,
/// or an optional secret, is rejected before the file is opened.
pub(crate) struct SecretFileDeserializer {
    node: Node,
    /// The secret's key, without `_file`.
    path: KeyPath,
}

impl SecretFileDeserializer {
    fn not_a_secret(&self) -> DeError {
        DeError::from(ConfigError::NotASecret {
            key: self.path.to_string(),
            origin: self.node.origin.clone(),
        })
    }

    fn read(&self) -> Result<Vec<u8>, DeError> {
        let NodeKind::Scalar { text, .. } = &self.node.kind else {
            return Err(DeError::from(ConfigError::InvalidValue {
                key: format!("{}{FILE_SUFFIX}", self.path),
                origin: self.node.origin.clone(),
                reason: format!("expected the path of a file, found {}", self.node.kind_name()),
            }));
        };
        let file = PathBuf::from(text);
        let mut contents = std::fs::read(&file).map_err(|error| ConfigError::SecretFile {
            key: self.path.to_string(),
            path: file.clone(),
            origin: self.node.origin.clone(),
            error,
        })?;
        strip_trailing_newline(&mut contents);
        if contents.is_empty() {
            return Err(DeError::from(ConfigError::EmptySecretFile {
                key: self.path.to_string(),
                path: file,
                origin: self.node.origin.clone(),
            }));
        }
        Ok(contents)
    }
}

impl<'de> Deserializer<'de> for SecretFileDeserializer {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, DeError> {
        Err(self.not_a_secret())
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        if name != SECRET_NEWTYPE {
            return Err(self.not_a_secret());
        }
        let contents = self.read()?;
        visitor.visit_byte_buf::<DeError>(contents)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        unit unit_struct seq tuple tuple_struct map struct enum identifier ignored_any
    }
}
