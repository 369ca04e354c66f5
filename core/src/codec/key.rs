//! Order-preserving primary-key encoding: byte order equals key order.
//!
//! Each column: a tag (`0x00` INF_MIN, `0x10` INTEGER, `0x20` STRING,
//! `0x30` BINARY, `0xFF` INF_MAX), then for INTEGER 8 bytes big-endian with
//! the sign bit flipped, for STRING/BINARY the bytes with `0x00` escaped as
//! `0x00 0xFF` and terminated by `0x00 0x01`. An infinite bound ends the encoding.

use super::buf::Reader;
use crate::model::error::{Error, Result};
use crate::model::limits::MAX_PK_VALUE_SIZE;
use crate::model::primary_key::{PkBound, PkValue, PrimaryKey, RangeBound};
use crate::model::schema::TableSchema;

/// Tag of INF_MIN.
pub const KEY_INF_MIN: u8 = 0x00;
/// Tag of an INTEGER key part.
pub const KEY_INTEGER: u8 = 0x10;
/// Tag of a STRING key part.
pub const KEY_STRING: u8 = 0x20;
/// Tag of a BINARY key part.
pub const KEY_BINARY: u8 = 0x30;
/// Tag of INF_MAX.
pub const KEY_INF_MAX: u8 = 0xFF;

fn put_escaped(out: &mut Vec<u8>, b: &[u8]) {
    for &x in b {
        out.push(x);
        if x == 0 {
            out.push(0xFF);
        }
    }
    out.extend_from_slice(&[0x00, 0x01]);
}

/// Append one key part.
pub fn put_pk_value(out: &mut Vec<u8>, v: &PkValue) {
    match v {
        PkValue::Integer(i) => {
            out.push(KEY_INTEGER);
            out.extend_from_slice(&((*i as u64) ^ (1u64 << 63)).to_be_bytes());
        }
        PkValue::String(s) => {
            out.push(KEY_STRING);
            put_escaped(out, s.as_bytes());
        }
        PkValue::Binary(b) => {
            out.push(KEY_BINARY);
            put_escaped(out, b);
        }
        PkValue::AutoIncrement => unreachable!("placeholders are resolved before encoding"),
    }
}

/// Encode a resolved key's values in order (no validation).
pub fn encode_key_values<'a>(values: impl IntoIterator<Item = &'a PkValue>) -> Vec<u8> {
    let mut out = Vec::with_capacity(32);
    for v in values {
        put_pk_value(&mut out, v);
    }
    out
}

fn check_value(schema: &TableSchema, idx: usize, v: &PkValue) -> Result<()> {
    let col = &schema.primary_key[idx];
    match v.pk_type() {
        None => Err(Error::InvalidPk(format!(
            "column '{}': auto-increment placeholder is only allowed in put_row on an auto-increment column",
            col.name
        ))),
        Some(t) if t != col.pk_type => Err(Error::InvalidPk(format!(
            "column '{}' is {}, got {}",
            col.name,
            col.pk_type.name(),
            t.name()
        ))),
        Some(_) if v.size() > MAX_PK_VALUE_SIZE => Err(Error::InvalidPk(format!(
            "column '{}': primary-key value of {} bytes exceeds {MAX_PK_VALUE_SIZE}",
            col.name,
            v.size()
        ))),
        Some(_) => Ok(()),
    }
}

/// Order `pk`'s values by the schema, checking names, count, types and sizes.
pub fn ordered_key<'a>(schema: &TableSchema, pk: &'a PrimaryKey) -> Result<Vec<&'a PkValue>> {
    if pk.0.len() != schema.primary_key.len() {
        return Err(Error::InvalidPk(format!(
            "table '{}' has {} primary-key columns, got {}",
            schema.name,
            schema.primary_key.len(),
            pk.0.len()
        )));
    }
    let mut out = Vec::with_capacity(pk.0.len());
    for (i, col) in schema.primary_key.iter().enumerate() {
        let v = pk.get(&col.name).ok_or_else(|| {
            Error::InvalidPk(format!("missing primary-key column '{}'", col.name))
        })?;
        check_value(schema, i, v)?;
        out.push(v);
    }
    Ok(out)
}

