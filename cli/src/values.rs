//! Typed values on the command line and in JSON.
//!
//! JSON encoding (used by `get`, `scan`, `export`, `import` and `log`):
//! - INTEGER: a JSON number without fraction or exponent (`36`);
//! - DOUBLE: a JSON number with a fraction or exponent (`36.0`, `1e300`), or
//!   `{"$double": "NaN" | "inf" | "-inf" | "<number>"}` for values JSON cannot hold;
//! - BOOLEAN: `true` / `false`; STRING: a JSON string;
//! - BINARY: `{"$binary": "<standard base64 with padding>"}`.
//!
//! Command-line values are either JSON scalars (`age=36`, `score=1.5`,
//! `name='"Ada"'`) or typed (`name:STRING=Ada`, `score:DOUBLE=2`,
//! `blob:BINARY=3q2+7w==`). Primary-key values are typed by the table schema
//! (`uid=1`, `name=Ada`).

use crate::error::{CliError, CliResult};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use serde_json::{json, Map, Number, Value as Json};
use tablesync::{PkBound, PkType, PkValue, Value, ValueType};

/// Encode bytes as standard base64.
pub fn encode_base64(bytes: &[u8]) -> String {
    B64.encode(bytes)
}

/// Decode standard base64.
pub fn decode_base64(s: &str) -> CliResult<Vec<u8>> {
    B64.decode(s.trim())
        .map_err(|e| CliError::arg(format!("invalid base64 {s:?}: {e}")))
}

/// Parse a type name (`INTEGER`, `DOUBLE`, `BOOLEAN`, `STRING`, `BINARY`; any case).
pub fn parse_value_type(s: &str) -> Option<ValueType> {
    match s.to_ascii_uppercase().as_str() {
        "INTEGER" => Some(ValueType::Integer),
        "DOUBLE" => Some(ValueType::Double),
        "BOOLEAN" => Some(ValueType::Boolean),
        "STRING" => Some(ValueType::String),
        "BINARY" => Some(ValueType::Binary),
        _ => None,
    }
}

/// Parse a DOUBLE written as text (`1.5`, `2`, `NaN`, `inf`, `-inf`).
pub fn parse_double(s: &str) -> CliResult<f64> {
    let t = s.trim();
    match t.to_ascii_lowercase().as_str() {
        "nan" => return Ok(f64::NAN),
        "inf" | "+inf" | "infinity" | "+infinity" => return Ok(f64::INFINITY),
        "-inf" | "-infinity" => return Ok(f64::NEG_INFINITY),
        _ => {}
    }
    t.parse::<f64>()
        .map_err(|_| CliError::arg(format!("{s:?} is not a DOUBLE")))
}

/// Parse an INTEGER written as text (must fit i64).
pub fn parse_integer(s: &str) -> CliResult<i64> {
    s.trim()
        .parse::<i64>()
        .map_err(|_| CliError::arg(format!("{s:?} is not an INTEGER (64-bit signed)")))
}

/// Parse text as a value of a given type (STRING is taken literally, BINARY is base64).
pub fn parse_typed(ty: ValueType, s: &str) -> CliResult<Value> {
    Ok(match ty {
        ValueType::Integer => Value::Integer(parse_integer(s)?),
        ValueType::Double => Value::Double(parse_double(s)?),
        ValueType::Boolean => match s.trim().to_ascii_lowercase().as_str() {
            "true" => Value::Boolean(true),
            "false" => Value::Boolean(false),
            _ => {
                return Err(CliError::arg(format!(
                    "{s:?} is not a BOOLEAN (true/false)"
                )))
            }
        },
        ValueType::String => Value::String(s.to_string()),
        ValueType::Binary => Value::Binary(decode_base64(s)?),
    })
}

/// Text form of a value for CSV fields (inverse of [`parse_typed`]).
pub fn value_text(v: &Value) -> String {
    match v {
        Value::Integer(i) => i.to_string(),
        Value::Double(d) => double_text(*d),
        Value::Boolean(b) => b.to_string(),
        Value::String(s) => s.clone(),
        Value::Binary(b) => encode_base64(b),
    }
}

fn double_text(d: f64) -> String {
    if d.is_nan() {
        "NaN".into()
    } else if d.is_infinite() {
        if d > 0.0 { "inf" } else { "-inf" }.into()
    } else {
        // `{:?}` prints the shortest text that parses back to the same bits.
        format!("{d:?}")
    }
}

