//! `Cluster`: a client of a tablesync cluster (`tablesync serve --cluster`
//! regions), over the Rust driver `tablesync_http::cluster::Cluster`. Rows
//! are routed by the cluster map, writes acknowledged per their mode, reads
//! balanced, multi-partition batches run as two-phase commits. The GIL is
//! released around every network call.

use crate::batch::write_op_from_py;
use crate::conditions::condition_from_py;
use crate::errors::{invalid, type_error, IntoPyResult};
use crate::options::{columns_from_py, is_seq, row_update_from_py};
use crate::range_page::RangePage;
use crate::row::Row;
use crate::values::{pairs, pk_from_py, pk_value_from_py, str_from_py};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList};
use std::path::PathBuf;
use std::time::Duration;
use tablesync::cluster::wire::RowWrite;
use tablesync::cluster::{ClusterMap, ReadLevel, WriteMode};
use tablesync::{PkValue, RowExistence, WriteOp};
use tablesync_http::cluster::{
    Cluster as Driver, ClusterOptions, WriteOptions, WriteResult as DriverWrite,
};

fn mode_from_py(mode: Option<&str>) -> PyResult<Option<WriteMode>> {
    mode.map(WriteMode::parse_arg).transpose().py()
}

/// A cluster write takes a row-existence condition only (checked at the home).
fn existence_from_py(condition: Option<&Bound<'_, PyAny>>) -> PyResult<RowExistence> {
    let c = condition_from_py(condition)?;
    if c.column_condition.is_some() {
        return Err(invalid(
            "cluster writes take a row-existence condition only (no column condition)",
        ));
    }
    Ok(c.row_existence)
}

fn row_write_from_op(op: WriteOp) -> PyResult<RowWrite> {
    let exist = |c: tablesync::Condition| {
        if c.column_condition.is_some() {
            Err(invalid(
                "cluster batches take row-existence conditions only (no column condition)",
            ))
        } else {
            Ok(c.row_existence)
        }
    };
    Ok(match op {
        WriteOp::Put {
            table,
            primary_key,
            columns,
            condition,
        } => Driver::put_op(&table, primary_key, columns, exist(condition)?),
        WriteOp::Update {
            table,
            primary_key,
            update,
            condition,
        } => Driver::update_op(&table, primary_key, update, exist(condition)?).py()?,
        WriteOp::Delete {
            table,
            primary_key,
            condition,
        } => Driver::delete_op(&table, primary_key, exist(condition)?),
    })
}

/// A range bound: `None` (unbounded), `bytes` (an encoded key, as
/// `next_start` gives it), a dict / list of `(name, value)` pairs of leading
/// key columns, or a list of leading key values.
fn range_bound_from_py(obj: Option<&Bound<'_, PyAny>>, what: &str) -> PyResult<Vec<u8>> {
    let Some(obj) = obj.filter(|o| !o.is_none()) else {
        return Ok(Vec::new());
    };
    if let Ok(b) = obj.cast::<PyBytes>() {
        return Ok(b.as_bytes().to_vec());
    }
    let values: Vec<PkValue> = if obj.cast::<PyDict>().is_ok()
        || (is_seq(obj)
            && obj
                .try_iter()?
                .next()
                .transpose()?
                .is_some_and(|first| is_seq(&first)))
    {
        let mut out = Vec::new();
        for (k, v) in pairs(obj, what)? {
            let name = str_from_py(&k, "a primary-key column name")?;
            out.push(pk_value_from_py(&v, &format!("{what} column '{name}'"))?);
        }
        out
    } else if is_seq(obj) {
        let mut out = Vec::new();
        for v in obj.try_iter()? {
            out.push(pk_value_from_py(&v?, what)?);
        }
        out
    } else {
        return Err(type_error(
            what,
            "None, bytes, a key dict or a list of key values",
            obj,
        ));
    };
    Ok(tablesync::codec::key::encode_key_values(values.iter()))
}

