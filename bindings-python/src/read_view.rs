//! `Database.read_view()`: the region as of one moment, read on any thread
//! without the database's lock (issue 11 item 5). A writer's commits (and
//! their fsyncs) neither wait for a view's reads nor show through them: a
//! view sees exactly the commits before it was taken. Taking one costs a
//! reference count per table and page; a new view sees later commits.

use crate::batch_results::BatchGetResult;
use crate::change_page::ChangePage;
use crate::database::{
    batch_get_args, batch_get_results_to_py, change_page_to_py, changes_args, get_args,
    range_options, range_page_to_py, Database,
};
use crate::errors::IntoPyResult;
use crate::range_page::RangePage;
use crate::row::Row;
use crate::scan::{Scan, ScanSource};
use crate::table_description::TableDescription;
use crate::values::{bound_from_py, str_from_py};
use pyo3::prelude::*;
use tablesync::{Direction, RangeBound, RegionRead};

/// A consistent, read-only snapshot of a region (see `Database.read_view`).
#[pyclass(module = "tablesync._tablesync", frozen)]
pub struct ReadView {
    pub(crate) view: tablesync::ReadView,
}

impl ReadView {
    /// Wrap a core view.
    pub fn new(view: tablesync::ReadView) -> Self {
        ReadView { view }
    }

    /// Start and end bounds of a range read of `table` (`None` or a bare
    /// marker: every key column at that bound in `direction`).
    fn bounds(
        &self,
        table: &str,
        start: Option<&Bound<'_, PyAny>>,
        end: Option<&Bound<'_, PyAny>>,
        direction: Direction,
    ) -> PyResult<(RangeBound, RangeBound)> {
        let keys: Vec<String> = self
            .view
            .describe_table(table)
            .py()?
            .schema
            .primary_key
            .into_iter()
            .map(|c| c.name)
            .collect();
        Ok((
            bound_from_py(start, &keys, direction.first_bound())?,
            bound_from_py(end, &keys, direction.last_bound())?,
        ))
    }
}

#[pymethods]
impl ReadView {
    /// The region's name.
    #[getter]
    fn region(&self) -> String {
        self.view.region().to_string()
    }

    /// Whether `db` has committed nothing since this view was taken.
    fn is_current(&self, py: Python<'_>, db: &Database) -> PyResult<bool> {
        let view = &self.view;
        db.shared.run(py, false, |db| Ok(view.is_current(db)))
    }

    /// The tables, as of the view.
    fn list_tables(&self, py: Python<'_>) -> PyResult<Vec<String>> {
        py.detach(|| self.view.list_tables()).py()
    }

    /// Read one row, as `Database.get_row` does.
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
        let row = py.detach(|| self.view.get_row(&table, &pk, &opts)).py()?;
        Ok(row.map(Row::new))
    }

    /// Read up to 100 rows, as `Database.batch_get` does: one
    /// `BatchGetResult` each, in order, all as of the view.
    fn batch_get(
        &self,
        py: Python<'_>,
        requests: &Bound<'_, PyAny>,
    ) -> PyResult<Vec<BatchGetResult>> {
        let (parsed, tables) = batch_get_args(requests)?;
        let results = py.detach(|| self.view.batch_get(&parsed)).py()?;
        batch_get_results_to_py(py, results, tables)
    }

    /// Read one page of a key range, as `Database.get_range` does.
    #[pyo3(signature = (table, start=None, end=None, direction="FORWARD", limit=None, columns=None, max_versions=None, time_range=None, column_filter=None))]
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
        let (s, e) = self.bounds(&table, start, end, options.direction)?;
        let page = py
            .detach(|| self.view.get_range(&table, &s, &e, &options))
            .py()?;
        range_page_to_py(py, page)
    }

    /// Iterate every row of a range as of the view, page by page, as
    /// `Database.scan` does (defaults: the whole table; `limit` caps the
    /// rows yielded).
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
        let table = str_from_py(table, "table name")?;
        let options = range_options(
            slf.py(),
            direction,
            limit,
            [columns, max_versions, time_range, column_filter],
        )?;
        let (s, e) = slf.get().bounds(&table, start, end, options.direction)?;
        Ok(Scan::new(
            ScanSource::View(slf.clone().unbind()),
            table,
            s,
            e,
            options,
        ))
    }

    /// A table's schema, options and row count, as of the view.
    fn describe_table(&self, name: &Bound<'_, PyAny>) -> PyResult<TableDescription> {
        let name = str_from_py(name, "table name")?;
        let inner = self.view.describe_table(&name).py()?;
        Ok(TableDescription { inner })
    }

    /// `(row_count, digest_hex)` of the rows in `[start, end)`, as of the
    /// view (forward bounds; `None` means the whole table on that side).
    #[pyo3(signature = (table, start=None, end=None))]
    fn range_digest(
        &self,
        py: Python<'_>,
        table: &Bound<'_, PyAny>,
        start: Option<&Bound<'_, PyAny>>,
        end: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<(u64, String)> {
        let table = str_from_py(table, "table name")?;
        let (s, e) = self.bounds(&table, start, end, Direction::Forward)?;
        let d = py.detach(|| self.view.range_digest(&table, &s, &e)).py()?;
        Ok((d.rows, d.digest.to_hex()))
    }

    /// A table's digest (64 hex digits), as of the view.
    fn table_digest(&self, py: Python<'_>, table: &Bound<'_, PyAny>) -> PyResult<String> {
        let table = str_from_py(table, "table name")?;
        py.detach(|| self.view.table_digest(&table))
            .py()
            .map(|d| d.to_hex())
    }

    /// Change records with cursor ≥ `cursor`, at most `limit`, as of the view.
    #[pyo3(signature = (cursor=None, limit=None))]
    fn changes_since(
        &self,
        py: Python<'_>,
        cursor: Option<&Bound<'_, PyAny>>,
        limit: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<ChangePage> {
        let (cursor, limit) = changes_args(cursor, limit)?;
        let page = py.detach(|| self.view.changes_since(cursor, limit)).py()?;
        change_page_to_py(py, &page)
    }

    /// The cursor the region's next record gets, as of the view.
    fn next_cursor(&self) -> PyResult<u64> {
        self.view.next_cursor().py()
    }

    fn __repr__(&self) -> String {
        format!("ReadView(region={:?})", self.view.region())
    }
}