/// Validate a full key against the schema and encode it.
pub fn encode_key(schema: &TableSchema, pk: &PrimaryKey) -> Result<Vec<u8>> {
    Ok(encode_key_values(ordered_key(schema, pk)?))
}

/// The key in schema order with schema names.
pub fn normalize_key(schema: &TableSchema, pk: &PrimaryKey) -> Result<PrimaryKey> {
    let vals = ordered_key(schema, pk)?;
    Ok(PrimaryKey(
        schema
            .primary_key
            .iter()
            .zip(vals)
            .map(|(c, v)| (c.name.clone(), v.clone()))
            .collect(),
    ))
}

/// Validate a range bound against the schema and encode it.
pub fn encode_bound(schema: &TableSchema, b: &RangeBound) -> Result<Vec<u8>> {
    if b.0.len() != schema.primary_key.len() {
        return Err(Error::InvalidPk(format!(
            "range bound for table '{}' needs {} columns, got {}",
            schema.name,
            schema.primary_key.len(),
            b.0.len()
        )));
    }
    let mut out = Vec::with_capacity(32);
    for (i, col) in schema.primary_key.iter().enumerate() {
        let part =
            b.0.iter()
                .find(|(n, _)| *n == col.name)
                .map(|(_, p)| p)
                .ok_or_else(|| {
                    Error::InvalidPk(format!("range bound is missing column '{}'", col.name))
                })?;
        match part {
            PkBound::InfMin => {
                out.push(KEY_INF_MIN);
                return Ok(out);
            }
            PkBound::InfMax => {
                out.push(KEY_INF_MAX);
                return Ok(out);
            }
            PkBound::Value(v) => {
                check_value(schema, i, v)?;
                put_pk_value(&mut out, v);
            }
        }
    }
    Ok(out)
}

fn read_escaped(r: &mut Reader<'_>) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let b = r.u8()?;
        if b != 0 {
            out.push(b);
            continue;
        }
        match r.u8()? {
            0xFF => out.push(0),
            0x01 => return Ok(out),
            x => return Err(r.error(format!("bad escape byte {x:#04x}"))),
        }
    }
}

/// Read one key part.
pub fn read_pk_value(r: &mut Reader<'_>) -> Result<PkValue> {
    match r.u8()? {
        KEY_INTEGER => Ok(PkValue::Integer((r.u64_be()? ^ (1u64 << 63)) as i64)),
        KEY_STRING => {
            let b = read_escaped(r)?;
            String::from_utf8(b)
                .map(PkValue::String)
                .map_err(|_| r.error("invalid UTF-8 in key"))
        }
        KEY_BINARY => Ok(PkValue::Binary(read_escaped(r)?)),
        t => Err(r.error(format!("unexpected key tag {t:#04x}"))),
    }
}

/// Decode an encoded full key, naming columns from the schema.
pub fn decode_key(schema: &TableSchema, key: &[u8]) -> Result<PrimaryKey> {
    let mut r = Reader::new(key, "primary key");
    let mut parts = Vec::with_capacity(schema.primary_key.len());
    for col in &schema.primary_key {
        let v = read_pk_value(&mut r)?;
        if v.pk_type() != Some(col.pk_type) {
            return Err(r.error(format!("column '{}' has the wrong type", col.name)));
        }
        parts.push((col.name.clone(), v));
    }
    r.finish()?;
    Ok(PrimaryKey(parts))
}

/// Decode an encoded key without a schema (values only).
pub fn decode_key_values(key: &[u8]) -> Result<Vec<PkValue>> {
    let mut r = Reader::new(key, "primary key");
    let mut out = Vec::new();
    while !r.is_empty() {
        out.push(read_pk_value(&mut r)?);
    }
    Ok(out)
}

/// Whether every key part's type matches the schema (used for decoded records).
pub fn key_types_match(schema: &TableSchema, values: &[PkValue]) -> bool {
    values.len() == schema.primary_key.len()
        && values
            .iter()
            .zip(&schema.primary_key)
            .all(|(v, c)| v.pk_type() == Some(c.pk_type))
}
