//! `Database`: one region (in memory or durable in a directory).

use crate::apply_stats::ApplyStats;
use crate::batch::{get_request_from_py, op_table, write_op_from_py};
use crate::batch_results::{BatchGetResult, BatchResult};
use crate::change_page::ChangePage;
use crate::conditions::condition_from_py;
use crate::errors::{error_object, invalid, type_error, IntoPyResult};
use crate::markers::MarkerKind;
use crate::options::{
    columns_from_py, direction_from_py, get_options_from_py, is_seq, limit_from_py,
    max_versions_from_py, row_update_from_py, ttl_from_py,
};
use crate::range_page::RangePage;
use crate::records::{record_from_py, record_to_py};
use crate::row::Row;
use crate::scan::Scan;
use crate::server::Server;
use crate::shared::Shared;
use crate::sync_options::{config_from_py, max_frame_from_py, tables_from_py};
use crate::sync_report::SyncReport;
use crate::table_description::TableDescription;
use crate::values::{
    bound_from_py, int_from_py, pk_from_py, pk_to_py, py_repr, str_from_py, uint_from_py,
};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyString, PyTuple};
use std::ops::ControlFlow;
use std::sync::Arc;
use tablesync::{
    Clock, CopyProgress, Database as CoreDb, DatabaseOptions, Direction, ManualClock, PkColumn,
    PkType, RangeBound, RangeOptions, Retention, SyncPolicy, SystemClock, TableOptions,
    TableSchema,
};

/// One region: tables, change log and storage. Safe to share between
/// threads; long operations release the GIL. Use as a context manager or
/// call `close()`.
#[pyclass(frozen, module = "tablesync._tablesync")]
pub struct Database {
    pub(crate) shared: Shared,
    region: String,
    durable: bool,
    manual_clock: Option<ManualClock>,
    /// The directory of a durable region (`serve(peers=...)` keeps its
    /// link cursors and group state there).
    dir: Option<std::path::PathBuf>,
}

/// `peers=`: a dict `{name: url}` or a sequence of `"NAME=URL"`.
fn peers_from_py(peers: Option<&Bound<'_, PyAny>>) -> PyResult<Vec<tablesync_replicate::PeerSpec>> {
    let Some(p) = peers.filter(|p| !p.is_none()) else {
        return Ok(Vec::new());
    };
    let items: Vec<String> = if let Ok(d) = p.cast::<pyo3::types::PyDict>() {
        let mut v = Vec::new();
        for (k, u) in d.iter() {
            v.push(format!(
                "{}={}",
                k.extract::<String>()?,
                u.extract::<String>()?
            ));
        }
        v
    } else {
        p.extract::<Vec<String>>()
            .map_err(|_| invalid("peers must be a dict {name: url} or a list of 'NAME=URL'"))?
    };
    items
        .iter()
        .map(|s| tablesync_replicate::PeerSpec::parse(s).py())
        .collect()
}

/// The clock for `clock=`: `None` → the system clock; an int → a manual
/// clock starting at that many ms (moved with `set_time` / `advance_time`).
fn clock_from_py(
    clock: Option<&Bound<'_, PyAny>>,
) -> PyResult<(Arc<dyn Clock>, Option<ManualClock>)> {
    match clock.filter(|c| !c.is_none()) {
        None => Ok((Arc::new(SystemClock), None)),
        Some(c) => {
            let ms = int_from_py(c, "clock")?;
            if ms < 0 {
                return Err(invalid("clock must be ≥ 0 ms"));
            }
            let m = ManualClock::new(ms);
            Ok((Arc::new(m.clone()), Some(m)))
        }
    }
}

fn pk_columns_from_py(obj: &Bound<'_, PyAny>) -> PyResult<Vec<PkColumn>> {
    if obj.is_instance_of::<PyString>() || !is_seq(obj) {
        return Err(type_error(
            "primary_key",
            "a list of (name, type) tuples",
            obj,
        ));
    }
    let mut out = Vec::new();
    for item in obj.try_iter()? {
        let item = item?;
        let n = if is_seq(&item) { item.len()? } else { 0 };
        if n != 2 && n != 3 {
            return Err(PyTypeError::new_err(
                "each primary-key column must be (name, type) or (name, \"INTEGER\", PK_AUTO_INCR)",
            ));
        }
        let name = str_from_py(&item.get_item(0)?, "a primary-key column name")?;
        let ty_s = str_from_py(&item.get_item(1)?, "a primary-key column type")?;
        let ty = PkType::parse(&ty_s).ok_or_else(|| {
            invalid(format!(
                "primary-key column '{name}': unknown type {ty_s:?} (INTEGER, STRING or BINARY)"
            ))
        })?;
        let auto = if n == 3 {
            let flag = item.get_item(2)?;
            let is_auto = flag
                .cast::<crate::markers::KeyMarker>()
                .is_ok_and(|m| m.get().kind == MarkerKind::AutoIncrement)
                || flag
                    .extract::<String>()
                    .is_ok_and(|s| s.eq_ignore_ascii_case("AUTO_INCREMENT") || s == "PK_AUTO_INCR");
            if !is_auto {
                return Err(invalid(format!(
                    "primary-key column '{name}': the third item may only be PK_AUTO_INCR"
                )));
            }
            true
        } else {
            false
        };
        out.push(PkColumn {
            name,
            pk_type: ty,
            auto_increment: auto,
        });
    }
    Ok(out)
}

/// A `Database` argument (`other=` of the sync methods).
fn database_arg<'py>(obj: &Bound<'py, PyAny>, what: &str) -> PyResult<Bound<'py, Database>> {
    obj.cast::<Database>()
        .cloned()
        .map_err(|_| type_error(what, "a tablesync.Database", obj))
}

impl Database {
    /// Wrap a core database that uses the system clock.
    pub(crate) fn from_core(db: CoreDb) -> Self {
        Self::wrap(db, None)
    }

    fn wrap(db: CoreDb, manual_clock: Option<ManualClock>) -> Self {
        Database {
            region: db.region().to_string(),
            durable: db.is_durable(),
            shared: Shared::new(db),
            manual_clock,
            dir: None,
        }
    }

    /// The key column names of a table (for `None` / bare marker bounds).
    pub(crate) fn key_columns(&self, py: Python<'_>, table: &str) -> PyResult<Vec<String>> {
        let table = table.to_string();
        self.shared.run(py, false, move |db| {
            Ok(db
                .describe_table(&table)?
                .schema
                .primary_key
                .into_iter()
                .map(|c| c.name)
                .collect())
        })
    }

