//! Lenient deserializers: form bodies (`port=8080`, `strip_path=false`, `hosts=a.com`) arrive as
//! strings, and Kong coerces them by the schema's type. JSON values of the right type pass as is.

use serde::de::{Deserialize, Deserializer, Error};
use serde_json::Value;

fn number<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .map(Some)
            .ok_or_else(|| D::Error::custom("expected an integer")),
        Some(Value::String(s)) => s
            .trim()
            .parse::<i64>()
            .map(Some)
            .map_err(|_| D::Error::custom("expected an integer")),
        Some(_) => Err(D::Error::custom("expected an integer")),
    }
}

/// An integer in `lo..=hi`, from a number or a numeric string.
macro_rules! ranged {
    ($name:ident, $opt:ident, $ty:ty) => {
        #[allow(dead_code)]
        pub fn $name<'de, D: Deserializer<'de>>(d: D) -> Result<$ty, D::Error> {
            match number(d)? {
                Some(n) => <$ty>::try_from(n).map_err(|_| D::Error::custom("value out of range")),
                None => Err(D::Error::custom("required field missing")),
            }
        }
        #[allow(dead_code)]
        pub fn $opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<$ty>, D::Error> {
            match number(d)? {
                Some(n) => <$ty>::try_from(n)
                    .map(Some)
                    .map_err(|_| D::Error::custom("value out of range")),
                None => Ok(None),
            }
        }
    };
}

ranged!(u16, opt_u16, u16);
ranged!(u32, opt_u32, u32);
ranged!(i64, opt_i64, i64);

pub fn boolean<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    match Value::deserialize(d)? {
        Value::Bool(b) => Ok(b),
        Value::String(s) if s == "true" => Ok(true),
        Value::String(s) if s == "false" => Ok(false),
        _ => Err(D::Error::custom("expected a boolean")),
    }
}

/// A list of strings; a single string (one form field) is a list of one.
pub fn opt_strings<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<String>>, D::Error> {
    match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(vec![s])),
        Some(Value::Array(items)) => items
            .into_iter()
            .map(|v| match v {
                Value::String(s) => Ok(s),
                _ => Err(D::Error::custom("expected a string")),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(Value::Object(o)) if o.is_empty() => Ok(Some(Vec::new())),
        Some(_) => Err(D::Error::custom("expected an array")),
    }
}

/// A list of integers (status codes), from numbers or numeric strings.
pub fn u16s<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u16>, D::Error> {
    let items = match Value::deserialize(d)? {
        Value::Array(items) => items,
        Value::Object(o) if o.is_empty() => Vec::new(),
        single @ (Value::String(_) | Value::Number(_)) => vec![single],
        _ => return Err(D::Error::custom("expected an array")),
    };
    items
        .into_iter()
        .map(|v| match v {
            Value::Number(n) => n.as_u64().and_then(|n| u16::try_from(n).ok()),
            Value::String(s) => s.parse().ok(),
            _ => None,
        })
        .map(|v| v.ok_or_else(|| D::Error::custom("expected an integer")))
        .collect()
}
