//! Python arguments of a sync session → `SyncConfig`.
//!
//! Session ids come from the host's randomness (`os.urandom`): the core
//! never draws random numbers itself.

use crate::errors::{invalid, type_error};
use crate::options::is_seq;
use crate::values::{str_from_py, uint_from_py};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString};
use tablesync::sync::{
    SyncConfig, SyncDirection, SyncMode, DEFAULT_INITIAL_SYMBOLS, DEFAULT_MAX_FRAME_BYTES,
};

/// Parse a mode name (`"incremental"`, `"full"`, `"hybrid"`, `"reconcile"`,
/// `"auto"`, `"verify"`).
pub fn mode_from_py(mode: &str) -> PyResult<SyncMode> {
    SyncMode::parse(mode).ok_or_else(|| {
        invalid(format!(
            "mode must be \"auto\", \"incremental\", \"full\", \"hybrid\", \"reconcile\" or \"verify\", got {mode:?}"
        ))
    })
}

/// Parse a direction name (`"pull"`, `"push"`, `"both"`).
pub fn direction_from_py(direction: &str) -> PyResult<SyncDirection> {
    SyncDirection::parse(direction).ok_or_else(|| {
        invalid(format!(
            "direction must be \"pull\", \"push\" or \"both\", got {direction:?}"
        ))
    })
}

/// `None` (every table of both sides) or a list of table names.
pub fn tables_from_py(tables: Option<&Bound<'_, PyAny>>) -> PyResult<Option<Vec<String>>> {
    let Some(t) = tables.filter(|t| !t.is_none()) else {
        return Ok(None);
    };
    if t.is_instance_of::<PyString>() || !is_seq(t) {
        return Err(type_error("tables", "a list of table names or None", t));
    }
    let mut out = Vec::new();
    for item in t.try_iter()? {
        let name = str_from_py(&item?, "a table name")?;
        if !out.contains(&name) {
            out.push(name);
        }
    }
    if out.is_empty() {
        return Err(invalid(
            "tables must name at least one table (or be None for all)",
        ));
    }
    Ok(Some(out))
}

/// A frame cap: `None` → the default (16 MiB); at least 4096.
pub fn max_frame_from_py(v: Option<&Bound<'_, PyAny>>) -> PyResult<usize> {
    match v.filter(|v| !v.is_none()) {
        None => Ok(DEFAULT_MAX_FRAME_BYTES),
        Some(v) => {
            let n = uint_from_py(v, "max_frame_bytes")?;
            if !(4096..=1 << 30).contains(&n) {
                return Err(invalid(format!(
                    "max_frame_bytes must be between 4096 and 1073741824, got {n}"
                )));
            }
            Ok(n as usize)
        }
    }
}

/// 64 random bits from `os.urandom`.
pub fn random_session_id(py: Python<'_>) -> PyResult<u64> {
    let raw = py.import("os")?.call_method1("urandom", (8,))?;
    let bytes = raw.cast::<PyBytes>()?.as_bytes();
    let mut b = [0u8; 8];
    b.copy_from_slice(&bytes[..8]);
    Ok(u64::from_le_bytes(b))
}

/// A session id given by the caller (an int below 2^64), or a random one.
pub fn session_id_from_py(py: Python<'_>, v: Option<&Bound<'_, PyAny>>) -> PyResult<u64> {
    match v.filter(|v| !v.is_none()) {
        None => random_session_id(py),
        Some(v) => uint_from_py(v, "session_id"),
    }
}

/// Every option of a session, checked.
#[allow(clippy::too_many_arguments)]
pub fn config_from_py(
    py: Python<'_>,
    mode: &str,
    direction: &str,
    tables: Option<&Bound<'_, PyAny>>,
    max_frame_bytes: Option<&Bound<'_, PyAny>>,
    initial_symbols: Option<&Bound<'_, PyAny>>,
    session_id: Option<&Bound<'_, PyAny>>,
) -> PyResult<SyncConfig> {
    let initial_symbols = match initial_symbols.filter(|v| !v.is_none()) {
        None => DEFAULT_INITIAL_SYMBOLS,
        Some(v) => {
            let n = uint_from_py(v, "initial_symbols")?;
            if !(1..=1 << 22).contains(&n) {
                return Err(invalid(format!(
                    "initial_symbols must be between 1 and 4194304, got {n}"
                )));
            }
            n as u32
        }
    };
    Ok(SyncConfig {
        mode: mode_from_py(mode)?,
        direction: direction_from_py(direction)?,
        tables: tables_from_py(tables)?,
        max_frame_bytes: max_frame_from_py(max_frame_bytes)?,
        session_id: session_id_from_py(py, session_id)?,
        initial_symbols,
    })
}