    /// Start and end bounds of a range read; `None` means "the whole table"
    /// in the direction.
    pub(crate) fn range_bounds(
        &self,
        py: Python<'_>,
        table: &str,
        start: Option<&Bound<'_, PyAny>>,
        end: Option<&Bound<'_, PyAny>>,
        direction: Direction,
    ) -> PyResult<(RangeBound, RangeBound)> {
        let cols = self.key_columns(py, table)?;
        Ok((
            bound_from_py(start, &cols, direction.first_bound())?,
            bound_from_py(end, &cols, direction.last_bound())?,
        ))
    }

    fn manual(&self) -> PyResult<&ManualClock> {
        self.manual_clock.as_ref().ok_or_else(|| {
            invalid("this database uses the system clock; pass clock=<ms> to get a manual one")
        })
    }
}

/// The optional read arguments of `get_row` and `get_range`: `columns`,
/// `max_versions` (default 1), `time_range`, `column_filter`.
pub(crate) type ReadArgs<'a, 'py> = [Option<&'a Bound<'py, PyAny>>; 4];

/// `get_row`'s arguments: table name, key and read options.
pub(crate) fn get_args(
    py: Python<'_>,
    table: &Bound<'_, PyAny>,
    primary_key: &Bound<'_, PyAny>,
    read: ReadArgs<'_, '_>,
) -> PyResult<(String, tablesync::PrimaryKey, tablesync::GetOptions)> {
    Ok((
        str_from_py(table, "table name")?,
        pk_from_py(primary_key)?,
        read_options(py, read)?,
    ))
}

fn read_options(
    py: Python<'_>,
    [columns, max_versions, time_range, column_filter]: ReadArgs<'_, '_>,
) -> PyResult<tablesync::GetOptions> {
    let one = 1i64.into_pyobject(py)?.into_any();
    let mv = max_versions.filter(|m| !m.is_none()).unwrap_or(&one);
    get_options_from_py(columns, mv, time_range, column_filter)
}

/// `get_range`'s direction, limit and read options.
pub(crate) fn range_options(
    py: Python<'_>,
    direction: &str,
    limit: Option<&Bound<'_, PyAny>>,
    read: ReadArgs<'_, '_>,
) -> PyResult<RangeOptions> {
    Ok(RangeOptions {
        direction: direction_from_py(direction)?,
        limit: limit_from_py(limit)?,
        read: read_options(py, read)?,
    })
}

/// A range page as Python sees it.
pub(crate) fn range_page_to_py(py: Python<'_>, page: tablesync::RangePage) -> PyResult<RangePage> {
    let rows = PyList::empty(py);
    for r in page.rows {
        rows.append(Bound::new(py, Row::new(r))?)?;
    }
    let next_start = match page.next_start {
        None => py.None(),
        Some(b) => crate::values::bound_to_py(py, &b)?.into_any().unbind(),
    };
    Ok(RangePage {
        rows: rows.unbind(),
        next_start,
    })
}

/// `changes_since`'s cursor (default 0: the oldest kept) and limit (default 1000).
pub(crate) fn changes_args(
    cursor: Option<&Bound<'_, PyAny>>,
    limit: Option<&Bound<'_, PyAny>>,
) -> PyResult<(u64, usize)> {
    let cursor = match cursor.filter(|c| !c.is_none()) {
        None => 0,
        Some(c) => uint_from_py(c, "cursor")?,
    };
    let limit = match limit.filter(|l| !l.is_none()) {
        None => 1000,
        Some(l) => {
            let v = int_from_py(l, "limit")?;
            usize::try_from(v).map_err(|_| invalid(format!("limit must be at least 1, got {v}")))?
        }
    };
    Ok((cursor, limit))
}

/// A change page as Python sees it.
pub(crate) fn change_page_to_py(
    py: Python<'_>,
    page: &tablesync::ChangePage,
) -> PyResult<ChangePage> {
    let records = PyList::empty(py);
    for r in &page.records {
        records.append(record_to_py(py, r)?)?;
    }
    Ok(ChangePage {
        records: records.unbind(),
        next_cursor: page.next_cursor,
    })
}

/// Apply the `max_clock_drift=` option (ms, ≥ 0; `None` keeps the default).
fn with_max_drift(
    opts: DatabaseOptions,
    max_clock_drift: Option<&Bound<'_, PyAny>>,
) -> PyResult<DatabaseOptions> {
    match max_clock_drift.filter(|b| !b.is_none()) {
        None => Ok(opts),
        Some(b) => {
            let ms = int_from_py(b, "max_clock_drift")?;
            if ms < 0 {
                return Err(invalid("max_clock_drift must be ≥ 0 ms"));
            }
            Ok(opts.max_clock_drift(ms))
        }
    }
}

#[pymethods]
impl Database {
    /// An in-memory region. `clock`: `None` for the system clock, or an int
    /// (ms since the epoch) to start a manual clock (tests, simulations).
    #[staticmethod]
    /// `max_clock_drift`: the largest lead in ms a remote stamp may have over
    /// this region's clock (default 60,000); records further ahead are
    /// refused (`ClockDrift`) and counted in `health()`.
    #[pyo3(signature = (region="a", *, clock=None, max_clock_drift=None))]
    fn memory(
        py: Python<'_>,
        region: &str,
        clock: Option<&Bound<'_, PyAny>>,
        max_clock_drift: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let (c, manual) = clock_from_py(clock)?;
        let opts = with_max_drift(DatabaseOptions::with_clock(region, c), max_clock_drift)?;
        let db = py.detach(|| CoreDb::memory(opts)).py()?;
        Ok(Self::wrap(db, manual))
    }

