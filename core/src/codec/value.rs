//! Attribute value encoding: a type tag then the payload.

use super::buf::{put_bytes, Reader};
use crate::model::error::Result;
use crate::model::value::Value;

/// Tag of an INTEGER value.
pub const TAG_INTEGER: u8 = 1;
/// Tag of a DOUBLE value.
pub const TAG_DOUBLE: u8 = 2;
/// Tag of a BOOLEAN value.
pub const TAG_BOOLEAN: u8 = 3;
/// Tag of a STRING value.
pub const TAG_STRING: u8 = 4;
/// Tag of a BINARY value.
pub const TAG_BINARY: u8 = 5;

/// Append `tag ‖ payload`: i64 LE, f64 bits LE, one byte 0/1, or varint length ‖ bytes.
pub fn put_value(out: &mut Vec<u8>, v: &Value) {
    match v {
        Value::Integer(i) => {
            out.push(TAG_INTEGER);
            out.extend_from_slice(&i.to_le_bytes());
        }
        Value::Double(d) => {
            out.push(TAG_DOUBLE);
            out.extend_from_slice(&d.to_bits().to_le_bytes());
        }
        Value::Boolean(b) => {
            out.push(TAG_BOOLEAN);
            out.push(*b as u8);
        }
        Value::String(s) => {
            out.push(TAG_STRING);
            put_bytes(out, s.as_bytes());
        }
        Value::Binary(b) => {
            out.push(TAG_BINARY);
            put_bytes(out, b);
        }
    }
}

/// Read a value whose tag was already read.
pub fn read_value_body(r: &mut Reader<'_>, tag: u8) -> Result<Value> {
    Ok(match tag {
        TAG_INTEGER => Value::Integer(r.u64_le()? as i64),
        TAG_DOUBLE => Value::Double(f64::from_bits(r.u64_le()?)),
        TAG_BOOLEAN => match r.u8()? {
            0 => Value::Boolean(false),
            1 => Value::Boolean(true),
            b => return Err(r.error(format!("boolean byte {b}"))),
        },
        TAG_STRING => Value::String(r.string()?.to_string()),
        TAG_BINARY => Value::Binary(r.bytes()?.to_vec()),
        t => return Err(r.error(format!("unknown value tag {t}"))),
    })
}

/// Read `tag ‖ payload`.
pub fn read_value(r: &mut Reader<'_>) -> Result<Value> {
    let tag = r.u8()?;
    read_value_body(r, tag)
}
