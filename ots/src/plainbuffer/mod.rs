//! PlainBuffer, Tablestore's row encoding: a little-endian, tagged layout in
//! which every cell and every row carries a CRC-8 (see docs/FORMAT.md,
//! "Tablestore PlainBuffer").

pub mod crc8;
mod reader;
mod writer;

pub use reader::{decode_row, decode_rows, decode_variant};
pub use writer::{encode_pk_row, encode_row, encode_rows, RowWriter};

/// The header every PlainBuffer starts with (little-endian u32).
pub const HEADER: u32 = 0x75;

/// Tags.
pub(crate) mod tag {
    pub const ROW_PK: u8 = 0x01;
    pub const ROW_DATA: u8 = 0x02;
    pub const CELL: u8 = 0x03;
    pub const CELL_NAME: u8 = 0x04;
    pub const CELL_VALUE: u8 = 0x05;
    pub const CELL_TYPE: u8 = 0x06;
    pub const CELL_TIMESTAMP: u8 = 0x07;
    pub const DELETE_ROW_MARKER: u8 = 0x08;
    pub const ROW_CHECKSUM: u8 = 0x09;
    pub const CELL_CHECKSUM: u8 = 0x0A;
}

/// Variant type bytes.
pub(crate) mod vt {
    pub const INTEGER: u8 = 0x0;
    pub const DOUBLE: u8 = 0x1;
    pub const BOOLEAN: u8 = 0x2;
    pub const STRING: u8 = 0x3;
    pub const NULL: u8 = 0x6;
    pub const BLOB: u8 = 0x7;
    pub const INF_MIN: u8 = 0x9;
    pub const INF_MAX: u8 = 0xa;
    pub const AUTO_INCREMENT: u8 = 0xb;
}

/// A value as PlainBuffer carries it (key parts, cells and filter operands).
#[derive(Clone, Debug, PartialEq)]
pub enum PbValue {
    /// VT_INTEGER.
    Integer(i64),
    /// VT_DOUBLE.
    Double(f64),
    /// VT_BOOLEAN.
    Boolean(bool),
    /// VT_STRING (UTF-8).
    String(String),
    /// VT_BLOB.
    Binary(Vec<u8>),
    /// VT_NULL (only in filter operands).
    Null,
    /// VT_INF_MIN (range bounds).
    InfMin,
    /// VT_INF_MAX (range bounds).
    InfMax,
    /// VT_AUTO_INCREMENT (a key part the table assigns).
    AutoIncrement,
}

/// The operation a cell of an UpdateRow asks for (`TAG_CELL_TYPE`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CellOp {
    /// 0x1: delete every version of the column.
    DeleteAllVersions,
    /// 0x3: delete the version at the cell's timestamp.
    DeleteOneVersion,
    /// 0x4: add the cell's INTEGER value.
    Increment,
}

impl CellOp {
    /// The byte on the wire.
    pub fn byte(self) -> u8 {
        match self {
            CellOp::DeleteAllVersions => 0x1,
            CellOp::DeleteOneVersion => 0x3,
            CellOp::Increment => 0x4,
        }
    }
    fn from_byte(b: u8) -> Option<Self> {
        match b {
            0x1 => Some(CellOp::DeleteAllVersions),
            0x3 => Some(CellOp::DeleteOneVersion),
            0x4 => Some(CellOp::Increment),
            _ => None,
        }
    }
}

/// One attribute cell.
#[derive(Clone, Debug, PartialEq)]
pub struct PbCell {
    /// Column name.
    pub name: String,
    /// Value (absent for deletes).
    pub value: Option<PbValue>,
    /// Operation (absent for a plain put).
    pub op: Option<CellOp>,
    /// Version timestamp in milliseconds.
    pub timestamp: Option<i64>,
}

/// One row: primary key, cells, and whether it carries the delete marker.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct PbRow {
    /// Key parts in order.
    pub primary_key: Vec<(String, PbValue)>,
    /// Attribute cells in order.
    pub cells: Vec<PbCell>,
    /// `TAG_DELETE_ROW_MARKER` was present (DeleteRow).
    pub delete_marker: bool,
}

/// Why a PlainBuffer could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid PlainBuffer at byte {offset}: {reason}")]
pub struct DecodeError {
    /// Byte offset where reading failed.
    pub offset: usize,
    /// What was wrong.
    pub reason: String,
}

#[cfg(test)]
mod tests;
