//! Python bindings of tablesync: the native module `tablesync._tablesync`.
//!
//! Conversions only: values, keys, conditions, records, errors and locking.
//! Every behaviour lives in the core crate `tablesync`.
#![warn(missing_docs)]

pub mod apply_stats;
pub mod backup;
pub mod batch;
pub mod batch_results;
pub mod change_page;
pub mod cluster;
pub mod cluster_wire;
pub mod conditions;
pub mod database;
pub mod errors;
pub mod feed;
pub mod health;
pub mod link;
pub mod markers;
pub mod options;
pub mod range_page;
pub mod read_view;
pub mod records;
pub mod remote_sync;
pub mod row;
pub mod scan;
pub mod server;
pub mod shared;
pub mod sync_options;
pub mod sync_report;
pub mod sync_session;
pub mod table_description;
pub mod values;

use pyo3::prelude::*;

/// mimalloc instead of the system allocator: glibc's malloc spends more time
/// than the engine on the many small row and record allocations.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The native module.
#[pymodule]
fn _tablesync(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    errors::register(m)?;
    markers::register(m)?;
    m.add_class::<database::Database>()?;
    m.add_class::<row::Row>()?;
    m.add_class::<range_page::RangePage>()?;
    m.add_class::<read_view::ReadView>()?;
    m.add_class::<change_page::ChangePage>()?;
    m.add_class::<batch_results::BatchResult>()?;
    m.add_class::<batch_results::BatchGetResult>()?;
    m.add_class::<apply_stats::ApplyStats>()?;
    m.add_class::<table_description::TableDescription>()?;
    m.add_class::<scan::Scan>()?;
    m.add_class::<sync_report::SyncReport>()?;
    m.add_class::<health::Health>()?;
    m.add_class::<sync_report::TableOutcome>()?;
    m.add_class::<sync_session::SyncSession>()?;
    m.add_class::<server::Server>()?;
    m.add_class::<link::Link>()?;
    m.add_class::<link::LinkStatus>()?;
    m.add_function(wrap_pyfunction!(sync_session::respond, m)?)?;
    m.add_class::<feed::Feed>()?;
    m.add_function(wrap_pyfunction!(feed::follow, m)?)?;
    m.add_class::<backup::BackupInfo>()?;
    m.add_class::<backup::VerifyReport>()?;
    m.add_class::<backup::Backups>()?;
    m.add_function(wrap_pyfunction!(backup::restore, m)?)?;
    cluster::register(m)?;
    cluster_wire::register(m)?;
    m.add_function(wrap_pyfunction!(backup::backup_server, m)?)?;
    Ok(())
}