    /// A durable region in directory `path` (created if missing), recovered
    /// from its checkpoint and log. `sync`: `"always"` (fsync every commit),
    /// `"batch"` (group commit) or `"never"`.
    #[staticmethod]
    /// `max_clock_drift` as for `memory()`.
    /// `cache_bytes`: the page cache (default 256 MiB); the rows live on
    /// disk in a page store and at most about this much of them in memory
    /// (a directory made by an older version is converted on open).
    /// `rows_in_memory=True` keeps every row of a directory that is not
    /// paged yet in memory instead (whole checkpoints, directory format 4).
    #[pyo3(signature = (path, region="a", sync="always", *, clock=None, checkpoint_bytes=None, max_clock_drift=None, cache_bytes=None, rows_in_memory=false))]
    #[allow(clippy::too_many_arguments)]
    fn open(
        py: Python<'_>,
        path: std::path::PathBuf,
        region: &str,
        sync: &str,
        clock: Option<&Bound<'_, PyAny>>,
        checkpoint_bytes: Option<&Bound<'_, PyAny>>,
        max_clock_drift: Option<&Bound<'_, PyAny>>,
        cache_bytes: Option<&Bound<'_, PyAny>>,
        rows_in_memory: bool,
    ) -> PyResult<Self> {
        let policy = SyncPolicy::parse(sync).ok_or_else(|| {
            invalid(format!(
                "sync must be \"always\", \"batch\" or \"never\", got {sync:?}"
            ))
        })?;
        let (c, manual) = clock_from_py(clock)?;
        let mut opts =
            with_max_drift(DatabaseOptions::with_clock(region, c), max_clock_drift)?.sync(policy);
        if let Some(b) = checkpoint_bytes.filter(|b| !b.is_none()) {
            let n = uint_from_py(b, "checkpoint_bytes")?;
            if n == 0 {
                return Err(invalid("checkpoint_bytes must be at least 1"));
            }
            opts = opts.checkpoint_bytes(n);
        }
        let cache_bytes = cache_bytes.filter(|b| !b.is_none());
        if rows_in_memory {
            if cache_bytes.is_some() {
                return Err(invalid("give cache_bytes or rows_in_memory=True, not both"));
            }
            opts = opts.rows_in_memory();
        } else if let Some(b) = cache_bytes {
            opts = opts.cache_bytes(uint_from_py(b, "cache_bytes")?);
        }
        let db = py.detach(|| CoreDb::open(&path, opts)).py()?;
        let mut d = Self::wrap(db, manual);
        d.dir = Some(path);
        Ok(d)
    }

    /// An in-memory region restored from `export_snapshot()` bytes.
    #[staticmethod]
    #[pyo3(signature = (data, *, clock=None))]
    fn import_snapshot(
        py: Python<'_>,
        data: &Bound<'_, PyAny>,
        clock: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let bytes: Vec<u8> = if let Ok(b) = data.cast::<PyBytes>() {
            b.as_bytes().to_vec()
        } else if let Ok(b) = data.cast::<pyo3::types::PyByteArray>() {
            b.to_vec()
        } else {
            return Err(type_error("snapshot data", "bytes or bytearray", data));
        };
        let (c, manual) = clock_from_py(clock)?;
        let db = py.detach(|| CoreDb::import_snapshot(&bytes, c)).py()?;
        Ok(Self::wrap(db, manual))
    }

    /// The region's name.
    #[getter]
    fn region(&self) -> &str {
        &self.region
    }

    /// Whether the database lives in a directory (survives the process).
    #[getter]
    fn is_durable(&self) -> bool {
        self.durable
    }

    /// Whether `close()` was called.
    #[getter]
    fn closed(&self, py: Python<'_>) -> bool {
        matches!(
            self.shared.run_raw(py, false, |_| Ok(())),
            Err(crate::shared::Failure::Core(tablesync::Error::Closed))
        )
    }

