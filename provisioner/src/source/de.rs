//! `serde::Deserializer` for [`Node`]: each method records what is wrong and carries on.

use serde::de::{self, DeserializeSeed, IntoDeserializer, MapAccess, SeqAccess, Visitor};
use serde::forward_to_deserialize_any;
use toml::de::DeValue;
use toml::Spanned;

use super::node::{DeError, Node};

macro_rules! integer {
    ($method:ident, $ty:ty, $visit:ident) => {
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
            let n = self.integer(i128::from(<$ty>::MIN), i128::from(<$ty>::MAX));
            // `integer` already clamped `n` into range (or made it 0).
            let n = <$ty>::try_from(n).unwrap_or_default();
            let result = visitor.$visit(n);
            self.settle(result)
        }
    };
}

impl<'de, 'a, 'i> de::Deserializer<'de> for Node<'a, 'i> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let result = match self.value.map(Spanned::get_ref) {
            None => {
                self.fail_missing();
                return Err(DeError::reported());
            }
            Some(DeValue::String(_)) => return self.deserialize_string(visitor),
            Some(DeValue::Integer(_)) => return self.deserialize_i64(visitor),
            Some(DeValue::Float(_)) => return self.deserialize_f64(visitor),
            Some(DeValue::Boolean(b)) => visitor.visit_bool(*b),
            Some(DeValue::Datetime(dt)) => visitor.visit_string(dt.to_string()),
            Some(DeValue::Array(_)) => return self.deserialize_seq(visitor),
            Some(DeValue::Table(_)) => return self.deserialize_map(visitor),
        };
        self.settle(result)
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let b = match self.value.map(Spanned::get_ref) {
            Some(DeValue::Boolean(b)) => *b,
            Some(_) => {
                self.fail_type("a boolean (true or false)");
                false
            }
            None => {
                self.fail_missing();
                false
            }
        };
        let result = visitor.visit_bool(b);
        self.settle(result)
    }

    integer!(deserialize_i8, i8, visit_i8);
    integer!(deserialize_i16, i16, visit_i16);
    integer!(deserialize_i32, i32, visit_i32);
    integer!(deserialize_i64, i64, visit_i64);
    integer!(deserialize_u8, u8, visit_u8);
    integer!(deserialize_u16, u16, visit_u16);
    integer!(deserialize_u32, u32, visit_u32);
    integer!(deserialize_u64, u64, visit_u64);

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_f64(visitor)
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let number = match self.value.map(Spanned::get_ref) {
            // `min_acu = 1` means 1.0: TOML users should not have to write the `.0`.
            Some(DeValue::Integer(int)) => i64::from_str_radix(int.as_str(), int.radix())
                .map(|n| n as f64)
                .unwrap_or_default(),
            Some(DeValue::Float(float)) => float.as_str().parse().unwrap_or_default(),
            Some(_) => {
                self.fail_type("a number");
                0.0
            }
            None => {
                self.fail_missing();
                0.0
            }
        };
        let result = visitor.visit_f64(number);
        self.settle(result)
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_string(visitor)
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let text = self.string();
        let result = visitor.visit_string(text);
        self.settle(result)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        if self.value.is_none() {
            let result = visitor.visit_none();
            return self.settle(result);
        }
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let items: Vec<Node> = match self.value.map(Spanned::get_ref) {
            Some(DeValue::Array(array)) => array
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    let mut node = self.child("", Some(item), item.span());
                    node.path = format!("{}[{i}]", self.path);
                    node
                })
                .collect(),
            Some(_) => {
                self.fail_type("an array");
                Vec::new()
            }
            None => Vec::new(),
        };
        let result = visitor.visit_seq(Items {
            items: items.into_iter(),
        });
        self.settle(result)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let entries = self.map_entries();
        let result = visitor.visit_map(Entries::new(entries));
        self.settle(result)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let path = self.path.clone();
        let span = self.span();
        let ctx = self.ctx();
        let entries = self.struct_fields(fields);
        visitor.visit_map(Entries::new(entries)).map_err(|err| {
            if !err.is_reported() {
                ctx.report(&path, span, err.to_string());
            }
            DeError::reported()
        })
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let fallback = variants.first().copied().unwrap_or_default();
        let chosen = match self.value.map(Spanned::get_ref) {
            Some(DeValue::String(text)) if variants.contains(&text.as_ref()) => text.to_string(),
            Some(DeValue::String(text)) => {
                let expected = variants
                    .iter()
                    .map(|v| format!("`{v}`"))
                    .collect::<Vec<_>>();
                self.fail(format!(
                    "unknown value `{text}`: expected one of {}",
                    expected.join(", ")
                ));
                fallback.to_string()
            }
            Some(_) => {
                self.fail_type("a string");
                fallback.to_string()
            }
            None => {
                self.fail_missing();
                fallback.to_string()
            }
        };
        let result = visitor.visit_enum(chosen.into_deserializer());
        self.settle(result)
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_string(visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_unit()
    }

    forward_to_deserialize_any! {
        char bytes byte_buf unit unit_struct tuple tuple_struct
    }
}

/// Key-value pairs of a table, as serde's `MapAccess`.
pub struct Entries<'a, 'i> {
    entries: std::vec::IntoIter<(String, Node<'a, 'i>)>,
    pending: Option<Node<'a, 'i>>,
}

impl<'a, 'i> Entries<'a, 'i> {
    fn new(entries: Vec<(String, Node<'a, 'i>)>) -> Self {
        Self {
            entries: entries.into_iter(),
            pending: None,
        }
    }
}

impl<'de, 'a, 'i> MapAccess<'de> for Entries<'a, 'i> {
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        let Some((key, node)) = self.entries.next() else {
            return Ok(None);
        };
        self.pending = Some(node);
        seed.deserialize(key.into_deserializer()).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        match self.pending.take() {
            Some(node) => seed.deserialize(node),
            None => Err(de::Error::custom("value requested before its key")),
        }
    }
}

/// Items of an array, as serde's `SeqAccess`.
struct Items<'a, 'i> {
    items: std::vec::IntoIter<Node<'a, 'i>>,
}

impl<'de, 'a, 'i> SeqAccess<'de> for Items<'a, 'i> {
    type Error = DeError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DeError> {
        self.items
            .next()
            .map(|node| seed.deserialize(node))
            .transpose()
    }
}