/// An acknowledged cluster write: `.home` (the region that committed it
/// first) and `.degraded` (a semi-sync write acknowledged by the home alone).
#[pyclass(frozen, module = "tablesync._tablesync")]
pub struct ClusterWrite {
    /// The home region's name.
    #[pyo3(get)]
    pub home: String,
    /// Whether semi-sync had degraded to async for this write.
    #[pyo3(get)]
    pub degraded: bool,
}

impl From<DriverWrite> for ClusterWrite {
    fn from(w: DriverWrite) -> Self {
        ClusterWrite {
            home: w.home,
            degraded: w.degraded,
        }
    }
}

#[pymethods]
impl ClusterWrite {
    fn __repr__(&self) -> String {
        format!(
            "ClusterWrite(home={:?}, degraded={})",
            self.home,
            if self.degraded { "True" } else { "False" }
        )
    }
}

/// The outcome of `Cluster.batch_write`: `.committed` (everywhere, else
/// aborted everywhere), `.reason` (why it aborted, else `""`), `.txn` (the
/// transaction id) and `.participants` (1: one round; more: two-phase commit).
#[pyclass(frozen, module = "tablesync._tablesync")]
pub struct ClusterBatch {
    /// Committed on every participant.
    #[pyo3(get)]
    pub committed: bool,
    /// Why it aborted (empty when committed).
    #[pyo3(get)]
    pub reason: String,
    /// The transaction id.
    #[pyo3(get)]
    pub txn: u128,
    /// Participant regions.
    #[pyo3(get)]
    pub participants: usize,
}

#[pymethods]
impl ClusterBatch {
    fn __repr__(&self) -> String {
        format!(
            "ClusterBatch(committed={}, participants={}, reason={:?})",
            if self.committed { "True" } else { "False" },
            self.participants,
            self.reason
        )
    }
}

/// A client of a tablesync cluster.
///
/// `Cluster(map_or_url, *, token, local_dc=None, ca_file=None, attempts=5,
/// write_timeout=10.0, seed=None)`: `map_or_url` is the URL of any region
/// (`http://HOST:PORT`; its map is fetched), the path of a map file
/// (`tablesync cluster init …`) or a map's bytes. `local_dc` is the
/// client's datacenter (reads prefer it; `LOCAL_QUORUM` counts in it).
#[pyclass(frozen, module = "tablesync._tablesync")]
pub struct Cluster {
    inner: Driver,
}

impl Cluster {
    fn run<R: Send>(
        &self,
        py: Python<'_>,
        f: impl FnOnce(&Driver) -> tablesync::Result<R> + Send,
    ) -> PyResult<R> {
        py.detach(|| f(&self.inner)).py()
    }
}

#[pymethods]
impl Cluster {
    #[new]
    #[pyo3(signature = (map_or_url, *, token, local_dc=None, ca_file=None, attempts=5, write_timeout=10.0, seed=None))]
    #[allow(clippy::too_many_arguments)]
    fn py_new(
        py: Python<'_>,
        map_or_url: &Bound<'_, PyAny>,
        token: String,
        local_dc: Option<String>,
        ca_file: Option<PathBuf>,
        attempts: usize,
        write_timeout: f64,
        seed: Option<u64>,
    ) -> PyResult<Self> {
        if !(write_timeout.is_finite() && write_timeout > 0.0) {
            return Err(invalid(
                "write_timeout must be a positive number of seconds",
            ));
        }
        let mut opts = ClusterOptions {
            local_dc: local_dc.unwrap_or_default(),
            attempts,
            write_timeout_ms: (write_timeout * 1000.0).ceil() as i64,
            ..ClusterOptions::default()
        };
        opts.client.ca_file = ca_file;
        opts.client.timeout = Duration::from_secs_f64(write_timeout.max(1.0) + 5.0);
        if let Some(s) = seed {
            opts.seed = s;
        }
        let source: Result<String, Vec<u8>> = if let Ok(b) = map_or_url.cast::<PyBytes>() {
            Err(b.as_bytes().to_vec())
        } else if let Ok(p) = map_or_url.extract::<PathBuf>() {
            let s = p.to_string_lossy().into_owned();
            if s.starts_with("http://") || s.starts_with("https://") {
                Ok(s)
            } else {
                Err(std::fs::read(&p).map_err(|e| {
                    invalid(format!("reading the cluster map {}: {e}", p.display()))
                })?)
            }
        } else {
            return Err(type_error(
                "map_or_url",
                "a region URL, a map file path or map bytes",
                map_or_url,
            ));
        };
        let inner = py
            .detach(move || match source {
                Ok(url) => Driver::connect(&url, &token, opts),
                Err(bytes) => Driver::with_map(ClusterMap::from_bytes(&bytes)?, &token, opts),
            })
            .py()?;
        Ok(Cluster { inner })
    }

