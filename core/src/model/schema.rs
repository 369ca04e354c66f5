//! Table schemas and options, and the name rules.

use super::error::{Error, Result};
use super::limits::*;
use super::primary_key::PkType;
use serde::{Deserialize, Serialize};

/// One primary-key column of a table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PkColumn {
    /// Column name.
    pub name: String,
    /// Column type.
    pub pk_type: PkType,
    /// Whether values are assigned by the table (INTEGER only, never the first column).
    pub auto_increment: bool,
}

impl PkColumn {
    /// A plain (not auto-increment) key column.
    pub fn new(name: impl Into<String>, pk_type: PkType) -> Self {
        PkColumn {
            name: name.into(),
            pk_type,
            auto_increment: false,
        }
    }

    /// An auto-increment INTEGER key column.
    pub fn auto_increment(name: impl Into<String>) -> Self {
        PkColumn {
            name: name.into(),
            pk_type: PkType::Integer,
            auto_increment: true,
        }
    }
}

/// Options that govern which versions reads see.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableOptions {
    /// Versions each column keeps visible (≥ 1).
    pub max_versions: u32,
    /// Seconds a version stays visible after its timestamp; `-1` means forever.
    pub time_to_live: i64,
}

impl Default for TableOptions {
    fn default() -> Self {
        TableOptions {
            max_versions: 1,
            time_to_live: -1,
        }
    }
}

impl TableOptions {
    /// Check the option values.
    pub fn validate(&self) -> Result<()> {
        if self.max_versions == 0 || self.max_versions > MAX_VERSIONS_LIMIT {
            return Err(Error::invalid(format!(
                "max_versions must be between 1 and {MAX_VERSIONS_LIMIT}, got {}",
                self.max_versions
            )));
        }
        if self.time_to_live != -1 && self.time_to_live < 86_400 {
            return Err(Error::invalid(format!(
                "time_to_live must be -1 (forever) or at least 86400 seconds, got {}",
                self.time_to_live
            )));
        }
        Ok(())
    }
}

/// A table's schema: its name, primary key and options.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableSchema {
    /// Table name.
    pub name: String,
    /// Primary-key columns in order (1–4).
    pub primary_key: Vec<PkColumn>,
    /// Version and TTL options.
    pub options: TableOptions,
}

impl TableSchema {
    /// A schema with default options.
    pub fn new(name: impl Into<String>, primary_key: Vec<PkColumn>) -> Self {
        TableSchema {
            name: name.into(),
            primary_key,
            options: TableOptions::default(),
        }
    }

    /// Set the options.
    pub fn with_options(mut self, options: TableOptions) -> Self {
        self.options = options;
        self
    }

    /// Check names, key shape, auto-increment rules and options.
    pub fn validate(&self) -> Result<()> {
        validate_name(&self.name, "table")?;
        let n = self.primary_key.len();
        if !(MIN_PK_COLUMNS..=MAX_PK_COLUMNS).contains(&n) {
            return Err(Error::invalid(format!(
                "a table needs {MIN_PK_COLUMNS} to {MAX_PK_COLUMNS} primary-key columns, got {n}"
            )));
        }
        let mut autos = 0;
        for (i, col) in self.primary_key.iter().enumerate() {
            validate_name(&col.name, "primary-key column")?;
            if self.primary_key[..i].iter().any(|c| c.name == col.name) {
                return Err(Error::invalid(format!(
                    "duplicate primary-key column '{}'",
                    col.name
                )));
            }
            if col.auto_increment {
                autos += 1;
                if col.pk_type != PkType::Integer {
                    return Err(Error::invalid("an auto-increment column must be INTEGER"));
                }
                if i == 0 {
                    return Err(Error::invalid(
                        "the partition key (first primary-key column) cannot be auto-increment",
                    ));
                }
            }
        }
        if autos > 1 {
            return Err(Error::invalid(
                "a table may have at most one auto-increment column",
            ));
        }
        self.options.validate()
    }

    /// Index of the auto-increment column, if any.
    pub fn auto_increment_index(&self) -> Option<usize> {
        self.primary_key.iter().position(|c| c.auto_increment)
    }
}

/// Check a table or column name against `[A-Za-z_][A-Za-z0-9_]{0,254}`.
pub fn validate_name(name: &str, what: &str) -> Result<()> {
    let bytes = name.as_bytes();
    let ok = !bytes.is_empty()
        && bytes.len() <= MAX_NAME_LEN
        && (bytes[0].is_ascii_alphabetic() || bytes[0] == b'_')
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'_');
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(format!(
            "invalid {what} name {name:?}: must match [A-Za-z_][A-Za-z0-9_]{{0,254}}"
        )))
    }
}

/// Check an attribute column name: 1–255 bytes of UTF-8 without control
/// characters. The service accepts names such as `postal code` here (its own
/// `get_row` example writes one); table and primary-key column names keep
/// the strict pattern of [`validate_name`].
pub fn validate_column_name(name: &str, what: &str) -> Result<()> {
    if name.is_empty() || name.len() > MAX_NAME_LEN || name.chars().any(char::is_control) {
        return Err(Error::invalid(format!(
            "invalid {what} name {name:?}: must be 1 to {MAX_NAME_LEN} bytes without control characters"
        )));
    }
    Ok(())
}