    /// Flush, release the directory and refuse further calls. Idempotent.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        self.shared.close(py).map_err(|f| f.into_py_err())
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (*_args))]
    fn __exit__(&self, py: Python<'_>, _args: &Bound<'_, PyTuple>) -> PyResult<bool> {
        self.close(py)?;
        Ok(false)
    }

    /// A paged region's cache and last checkpoint (a dict: `cache_bytes`,
    /// `resident_bytes`, `spare_bytes`, `index_bytes`, `page_budget`,
    /// `page_loads`, `checkpoint_pages`,
    /// `checkpoint_bytes`, `log_records_in_memory`, `log_records_in_store`);
    /// `None` when the rows are all in memory.
    fn paged_stats<'py>(
        &self,
        py: Python<'py>,
    ) -> PyResult<Option<Bound<'py, pyo3::types::PyDict>>> {
        let stats = self.shared.run(py, false, |db| Ok(db.paged_stats()))?;
        stats
            .map(|s| {
                let d = pyo3::types::PyDict::new(py);
                d.set_item("cache_bytes", s.cache_bytes)?;
                d.set_item("resident_bytes", s.resident_bytes)?;
                d.set_item("spare_bytes", s.spare_bytes)?;
                d.set_item("index_bytes", s.index_bytes)?;
                d.set_item("page_budget", s.page_budget)?;
                d.set_item("page_loads", s.page_loads)?;
                d.set_item("checkpoint_pages", s.checkpoint_pages)?;
                d.set_item("checkpoint_bytes", s.checkpoint_bytes)?;
                d.set_item("log_records_in_memory", s.log_records_in_memory)?;
                d.set_item("log_records_in_store", s.log_records_in_store)?;
                Ok(d)
            })
            .transpose()
    }

    /// Refusals of peer input and background failures since opening.
    fn health(&self, py: Python<'_>) -> PyResult<crate::health::Health> {
        self.shared
            .run(py, false, |db| Ok(crate::health::Health::new(db.health())))
    }

    /// The largest lead (ms) a remote stamp may have over this region's clock.
    #[getter]
    fn max_clock_drift(&self, py: Python<'_>) -> PyResult<i64> {
        self.shared.run(py, false, |db| Ok(db.max_clock_drift_ms()))
    }

    /// Force everything written so far to stable storage.
    fn flush(&self, py: Python<'_>) -> PyResult<()> {
        self.shared.run(py, true, |db| db.flush())
    }

    /// Write a checkpoint now (durable databases; a no-op in memory).
    fn checkpoint(&self, py: Python<'_>) -> PyResult<()> {
        self.shared.run(py, true, |db| db.checkpoint())
    }

    /// The clock's current time in ms.
    fn now_ms(&self, py: Python<'_>) -> PyResult<i64> {
        self.shared.run(py, false, |db| Ok(db.now_ms()))
    }

    /// Set a manual clock (`clock=` given at open) to `ms`.
    fn set_time(&self, ms: &Bound<'_, PyAny>) -> PyResult<()> {
        let ms = int_from_py(ms, "ms")?;
        if ms < 0 {
            return Err(invalid("time must be ≥ 0 ms"));
        }
        self.manual()?.set(ms);
        Ok(())
    }

    /// Move a manual clock forward by `ms`.
    fn advance_time(&self, ms: &Bound<'_, PyAny>) -> PyResult<()> {
        let ms = int_from_py(ms, "ms")?;
        if ms < 0 {
            return Err(invalid("a clock only moves forward"));
        }
        let clock = self.manual()?;
        let now = Clock::now_ms(clock);
        if now.checked_add(ms).is_none() {
            return Err(invalid("the clock would overflow"));
        }
        clock.advance(ms);
        Ok(())
    }

    /// Create a table. `primary_key`: 1–4 `(name, type)` tuples with type
    /// `"INTEGER"`, `"STRING"` or `"BINARY"`; `(name, "INTEGER", PK_AUTO_INCR)`
    /// for an auto-increment column (not the first).
    #[pyo3(signature = (name, primary_key, max_versions=None, time_to_live=None))]
    fn create_table(
        &self,
        py: Python<'_>,
        name: &Bound<'_, PyAny>,
        primary_key: &Bound<'_, PyAny>,
        max_versions: Option<&Bound<'_, PyAny>>,
        time_to_live: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        let name = str_from_py(name, "table name")?;
        let mut options = TableOptions::default();
        if let Some(m) = max_versions.filter(|m| !m.is_none()) {
            options.max_versions = max_versions_from_py(m)?;
        }
        if let Some(t) = time_to_live.filter(|t| !t.is_none()) {
            options.time_to_live = ttl_from_py(t)?;
        }
        let schema = TableSchema {
            name,
            primary_key: pk_columns_from_py(primary_key)?,
            options,
        };
        self.shared
            .run(py, self.durable, move |db| db.create_table(schema))
    }

    /// A consistent snapshot of the region to read from any thread without
    /// this database's lock: reads on it never wait for a writer's commit
    /// (or its fsync) and never see one made after it was taken.
    fn read_view(&self, py: Python<'_>) -> PyResult<crate::read_view::ReadView> {
        let view = self.shared.run(py, false, |db| db.read_view())?;
        Ok(crate::read_view::ReadView::new(view))
    }

    /// Table names in order.
    fn list_tables(&self, py: Python<'_>) -> PyResult<Vec<String>> {
        self.shared.run(py, false, |db| db.list_tables())
    }

    /// A table's schema, options and row count.
    fn describe_table(
        &self,
        py: Python<'_>,
        name: &Bound<'_, PyAny>,
    ) -> PyResult<TableDescription> {
        let name = str_from_py(name, "table name")?;
        let inner = self
            .shared
            .run(py, false, move |db| db.describe_table(&name))?;
        Ok(TableDescription { inner })
    }

    /// Change `max_versions` and/or `time_to_live` (`None` keeps the current value).
    #[pyo3(signature = (name, max_versions=None, time_to_live=None))]
    fn update_table(
        &self,
        py: Python<'_>,
        name: &Bound<'_, PyAny>,
        max_versions: Option<&Bound<'_, PyAny>>,
        time_to_live: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        let name = str_from_py(name, "table name")?;
        let mv = max_versions
            .filter(|m| !m.is_none())
            .map(max_versions_from_py)
            .transpose()?;
        let ttl = time_to_live
            .filter(|t| !t.is_none())
            .map(ttl_from_py)
            .transpose()?;
        self.shared.run(py, self.durable, move |db| {
            let mut options = db.describe_table(&name)?.schema.options;
            if let Some(m) = mv {
                options.max_versions = m;
            }
            if let Some(t) = ttl {
                options.time_to_live = t;
            }
            db.update_table(&name, options)
        })
    }

    /// Delete a table and its rows.
    fn delete_table(&self, py: Python<'_>, name: &Bound<'_, PyAny>) -> PyResult<()> {
        let name = str_from_py(name, "table name")?;
        self.shared
            .run(py, self.durable, move |db| db.delete_table(&name))
    }

    /// Replace a row. `columns`: `{name: value}` or a list of `(name, value)`
    /// / `(name, value, timestamp_ms)`. Returns the primary key (with an
    /// auto-increment column filled in).
    #[pyo3(signature = (table, primary_key, columns=None, condition=None))]
    fn put_row<'py>(
        &self,
        py: Python<'py>,
        table: &Bound<'py, PyAny>,
        primary_key: &Bound<'py, PyAny>,
        columns: Option<&Bound<'py, PyAny>>,
        condition: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let table = str_from_py(table, "table name")?;
        let pk = pk_from_py(primary_key)?;
        let cols = columns_from_py(columns, "columns")?;
        let cond = condition_from_py(condition)?;
        let key = self.shared.run(py, self.durable, move |db| {
            db.put_row(&table, pk, cols, cond)
        })?;
        pk_to_py(py, &key)
    }

    /// Read one row; `None` if it does not exist or `column_filter` rejects it.
    #[pyo3(signature = (table, primary_key, columns=None, max_versions=None, time_range=None, column_filter=None))]
    #[allow(clippy::too_many_arguments)]
    fn get_row(
        &self,
        py: Python<'_>,
        table: &Bound<'_, PyAny>,
        primary_key: &Bound<'_, PyAny>,
        columns: Option<&Bound<'_, PyAny>>,
        max_versions: Option<&Bound<'_, PyAny>>,
        time_range: Option<&Bound<'_, PyAny>>,
        column_filter: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Option<Row>> {
        let (table, pk, opts) = get_args(
            py,
            table,
            primary_key,
            [columns, max_versions, time_range, column_filter],
        )?;
        let row = self
            .shared
            .run(py, false, move |db| db.get_row(&table, &pk, &opts))?;
        Ok(row.map(Row::new))
    }

    /// Change columns of a row (creating it if absent). `put` like `columns`
    /// of `put_row`; `delete`: `(name, timestamp)` pairs (one version each);
    /// `delete_all`: names; `increment`: `{name: by}` (INTEGER columns).
    #[pyo3(signature = (table, primary_key, put=None, delete=None, delete_all=None, increment=None, condition=None))]
    #[allow(clippy::too_many_arguments)]
    fn update_row<'py>(
        &self,
        py: Python<'py>,
        table: &Bound<'py, PyAny>,
        primary_key: &Bound<'py, PyAny>,
        put: Option<&Bound<'py, PyAny>>,
        delete: Option<&Bound<'py, PyAny>>,
        delete_all: Option<&Bound<'py, PyAny>>,
        increment: Option<&Bound<'py, PyAny>>,
        condition: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let table = str_from_py(table, "table name")?;
        let pk = pk_from_py(primary_key)?;
        let update = row_update_from_py(put, delete, delete_all, increment)?;
        let cond = condition_from_py(condition)?;
        let key = self.shared.run(py, self.durable, move |db| {
            db.update_row(&table, pk, update, cond)
        })?;
        pk_to_py(py, &key)
    }

    /// Delete a row.
    #[pyo3(signature = (table, primary_key, condition=None))]
    fn delete_row(
        &self,
        py: Python<'_>,
        table: &Bound<'_, PyAny>,
        primary_key: &Bound<'_, PyAny>,
        condition: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        let table = str_from_py(table, "table name")?;
        let pk = pk_from_py(primary_key)?;
        let cond = condition_from_py(condition)?;
        self.shared
            .run(py, self.durable, move |db| db.delete_row(&table, pk, cond))
    }

    /// Read one page of a key range. Forward: from `start` (inclusive) up to
    /// `end` (exclusive); backward: from `start` down to `end`. Bounds are
    /// key dicts whose values may be `INF_MIN` / `INF_MAX`; `None` or a bare
    /// marker means every key column at that bound.
    #[pyo3(signature = (table, start, end, direction="FORWARD", limit=None, columns=None, max_versions=None, time_range=None, column_filter=None))]
    #[allow(clippy::too_many_arguments)]
    fn get_range<'py>(
        &self,
        py: Python<'py>,
        table: &Bound<'py, PyAny>,
        start: Option<&Bound<'py, PyAny>>,
        end: Option<&Bound<'py, PyAny>>,
        direction: &str,
        limit: Option<&Bound<'py, PyAny>>,
        columns: Option<&Bound<'py, PyAny>>,
        max_versions: Option<&Bound<'py, PyAny>>,
        time_range: Option<&Bound<'py, PyAny>>,
        column_filter: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<RangePage> {
        let table = str_from_py(table, "table name")?;
        let options = range_options(
            py,
            direction,
            limit,
            [columns, max_versions, time_range, column_filter],
        )?;
        let (s, e) = self.range_bounds(py, &table, start, end, options.direction)?;
        let page = self
            .shared
            .run(py, true, move |db| db.get_range(&table, &s, &e, &options))?;
        range_page_to_py(py, page)
    }

    /// Iterate every row of a range, page by page (defaults: the whole
    /// table). `limit` caps the number of rows yielded.
    #[pyo3(signature = (table, start=None, end=None, direction="FORWARD", columns=None, max_versions=None, time_range=None, column_filter=None, limit=None))]
    #[allow(clippy::too_many_arguments)]
    fn scan(
        slf: &Bound<'_, Self>,
        table: &Bound<'_, PyAny>,
        start: Option<&Bound<'_, PyAny>>,
        end: Option<&Bound<'_, PyAny>>,
        direction: &str,
        columns: Option<&Bound<'_, PyAny>>,
        max_versions: Option<&Bound<'_, PyAny>>,
        time_range: Option<&Bound<'_, PyAny>>,
        column_filter: Option<&Bound<'_, PyAny>>,
        limit: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Scan> {
        let py = slf.py();
        let this = slf.get();
        let table = str_from_py(table, "table name")?;
        let options = range_options(
            py,
            direction,
            limit,
            [columns, max_versions, time_range, column_filter],
        )?;
        let (s, e) = this.range_bounds(py, &table, start, end, options.direction)?;
        Ok(Scan::new(
            crate::scan::ScanSource::Database(slf.clone().unbind()),
            table,
            s,
            e,
            options,
        ))
    }

    /// Up to 200 writes (dicts with `"op"`: `"put"`, `"update"` or `"delete"`,
    /// `"table"`, `"primary_key"`, and that operation's arguments). Each
    /// succeeds or fails on its own: one `BatchResult` per operation, in order.
    fn batch_write(&self, py: Python<'_>, ops: &Bound<'_, PyAny>) -> PyResult<Vec<BatchResult>> {
        if !is_seq(ops) {
            return Err(type_error("ops", "a list of operation dicts", ops));
        }
        let mut parsed = Vec::new();
        for (i, op) in ops.try_iter()?.enumerate() {
            parsed.push(write_op_from_py(&op?, i)?);
        }
        let tables: Vec<String> = parsed.iter().map(|o| op_table(o).to_string()).collect();
        let results = self
            .shared
            .run(py, true, move |db| db.batch_write(parsed))?;
        let mut out = Vec::with_capacity(results.len());
        for (r, table) in results.into_iter().zip(tables) {
            out.push(match r {
                Ok(pk) => BatchResult {
                    ok: true,
                    table,
                    primary_key: pk_to_py(py, &pk)?.into_any().unbind(),
                    error: py.None(),
                },
                Err(e) => BatchResult {
                    ok: false,
                    table,
                    primary_key: py.None(),
                    error: error_object(py, &e)?.unbind(),
                },
            });
        }
        Ok(out)
    }

    /// Read up to 100 rows (dicts `{"table", "primary_key", ...get_row
    /// options}` or `(table, primary_key)` pairs): one `BatchGetResult` each, in order.
    fn batch_get(
        &self,
        py: Python<'_>,
        requests: &Bound<'_, PyAny>,
    ) -> PyResult<Vec<BatchGetResult>> {
        let (parsed, tables) = batch_get_args(requests)?;
        let results = self.shared.run(py, true, move |db| db.batch_get(&parsed))?;
        batch_get_results_to_py(py, results, tables)
    }

    /// Copy a table's visible content into a new table `target_table` of this
    /// database, or of `target` (another `Database`). `progress(copied, total)`
    /// is called before the first row and after each committed chunk of up to
    /// 1000 rows; returning `False` cancels the copy with `Cancelled`, and
    /// raising cancels it and re-raises that exception. A cancelled copy keeps
    /// the chunks committed so far in the target table (none, and no table,
    /// when cancelled at the first call). Returns rows copied.
    #[pyo3(signature = (source, target_table, target=None, progress=None))]
    fn copy_table(
        slf: &Bound<'_, Self>,
        source: &Bound<'_, PyAny>,
        target_table: &Bound<'_, PyAny>,
        target: Option<&Bound<'_, PyAny>>,
        progress: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<u64> {
        let py = slf.py();
        let source = str_from_py(source, "source table name")?;
        let target_table = str_from_py(target_table, "target table name")?;
        let progress: Option<Py<PyAny>> = match progress.filter(|p| !p.is_none()) {
            None => None,
            Some(p) if p.is_callable() => Some(p.clone().unbind()),
            Some(p) => return Err(type_error("progress", "a callable", p)),
        };
        let target: Option<Bound<'_, Database>> = match target.filter(|t| !t.is_none()) {
            None => None,
            Some(t) => Some(
                t.cast::<Database>()
                    .map_err(|_| type_error("target", "a tablesync.Database", t))?
                    .clone(),
            ),
        };
        let mut callback_error: Option<PyErr> = None;
        let copied = {
            let err_slot = &mut callback_error;
            let mut report = move |p: CopyProgress| {
                let Some(cb) = progress.as_ref() else {
                    return ControlFlow::Continue(());
                };
                Python::attach(|py| match cb.call1(py, (p.copied, p.total)) {
                    Err(e) => {
                        *err_slot = Some(e);
                        ControlFlow::Break(())
                    }
                    // Exactly `False` cancels; `None` (no return) and anything else go on.
                    Ok(r) if r.bind(py).is(pyo3::types::PyBool::new(py, false)) => {
                        ControlFlow::Break(())
                    }
                    Ok(_) => ControlFlow::Continue(()),
                })
            };
            let this = slf.get();
            match &target {
                Some(t) if !this.shared.same(&t.get().shared) => {
                    Shared::run_pair(py, &this.shared, &t.get().shared, |a, b| {
                        a.copy_table_to(&source, b, &target_table, &mut report)
                    })
                }
                _ => this.shared.run(py, true, |db| {
                    db.copy_table(&source, &target_table, &mut report)
                }),
            }
        };
        if let Some(e) = callback_error {
            return Err(e);
        }
        copied
    }

    /// Back this region up into the repository directory `repo` (created,
    /// and encrypted under `passphrase` / `key_file` if given, when missing):
    /// incremental when an earlier backup can be continued, else full.
    #[pyo3(signature = (repo, tables=None, passphrase=None, *, key_file=None, full=false))]
    fn backup(
        &self,
        py: Python<'_>,
        repo: &str,
        tables: Option<Vec<String>>,
        passphrase: Option<&Bound<'_, PyAny>>,
        key_file: Option<std::path::PathBuf>,
        full: bool,
    ) -> PyResult<crate::backup::BackupInfo> {
        crate::backup::backup(py, &self.shared, repo, tables, passphrase, key_file, full)
    }

    /// The table's SHA-256 digest: 64 lowercase hex characters, O(1).
    fn table_digest(&self, py: Python<'_>, table: &Bound<'_, PyAny>) -> PyResult<String> {
        let table = str_from_py(table, "table name")?;
        self.shared
            .run(py, false, move |db| Ok(db.table_digest(&table)?.to_hex()))
    }

    /// Recompute the digest from every row and check it against the
    /// maintained one (`CorruptData` if they differ); returns it.
    fn verify_table_digest(&self, py: Python<'_>, table: &Bound<'_, PyAny>) -> PyResult<String> {
        let table = str_from_py(table, "table name")?;
        self.shared.run(py, true, move |db| {
            Ok(db.verify_table_digest(&table)?.to_hex())
        })
    }

    /// `(row_count, digest_hex)` of the rows in `[start, end)` (forward bounds;
    /// `None` means the whole table on that side).
    #[pyo3(signature = (table, start=None, end=None))]
    fn range_digest(
        &self,
        py: Python<'_>,
        table: &Bound<'_, PyAny>,
        start: Option<&Bound<'_, PyAny>>,
        end: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<(u64, String)> {
        let table = str_from_py(table, "table name")?;
        let (s, e) = self.range_bounds(py, &table, start, end, Direction::Forward)?;
        self.shared.run(py, true, move |db| {
            let d = db.range_digest(&table, &s, &e)?;
            Ok((d.rows, d.digest.to_hex()))
        })
    }

    /// Change records with cursor ≥ `cursor` (0: from the oldest kept), at most `limit`.
    #[pyo3(signature = (cursor=None, limit=None))]
    fn changes_since(
        &self,
        py: Python<'_>,
        cursor: Option<&Bound<'_, PyAny>>,
        limit: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<ChangePage> {
        let (cursor, limit) = changes_args(cursor, limit)?;
        let page = self
            .shared
            .run(py, true, move |db| db.changes_since(cursor, limit))?;
        change_page_to_py(py, &page)
    }

    /// `{origin region: highest contiguous sequence number}` this region holds.
    fn version_vector<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let vv = self.shared.run(py, false, |db| db.version_vector())?;
        let d = PyDict::new(py);
        for (k, v) in vv {
            d.set_item(k, v)?;
        }
        Ok(d)
    }

    /// The cursor the next change record will get.
    fn next_cursor(&self, py: Python<'_>) -> PyResult<u64> {
        self.shared.run(py, false, |db| db.next_cursor())
    }

    /// Merge change records (dicts as `changes_since` returns them) from any
    /// region, in any order; records already held are skipped. If any record
    /// is invalid, nothing is applied.
    fn apply_changes(&self, py: Python<'_>, records: &Bound<'_, PyAny>) -> PyResult<ApplyStats> {
        let items: Vec<Bound<'_, PyAny>> = if let Ok(page) = records.cast::<ChangePage>() {
            page.get().records.bind(py).iter().collect()
        } else if is_seq(records) {
            records.try_iter()?.collect::<PyResult<_>>()?
        } else {
            return Err(type_error(
                "records",
                "a list of change-record dicts",
                records,
            ));
        };
        let mut parsed = Vec::with_capacity(items.len());
        for r in &items {
            parsed.push(record_from_py(r)?);
        }
        let stats = self
            .shared
            .run(py, true, move |db| db.apply_changes(&parsed))?;
        Ok(ApplyStats {
            applied: stats.applied,
            skipped: stats.skipped,
        })
    }

    /// The whole region (tables, rows, change log, clocks) as bytes.
    fn export_snapshot<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        let bytes = self.shared.run(py, true, |db| db.export_snapshot())?;
        Ok(PyBytes::new(py, &bytes))
    }

    /// Drop every change record before `cursor`.
    fn truncate_log(&self, py: Python<'_>, cursor: &Bound<'_, PyAny>) -> PyResult<()> {
        let cursor = uint_from_py(cursor, "cursor")?;
        self.shared
            .run(py, self.durable, move |db| db.truncate_log(cursor))
    }

    /// How long the change log keeps records (`None`: no limit of that kind).
    #[pyo3(signature = (max_records=None, max_age_ms=None))]
    fn set_retention(
        &self,
        py: Python<'_>,
        max_records: Option<&Bound<'_, PyAny>>,
        max_age_ms: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        let max_records = max_records
            .filter(|m| !m.is_none())
            .map(|m| uint_from_py(m, "max_records"))
            .transpose()?;
        let max_age_ms = max_age_ms
            .filter(|m| !m.is_none())
            .map(|m| int_from_py(m, "max_age_ms"))
            .transpose()?;
        if max_age_ms.is_some_and(|a| a < 0) {
            return Err(invalid("max_age_ms must be ≥ 0"));
        }
        self.shared.run(py, false, move |db| {
            db.set_retention(Retention {
                max_records,
                max_age_ms,
            })
        })
    }

    /// Apply retention now; returns how many records were dropped.
    fn enforce_retention(&self, py: Python<'_>) -> PyResult<u64> {
        self.shared.run(py, true, |db| db.enforce_retention())
    }

    // ---- sync between regions ------------------------------------------

    /// Sync with another region of this process, this one initiating (the
    /// frames take the same encoding as over a network). `mode`: `"auto"`
    /// (incremental while the logs cover each other, else reconcile),
    /// `"incremental"`, `"full"`, `"hybrid"`, `"reconcile"` or `"verify"`;
    /// `direction`: `"pull"`, `"push"` or `"both"`; `tables`: names, or
    /// `None` for every table of both sides (missing tables are created).
    #[pyo3(signature = (other, mode="auto", direction="both", tables=None, max_frame_bytes=None, initial_symbols=None))]
    #[allow(clippy::too_many_arguments)]
    fn sync_with(
        &self,
        py: Python<'_>,
        other: &Bound<'_, PyAny>,
        mode: &str,
        direction: &str,
        tables: Option<&Bound<'_, PyAny>>,
        max_frame_bytes: Option<&Bound<'_, PyAny>>,
        initial_symbols: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<SyncReport> {
        let other = database_arg(other, "other")?;
        let cfg = config_from_py(
            py,
            mode,
            direction,
            tables,
            max_frame_bytes,
            initial_symbols,
            None,
        )?;
        let r = Shared::run_pair(py, &self.shared, &other.get().shared, move |a, b| {
            a.sync_with(b, cfg)
        })?;
        Ok(SyncReport::new(r))
    }

    /// Compare with another region: `.verified` and, per table, the
    /// `differing_keys`. No row moves on either side.
    #[pyo3(signature = (other, tables=None))]
    fn verify(
        &self,
        py: Python<'_>,
        other: &Bound<'_, PyAny>,
        tables: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<SyncReport> {
        let other = database_arg(other, "other")?;
        let tables = tables_from_py(tables)?;
        let r = Shared::run_pair(py, &self.shared, &other.get().shared, move |a, b| {
            a.verify_with(b, tables)
        })?;
        Ok(SyncReport::new(r))
    }

    /// Move only the differing rows (found by set reconciliation), both
    /// ways, until the digests match.
    #[pyo3(signature = (other, tables=None))]
    fn repair(
        &self,
        py: Python<'_>,
        other: &Bound<'_, PyAny>,
        tables: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<SyncReport> {
        let other = database_arg(other, "other")?;
        let tables = tables_from_py(tables)?;
        let r = Shared::run_pair(py, &self.shared, &other.get().shared, move |a, b| {
            a.repair_with(b, tables)
        })?;
        Ok(SyncReport::new(r))
    }

    /// Sync with a region served over HTTP (`Database.serve` or
    /// `tablesync serve`) at `url` with bearer `token`; same options as
    /// `sync_with`. The GIL and this database are free during network I/O.
    /// `ca_file` (PEM) trusts a private CA for an https:// server.
    #[pyo3(signature = (url, token, mode="auto", direction="both", tables=None, max_frame_bytes=None, initial_symbols=None, ca_file=None))]
    #[allow(clippy::too_many_arguments)]
    fn sync_url(
        &self,
        py: Python<'_>,
        url: &str,
        token: &str,
        mode: &str,
        direction: &str,
        tables: Option<&Bound<'_, PyAny>>,
        max_frame_bytes: Option<&Bound<'_, PyAny>>,
        initial_symbols: Option<&Bound<'_, PyAny>>,
        ca_file: Option<std::path::PathBuf>,
    ) -> PyResult<SyncReport> {
        let cfg = config_from_py(
            py,
            mode,
            direction,
            tables,
            max_frame_bytes,
            initial_symbols,
            None,
        )?;
        let r = crate::remote_sync::sync_url(py, &self.shared, url, token, ca_file, cfg)?;
        Ok(SyncReport::new(r))
    }

    /// Serve this database over HTTP on `listen` (`"HOST:PORT"`, port 0
    /// picks a free one) to clients presenting `token`; returns a running
    /// `Server`. The database stays usable from Python meanwhile.
    /// `tls_cert`/`tls_key` (PEM files) serve https://; `read_tokens` are
    /// bearer tokens that may only read; plain http off loopback needs
    /// `insecure_http=True`.
    ///
    /// `peers` (`{"eu": "http://…"}` or `["eu=http://…"]`) hosts one
    /// replication link and heartbeats per peer, with `link_trigger`,
    /// `link_direction`, `heartbeat` (e.g. `"100ms"`), `phi_threshold` and
    /// `group_primary`, as `tablesync serve --peer` (docs/SERVER.md "Links");
    /// in a voting group (three regions or more) `lease`, `grace` and
    /// `min_silence` (e.g. `"1s"`, `"1.5s"`) are `serve --lease`, `--grace`
    /// and `--min-silence`.
    /// A region opened with `Database.open(path)` keeps its link cursors and
    /// group state (epoch, primary, lost ranges) in `path`, so they survive
    /// a reopen; a memory region keeps them in memory. The peers get
    /// `token`; `ca_file` (PEM) trusts a private CA for https:// peers.
    #[pyo3(signature = (listen="127.0.0.1:0", *, token, max_body_bytes=None, tls_cert=None, tls_key=None, read_tokens=None, insecure_http=false, peers=None, link_trigger="realtime", link_direction="push", heartbeat="100ms", phi_threshold=8.0, group_primary=None, ca_file=None, lease=None, grace=None, min_silence=None))]
    #[allow(clippy::too_many_arguments)]
    fn serve(
        &self,
        py: Python<'_>,
        listen: &str,
        token: &str,
        max_body_bytes: Option<&Bound<'_, PyAny>>,
        tls_cert: Option<std::path::PathBuf>,
        tls_key: Option<std::path::PathBuf>,
        read_tokens: Option<Vec<String>>,
        insecure_http: bool,
        peers: Option<&Bound<'_, PyAny>>,
        link_trigger: &str,
        link_direction: &str,
        heartbeat: &str,
        phi_threshold: f64,
        group_primary: Option<String>,
        ca_file: Option<std::path::PathBuf>,
        lease: Option<&str>,
        grace: Option<&str>,
        min_silence: Option<&str>,
    ) -> PyResult<Server> {
        self.shared.run(py, false, |_| Ok(()))?;
        let tls = match (tls_cert, tls_key) {
            (Some(cert), Some(key)) => Some(tablesync_http::TlsFiles { cert, key }),
            (None, None) => None,
            _ => {
                return Err(pyo3::exceptions::PyValueError::new_err(
                    "tls_cert and tls_key go together",
                ))
            }
        };
        let cfg = tablesync_http::ServerConfig {
            listen: listen.to_string(),
            token: token.to_string(),
            tokens: read_tokens
                .unwrap_or_default()
                .into_iter()
                .map(|t| (t, tablesync_http::Access::ReadOnly))
                .collect(),
            max_body_bytes: max_frame_from_py(max_body_bytes)?,
            tls,
            insecure_http,
            ..tablesync_http::ServerConfig::default()
        };
        let specs = peers_from_py(peers)?;
        let arc = self.shared.arc();
        if specs.is_empty() {
            let handle = py.detach(move || tablesync_http::serve(arc, cfg)).py()?;
            return Ok(Server::new(handle));
        }
        let direction = tablesync::sync::SyncDirection::parse(link_direction).ok_or_else(|| {
            invalid(format!(
                "link_direction must be 'push', 'pull' or 'both', not {link_direction:?}"
            ))
        })?;
        let opts = tablesync_replicate::HostOptions {
            trigger: tablesync::replication::Trigger::parse(link_trigger).py()?,
            direction,
            heartbeat_ms: tablesync::replication::parse_duration_ms(heartbeat).py()?,
            phi_threshold,
            token: token.to_string(),
            group_primary,
            ca_file,
            lease_ms: lease
                .map(tablesync::replication::parse_duration_ms)
                .transpose()
                .py()?,
            grace_ms: grace
                .map(tablesync::replication::parse_duration_ms)
                .transpose()
                .py()?,
            min_silence_ms: min_silence
                .map(tablesync::replication::parse_duration_ms)
                .transpose()
                .py()?,
        };
        let dir = self.dir.clone();
        let (handle, host) = py
            .detach(move || {
                let host = tablesync_replicate::Host::start(dir, arc.clone(), specs, opts)?;
                let cfg = tablesync_http::ServerConfig {
                    hosting: Some(tablesync_http::Hosting(host.clone())),
                    ..cfg
                };
                match tablesync_http::serve(arc, cfg) {
                    Ok(h) => Ok((h, host)),
                    Err(e) => {
                        host.stop();
                        Err(e)
                    }
                }
            })
            .py()?;
        Ok(Server::with_host(handle, host))
    }

    /// Replicate to `target` (another `Database`, or an `http://` URL of a
    /// `tablesync serve` server with `token`) on a background thread;
    /// returns the running `Link`. `trigger`: `"realtime"`,
    /// `"delayed:300ms"`, `"periodic:10s"` or `"manual"`; `direction`:
    /// `"push"`, `"pull"` or `"both"`. Frames to a URL carry
    /// `X-Tablesync-Epoch`: `epoch`, or by default the epoch of the region
    /// group this region belongs to (its saved group state; 0 when none).
    /// A server whose region is in a group refuses (`StaleEpoch`) frames
    /// from an older epoch.
    #[pyo3(signature = (target, trigger="realtime", direction="push", tables=None, *, token="", name=None, epoch=None))]
    #[allow(clippy::too_many_arguments)]
    fn replicate(
        &self,
        py: Python<'_>,
        target: &Bound<'_, PyAny>,
        trigger: &str,
        direction: &str,
        tables: Option<Vec<String>>,
        token: &str,
        name: Option<String>,
        epoch: Option<u64>,
    ) -> PyResult<crate::link::Link> {
        use tablesync::replication::{LinkConfig, Trigger};
        use tablesync_replicate::{DriverOptions, LinkHandle, Peer};
        let trigger = Trigger::parse(trigger).py()?;
        let direction = tablesync::sync::SyncDirection::parse(direction).ok_or_else(|| {
            invalid(format!(
                "direction must be 'push', 'pull' or 'both', not {direction:?}"
            ))
        })?;
        let (peer, peer_region) = if let Ok(url) = target.extract::<String>() {
            let epoch = match (epoch, &self.dir) {
                (Some(e), _) => e,
                (None, Some(d)) => tablesync::replication::files::load_group(d)
                    .py()?
                    .map_or(0, |g| g.epoch),
                (None, None) => 0,
            };
            let remote = tablesync_http::HttpRemote::new(&url, token)
                .py()?
                .with_epoch(std::sync::Arc::new(std::sync::atomic::AtomicU64::new(
                    epoch,
                )));
            (Peer::Http(remote), url)
        } else {
            let other = database_arg(target, "target")?;
            if other.get().shared.same(&self.shared) {
                return Err(invalid("a region cannot replicate to itself"));
            }
            (
                Peer::Local(other.get().shared.arc()),
                other.get().region.clone(),
            )
        };
        let name = name.unwrap_or_else(|| {
            let clean: String = peer_region
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                        c
                    } else {
                        '_'
                    }
                })
                .take(100)
                .collect();
            format!("to-{clean}")
        });
        let config = LinkConfig::new(name, peer_region)
            .trigger(trigger)
            .direction(direction)
            .tables(tables);
        self.shared.run(py, false, |_| Ok(()))?;
        let src = self.shared.arc();
        let handle = py
            .detach(move || LinkHandle::spawn(src, peer, config, DriverOptions::default()))
            .py()?;
        Ok(crate::link::Link::new(handle))
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        let tables = self.shared.run_raw(py, false, |db| db.list_tables());
        match tables {
            Ok(t) => format!(
                "Database(region={}, durable={}, tables=[{}])",
                py_repr(py, &self.region),
                if self.durable { "True" } else { "False" },
                t.iter()
                    .map(|n| py_repr(py, n))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Err(_) => format!("Database(region={}, closed)", py_repr(py, &self.region)),
        }
    }
}