/// A value as JSON (see the module docs).
pub fn value_to_json(v: &Value) -> Json {
    match v {
        Value::Integer(i) => Json::Number((*i).into()),
        Value::Double(d) => match Number::from_f64(*d) {
            Some(n) => Json::Number(n),
            None => json!({ "$double": double_text(*d) }),
        },
        Value::Boolean(b) => Json::Bool(*b),
        Value::String(s) => Json::String(s.clone()),
        Value::Binary(b) => json!({ "$binary": encode_base64(b) }),
    }
}

/// A JSON value as an attribute value (see the module docs).
pub fn json_to_value(j: &Json) -> CliResult<Value> {
    match j {
        Json::Number(n) => {
            if let Some(i) = n.as_i64() {
                Ok(Value::Integer(i))
            } else if n.is_u64() {
                Err(CliError::arg(format!(
                    "integer {n} is outside the 64-bit signed INTEGER range"
                )))
            } else {
                Ok(Value::Double(n.as_f64().unwrap_or(f64::NAN)))
            }
        }
        Json::Bool(b) => Ok(Value::Boolean(*b)),
        Json::String(s) => Ok(Value::String(s.clone())),
        Json::Object(m) => tagged_value(m),
        Json::Null => Err(CliError::arg(
            "null is not a value (leave the column out instead)",
        )),
        Json::Array(_) => Err(CliError::arg("arrays are not values")),
    }
}

fn tagged_value(m: &Map<String, Json>) -> CliResult<Value> {
    if m.len() == 1 {
        if let Some(b) = m.get("$binary") {
            let s = b
                .as_str()
                .ok_or_else(|| CliError::arg("\"$binary\" must be a base64 string"))?;
            return Ok(Value::Binary(decode_base64(s)?));
        }
        if let Some(d) = m.get("$double") {
            return Ok(Value::Double(match d {
                Json::String(s) => parse_double(s)?,
                Json::Number(n) => n.as_f64().unwrap_or(f64::NAN),
                _ => return Err(CliError::arg("\"$double\" must be a number or a string")),
            }));
        }
    }
    Err(CliError::arg(format!(
        "an object value must be {{\"$binary\": \"<base64>\"}} or {{\"$double\": \"<number>\"}}, got {}",
        Json::Object(m.clone())
    )))
}

/// A primary-key value as JSON.
pub fn pk_to_json(v: &PkValue) -> Json {
    match v {
        PkValue::Integer(i) => Json::Number((*i).into()),
        PkValue::String(s) => Json::String(s.clone()),
        PkValue::Binary(b) => json!({ "$binary": encode_base64(b) }),
        PkValue::AutoIncrement => json!({ "$auto_increment": true }),
    }
}

/// A JSON value as a primary-key value of type `ty`.
pub fn json_to_pk(ty: PkType, j: &Json) -> CliResult<PkValue> {
    let v = json_to_value(j)?;
    match (ty, v) {
        (PkType::Integer, Value::Integer(i)) => Ok(PkValue::Integer(i)),
        (PkType::String, Value::String(s)) => Ok(PkValue::String(s)),
        (PkType::Binary, Value::Binary(b)) => Ok(PkValue::Binary(b)),
        (ty, v) => Err(CliError::arg(format!(
            "primary-key value {} has type {}, the column is {}",
            value_to_json(&v),
            v.value_type().name(),
            ty.name()
        ))),
    }
}

/// Parse primary-key text as type `ty` (INTEGER decimal, STRING literal, BINARY base64).
pub fn parse_pk_text(ty: PkType, s: &str) -> CliResult<PkValue> {
    Ok(match ty {
        PkType::Integer => PkValue::Integer(parse_integer(s)?),
        PkType::String => PkValue::String(s.to_string()),
        PkType::Binary => PkValue::Binary(decode_base64(s)?),
    })
}

/// Text form of a primary-key value for CSV fields.
pub fn pk_text(v: &PkValue) -> String {
    match v {
        PkValue::Integer(i) => i.to_string(),
        PkValue::String(s) => s.clone(),
        PkValue::Binary(b) => encode_base64(b),
        PkValue::AutoIncrement => String::new(),
    }
}

/// Split `name=value` or `name:TYPE=value` into `(name, type, value)`.
pub fn split_assignment(arg: &str) -> CliResult<(&str, Option<&str>, &str)> {
    let (lhs, value) = arg.split_once('=').ok_or_else(|| {
        CliError::arg(format!(
            "{arg:?} must look like name=value or name:TYPE=value"
        ))
    })?;
    let (name, ty) = match lhs.split_once(':') {
        Some((n, t)) => (n, Some(t)),
        None => (lhs, None),
    };
    if name.is_empty() {
        return Err(CliError::arg(format!("{arg:?} has an empty column name")));
    }
    Ok((name, ty, value))
}