    /// The epoch of the map the client routes by.
    #[getter]
    fn map_epoch(&self) -> u64 {
        self.inner.map().epoch
    }

    /// The map the client routes by, as its bytes (a `TSCM` frame).
    fn map_bytes<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.inner.map().to_bytes())
    }

    /// Ask every reachable region for its map and adopt the newest; returns
    /// the epoch held afterwards.
    fn refresh_map(&self, py: Python<'_>) -> PyResult<u64> {
        self.run(py, |c| c.refresh_map())
    }

    /// Push this client's map to every region of it (each installs it if
    /// newer); returns the names of the regions that did not take it.
    fn push_map(&self, py: Python<'_>) -> Vec<String> {
        py.detach(|| self.inner.push_map(&self.inner.map()))
    }

    /// Whether semi-sync writes to `table` are degraded to async.
    fn is_degraded(&self, table: &str) -> bool {
        self.inner.is_degraded(table)
    }

    /// Reads sent per datacenter by this client: `{name: count}`.
    fn requests_per_datacenter<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        for (k, v) in self.inner.requests_per_datacenter() {
            d.set_item(k, v)?;
        }
        Ok(d)
    }

    /// Replace a row at its home; acknowledged per `mode` (default: the
    /// table's). `condition`: a row-existence condition.
    #[pyo3(signature = (table, primary_key, columns=None, condition=None, *, mode=None))]
    fn put_row(
        &self,
        py: Python<'_>,
        table: &Bound<'_, PyAny>,
        primary_key: &Bound<'_, PyAny>,
        columns: Option<&Bound<'_, PyAny>>,
        condition: Option<&Bound<'_, PyAny>>,
        mode: Option<&str>,
    ) -> PyResult<ClusterWrite> {
        let table = str_from_py(table, "table name")?;
        let pk = pk_from_py(primary_key)?;
        let cols = columns_from_py(columns, "columns")?;
        let opts = WriteOptions {
            mode: mode_from_py(mode)?,
            condition: existence_from_py(condition)?,
        };
        let w = self.run(py, move |c| c.put(&table, pk, cols, opts))?;
        Ok(w.into())
    }

    /// Change columns of a row (no increments: they would not replay to
    /// the same value on every replica).
    #[pyo3(signature = (table, primary_key, put=None, delete=None, delete_all=None, condition=None, *, mode=None))]
    #[allow(clippy::too_many_arguments)]
    fn update_row(
        &self,
        py: Python<'_>,
        table: &Bound<'_, PyAny>,
        primary_key: &Bound<'_, PyAny>,
        put: Option<&Bound<'_, PyAny>>,
        delete: Option<&Bound<'_, PyAny>>,
        delete_all: Option<&Bound<'_, PyAny>>,
        condition: Option<&Bound<'_, PyAny>>,
        mode: Option<&str>,
    ) -> PyResult<ClusterWrite> {
        let table = str_from_py(table, "table name")?;
        let pk = pk_from_py(primary_key)?;
        let update = row_update_from_py(put, delete, delete_all, None)?;
        let opts = WriteOptions {
            mode: mode_from_py(mode)?,
            condition: existence_from_py(condition)?,
        };
        let w = self.run(py, move |c| c.update(&table, pk, update, opts))?;
        Ok(w.into())
    }

    /// Delete a row.
    #[pyo3(signature = (table, primary_key, condition=None, *, mode=None))]
    fn delete_row(
        &self,
        py: Python<'_>,
        table: &Bound<'_, PyAny>,
        primary_key: &Bound<'_, PyAny>,
        condition: Option<&Bound<'_, PyAny>>,
        mode: Option<&str>,
    ) -> PyResult<ClusterWrite> {
        let table = str_from_py(table, "table name")?;
        let pk = pk_from_py(primary_key)?;
        let opts = WriteOptions {
            mode: mode_from_py(mode)?,
            condition: existence_from_py(condition)?,
        };
        let w = self.run(py, move |c| c.delete(&table, pk, opts))?;
        Ok(w.into())
    }

    /// Read a row at `level`: `"ONE"` (nearest healthy replica),
    /// `"LEADER"` (the home) or `"QUORUM"` (a majority, newest wins and is
    /// written back). `None` if it does not exist.
    #[pyo3(signature = (table, primary_key, level="ONE"))]
    fn get_row(
        &self,
        py: Python<'_>,
        table: &Bound<'_, PyAny>,
        primary_key: &Bound<'_, PyAny>,
        level: &str,
    ) -> PyResult<Option<Row>> {
        let table = str_from_py(table, "table name")?;
        let pk = pk_from_py(primary_key)?;
        let level = ReadLevel::parse_arg(level).py()?;
        let row = self.run(py, move |c| c.get(&table, &pk, level))?;
        Ok(row.map(Row::new))
    }

    /// One page of rows with keys in `[start, end)`, merged in key order
    /// across partitions. Bounds: `None` (unbounded), a dict of leading key
    /// columns, a list of leading key values, or the `bytes` that
    /// `next_start` gave. At most `limit` rows (1..=1000).
    #[pyo3(signature = (table, start=None, end=None, limit=100))]
    fn get_range(
        &self,
        py: Python<'_>,
        table: &Bound<'_, PyAny>,
        start: Option<&Bound<'_, PyAny>>,
        end: Option<&Bound<'_, PyAny>>,
        limit: usize,
    ) -> PyResult<RangePage> {
        let table = str_from_py(table, "table name")?;
        if !(1..=1000).contains(&limit) {
            return Err(invalid(format!("limit {limit}: expected 1..=1000")));
        }
        let s = range_bound_from_py(start, "start")?;
        let e = range_bound_from_py(end, "end")?;
        let (rows, next) = self.run(py, move |c| c.range_encoded(&table, &s, &e, limit))?;
        let list = PyList::empty(py);
        for r in rows {
            list.append(Bound::new(py, Row::new(r))?)?;
        }
        let next_start = match next {
            None => py.None(),
            Some(b) => PyBytes::new(py, &b).into_any().unbind(),
        };
        Ok(RangePage {
            rows: list.unbind(),
            next_start,
        })
    }

    /// Write several rows atomically (the dicts of `Database.batch_write`,
    /// no increments, row-existence conditions only): one partition home →
    /// one round; several → two-phase commit. Retries reuse the
    /// transaction id, so the batch applies at most once.
    fn batch_write(&self, py: Python<'_>, ops: &Bound<'_, PyAny>) -> PyResult<ClusterBatch> {
        if !is_seq(ops) {
            return Err(type_error("ops", "a list of operation dicts", ops));
        }
        let mut writes = Vec::new();
        for (i, op) in ops.try_iter()?.enumerate() {
            writes.push(row_write_from_op(write_op_from_py(&op?, i)?)?);
        }
        let o = self.run(py, move |c| c.batch(writes))?;
        Ok(ClusterBatch {
            committed: o.committed,
            reason: o.reason,
            txn: o.txn,
            participants: o.participants,
        })
    }

    fn __repr__(&self) -> String {
        let m = self.inner.map();
        format!(
            "Cluster(epoch={}, datacenters={:?})",
            m.epoch,
            m.datacenters
                .iter()
                .map(|d| d.name.as_str())
                .collect::<Vec<_>>()
        )
    }
}

/// Add `Cluster`, `ClusterWrite` and `ClusterBatch` to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Cluster>()?;
    m.add_class::<ClusterWrite>()?;
    m.add_class::<ClusterBatch>()?;
    Ok(())
}