/// `batch_get`'s requests (a list of request dicts or `(table, primary_key)`
/// pairs), with each request's table name for its result.
pub(crate) fn batch_get_args(
    requests: &Bound<'_, PyAny>,
) -> PyResult<(Vec<tablesync::GetRequest>, Vec<String>)> {
    if !is_seq(requests) {
        return Err(type_error("requests", "a list of request dicts", requests));
    }
    let mut parsed = Vec::new();
    for (i, r) in requests.try_iter()?.enumerate() {
        parsed.push(get_request_from_py(&r?, i)?);
    }
    let tables = parsed.iter().map(|r| r.table.clone()).collect();
    Ok((parsed, tables))
}

/// `batch_get`'s results as `BatchGetResult`s, in request order.
pub(crate) fn batch_get_results_to_py(
    py: Python<'_>,
    results: Vec<tablesync::Result<Option<tablesync::Row>>>,
    tables: Vec<String>,
) -> PyResult<Vec<BatchGetResult>> {
    let mut out = Vec::with_capacity(results.len());
    for (r, table) in results.into_iter().zip(tables) {
        out.push(match r {
            Ok(row) => BatchGetResult {
                ok: true,
                table,
                row: match row {
                    Some(r) => Bound::new(py, Row::new(r))?.into_any().unbind(),
                    None => py.None(),
                },
                error: py.None(),
            },
            Err(e) => BatchGetResult {
                ok: false,
                table,
                row: py.None(),
                error: error_object(py, &e)?.unbind(),
            },
        });
    }
    Ok(out)
}