/// Parse an attribute argument: `name=<JSON scalar>` or `name:TYPE=<text>`.
pub fn parse_column_arg(arg: &str) -> CliResult<(String, Value)> {
    let (name, ty, text) = split_assignment(arg)?;
    let value = match ty {
        Some(t) => {
            let ty = parse_value_type(t).ok_or_else(|| {
                CliError::arg(format!(
                    "unknown type {t:?} in {arg:?} (INTEGER, DOUBLE, BOOLEAN, STRING, BINARY)"
                ))
            })?;
            parse_typed(ty, text).map_err(|e| e.context(format!("column '{name}'")))?
        }
        None => parse_json_scalar(text).map_err(|e| e.context(format!("column '{name}'")))?,
    };
    Ok((name.to_string(), value))
}

/// Parse a JSON scalar given on the command line.
fn parse_json_scalar(text: &str) -> CliResult<Value> {
    let j: Json = serde_json::from_str(text).map_err(|_| {
        CliError::arg(format!(
            "{text:?} is not a JSON value; quote strings ('\"text\"') or write name:STRING=text"
        ))
    })?;
    if let Json::Number(n) = &j {
        // serde_json reads integer literals beyond u64 as floats; refuse them.
        let t = text.trim();
        let integer_literal = !t.contains(['.', 'e', 'E']);
        if integer_literal && n.as_i64().is_none() {
            return Err(CliError::arg(format!(
                "integer {t} is outside the 64-bit signed INTEGER range"
            )));
        }
    }
    json_to_value(&j)
}

/// A range-bound part: `INF_MIN`, `INF_MAX`, or a key value.
pub fn parse_bound_text(ty: PkType, forced_literal: bool, s: &str) -> CliResult<PkBound> {
    if !forced_literal {
        match s {
            "INF_MIN" => return Ok(PkBound::InfMin),
            "INF_MAX" => return Ok(PkBound::InfMax),
            _ => {}
        }
    }
    Ok(PkBound::Value(parse_pk_text(ty, s)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_keeps_integer_and_double_apart() {
        let vals = [
            Value::Integer(36),
            Value::Double(36.0),
            Value::Double(f64::NAN),
            Value::Double(f64::NEG_INFINITY),
            Value::Double(-0.0),
            Value::Double(1e300),
            Value::Double(93.27705554249697),
            Value::Double(0.1 + 0.2),
            Value::Double(f64::MIN_POSITIVE),
            Value::Boolean(true),
            Value::String("Ada".into()),
            Value::Binary(vec![0, 255, 7]),
        ];
        for v in vals
            .into_iter()
            .chain((1..2000u64).map(|i| Value::Double(i as f64 / 7.3e5 * 1.000_000_1)))
        {
            let text = value_to_json(&v).to_string();
            let back = json_to_value(&serde_json::from_str(&text).unwrap()).unwrap();
            assert_eq!(back, v, "{text}");
        }
        assert_eq!(value_to_json(&Value::Double(36.0)).to_string(), "36.0");
    }

    #[test]
    fn column_args_parse_by_json_or_type() {
        assert_eq!(
            parse_column_arg("age=36").unwrap(),
            ("age".into(), Value::Integer(36))
        );
        assert_eq!(parse_column_arg("age=36.0").unwrap().1, Value::Double(36.0));
        assert_eq!(
            parse_column_arg("n=\"Ada\"").unwrap().1,
            Value::String("Ada".into())
        );
        assert_eq!(
            parse_column_arg("n:STRING=a=b").unwrap().1,
            Value::String("a=b".into())
        );
        assert_eq!(
            parse_column_arg("s:double=2").unwrap().1,
            Value::Double(2.0)
        );
        assert_eq!(
            parse_column_arg("b:BINARY=AAE=").unwrap().1,
            Value::Binary(vec![0, 1])
        );
        for bad in [
            "age",
            "n=Ada",
            "x=99999999999999999999",
            "x=18446744073709551615",
            "x:FLOAT=1",
            "x:INTEGER=1.5",
            "x:BOOLEAN=yes",
            "x=null",
            "x=[1]",
        ] {
            let e = parse_column_arg(bad).unwrap_err();
            assert_eq!(e.code, crate::error::INVALID_ARGUMENT, "{bad}");
        }
    }

    #[test]
    fn csv_text_round_trips_every_type() {
        let vals = [
            Value::Integer(i64::MIN),
            Value::Double(0.1),
            Value::Double(f64::INFINITY),
            Value::Boolean(false),
            Value::String("x,y\"z".into()),
            Value::Binary(b"\x00bin".to_vec()),
        ];
        for v in vals {
            assert_eq!(parse_typed(v.value_type(), &value_text(&v)).unwrap(), v);
        }
    }
}
