//! Table schema encoding.

use super::buf::{put_bytes, put_varint, put_zigzag, Reader};
use crate::model::error::Result;
use crate::model::primary_key::PkType;
use crate::model::schema::{PkColumn, TableOptions, TableSchema};

fn pk_type_byte(t: PkType) -> u8 {
    match t {
        PkType::Integer => 1,
        PkType::String => 2,
        PkType::Binary => 3,
    }
}

/// Append: name, column count, per column (name, type byte 1/2/3, auto-increment 0/1),
/// max_versions varint, time_to_live zigzag.
pub fn put_schema(out: &mut Vec<u8>, s: &TableSchema) {
    put_bytes(out, s.name.as_bytes());
    put_varint(out, s.primary_key.len() as u64);
    for c in &s.primary_key {
        put_bytes(out, c.name.as_bytes());
        out.push(pk_type_byte(c.pk_type));
        out.push(c.auto_increment as u8);
    }
    put_varint(out, s.options.max_versions as u64);
    put_zigzag(out, s.options.time_to_live);
}

/// Read a schema and validate it.
pub fn read_schema(r: &mut Reader<'_>) -> Result<TableSchema> {
    let name = r.string()?.to_string();
    // Key column: name (≥ 1) ‖ type ‖ auto-increment flag.
    let primary_key = r.read_vec(3, |r| {
        let cname = r.string()?.to_string();
        let pk_type = match r.u8()? {
            1 => PkType::Integer,
            2 => PkType::String,
            3 => PkType::Binary,
            t => return Err(r.error(format!("unknown key type {t}"))),
        };
        let auto_increment = match r.u8()? {
            0 => false,
            1 => true,
            b => return Err(r.error(format!("bad auto-increment flag {b}"))),
        };
        Ok(PkColumn {
            name: cname,
            pk_type,
            auto_increment,
        })
    })?;
    let max_versions =
        u32::try_from(r.varint()?).map_err(|_| r.error("max_versions out of range"))?;
    let time_to_live = r.zigzag()?;
    let s = TableSchema {
        name,
        primary_key,
        options: TableOptions {
            max_versions,
            time_to_live,
        },
    };
    s.validate()
        .map_err(|e| r.error(format!("invalid schema: {}", e.message())))?;
    Ok(s)
}
