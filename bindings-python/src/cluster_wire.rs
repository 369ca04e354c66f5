//! The cluster wire format (`TSCX` messages, `TSCR` 2PC records, FORMAT.md
//! §20) as Python sees it: a frame's message kinds, re-encoding what was
//! decoded (the golden vectors check both give the same bytes), damaged
//! frames refused with `CorruptData`.

use crate::errors::IntoPyResult;
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use tablesync::cluster::wire::{
    decode_messages, decode_txn_record, encode_messages, encode_txn_record, ClusterMsg, TxnRecord,
};

/// The kinds of the messages in a `TSCX` frame, in order (`CorruptData`
/// for a damaged frame).
#[pyfunction]
pub fn cluster_message_kinds(frame: &[u8]) -> PyResult<Vec<&'static str>> {
    Ok(decode_messages(frame)
        .py()?
        .iter()
        .map(ClusterMsg::kind_name)
        .collect())
}

/// Decode a `TSCX` frame and encode its messages again.
#[pyfunction]
pub fn cluster_messages_reencode<'py>(
    py: Python<'py>,
    frame: &[u8],
) -> PyResult<Bound<'py, PyBytes>> {
    let msgs = decode_messages(frame).py()?;
    Ok(PyBytes::new(py, &encode_messages(&msgs)))
}

/// The kind of a `TSCR` 2PC record frame.
#[pyfunction]
pub fn txn_record_kind(frame: &[u8]) -> PyResult<&'static str> {
    Ok(TxnRecord::kind_name(&decode_txn_record(frame).py()?))
}

/// Decode a `TSCR` record frame and encode it again.
#[pyfunction]
pub fn txn_record_reencode<'py>(py: Python<'py>, frame: &[u8]) -> PyResult<Bound<'py, PyBytes>> {
    let r = decode_txn_record(frame).py()?;
    Ok(PyBytes::new(py, &encode_txn_record(&r)))
}

/// Add the functions to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(cluster_message_kinds, m)?)?;
    m.add_function(wrap_pyfunction!(cluster_messages_reencode, m)?)?;
    m.add_function(wrap_pyfunction!(txn_record_kind, m)?)?;
    m.add_function(wrap_pyfunction!(txn_record_reencode, m)?)?;
    Ok(())
}
