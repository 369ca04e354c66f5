//! [`ReadView`]: a consistent snapshot of a region at one commit, owned, so
//! other threads read it while a writer commits (docs/ENGINE.md, issue 11
//! item 5).

use super::database::Database;
use super::region_read::{RegionRead, TableRead};
use crate::clock::Clock;
use crate::digest::Accumulator;
use crate::engine::pages::PageMap;
use crate::log::LogRecords;
use crate::model::error::{Error, Result};
use crate::model::schema::TableSchema;
use std::collections::BTreeMap;
use std::sync::Arc;

/// One table as a view holds it: schema, shared rows, running digest (the
/// reconcile caches — id index, symbols — stay with the database).
#[derive(Clone, Debug)]
struct TableView {
    schema: TableSchema,
    rows: Arc<PageMap>,
    acc: Accumulator,
}

/// A consistent, read-only snapshot of a region as of the last commit
/// before [`Database::read_view`]: every table's rows and digest and the
/// change log's records. It owns what it holds (`Send + Sync + 'static`,
/// no borrow of the database), so a thread can read it while another
/// writes to the database; it never changes afterwards.
///
/// It serves the reads of [`RegionRead`] — `get_row`, `get_range`, `scan`,
/// `batch_get`, `describe_table`, `table_digest`, `range_digest`,
/// `changes_since`, `log_since`, `next_cursor` — through the same code as
/// the database, so its answers are byte for byte the database's at the
/// commit it was taken at.
///
/// Cost: taking one is a reference count per table and per chunk of 256
/// log records plus a copy of each schema (no row or record byte copied).
/// While it lives, the first write to a table copies that table's page
/// index once (a reference count and a fence key per page) and each page
/// it touches; the first log append copies the last log chunk's entries.
///
/// ```
/// use tablesync::{
///     Column, Condition, Database, DatabaseOptions, PkColumn, PkType, PrimaryKey, RegionRead,
///     TableSchema,
/// };
/// let mut db = Database::memory(DatabaseOptions::new("us")).unwrap();
/// db.create_table(TableSchema::new("t", vec![PkColumn::new("k", PkType::Integer)]))
///     .unwrap();
/// let pk = PrimaryKey::new([("k", 1)]);
/// db.put_row("t", pk.clone(), vec![Column::new("v", 1)], Condition::ignore())
///     .unwrap();
/// let view = db.read_view().unwrap();
/// db.delete_row("t", pk.clone(), Condition::ignore()).unwrap();
/// // The view still holds the row; the database no longer does.
/// assert!(view.get_row("t", &pk, &Default::default()).unwrap().is_some());
/// assert!(db.get_row("t", &pk, &Default::default()).unwrap().is_none());
/// let other_thread = std::thread::spawn(move || view.changes_since(0, 10).unwrap());
/// assert_eq!(other_thread.join().unwrap().records.len(), 1);
/// ```
#[derive(Clone)]
pub struct ReadView {
    region: String,
    clock: Arc<dyn Clock>,
    tables: BTreeMap<String, TableView>,
    log: LogRecords,
}

impl std::fmt::Debug for ReadView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadView")
            .field("region", &self.region)
            .field("tables", &self.tables.keys().collect::<Vec<_>>())
            .field("next_cursor", &self.log.next_cursor())
            .finish()
    }
}

impl ReadView {
    /// The region's name.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// Whether `db` still holds exactly what this view holds (no commit
    /// changed a table, the table list or the log since it was taken): then
    /// the view answers every read as `db` would. O(tables): pages are
    /// copied on write, so an unchanged table still shares the view's rows.
    pub fn is_current(&self, db: &Database) -> bool {
        if db.is_closed()
            || db.tables.len() != self.tables.len()
            || db.log.next_cursor() != self.log.next_cursor()
            || db.log.first_cursor() != self.log.first_cursor()
            || db.log.len() != self.log.len()
        {
            return false;
        }
        db.tables.iter().zip(&self.tables).all(|((n, t), (vn, v))| {
            n == vn && t.schema == v.schema && Arc::ptr_eq(&t.shared_rows(), &v.rows)
        })
    }
}

impl Database {
    /// A consistent snapshot of the region as of now, owned and shareable
    /// between threads ([`ReadView`]); `DatabaseClosed` after close. Cheap:
    /// reference counts, no row or record bytes copied.
    pub fn read_view(&self) -> Result<ReadView> {
        self.check_open()?;
        Ok(ReadView {
            region: self.region.clone(),
            clock: self.clock.clone(),
            tables: self
                .tables
                .iter()
                .map(|(n, t)| {
                    let view = TableView {
                        schema: t.schema.clone(),
                        rows: t.shared_rows(),
                        acc: t.accumulator(),
                    };
                    (n.clone(), view)
                })
                .collect(),
            log: self.log.records().clone(),
        })
    }
}

impl RegionRead for ReadView {
    fn table_read(&self, name: &str) -> Result<TableRead<'_>> {
        let t = self
            .tables
            .get(name)
            .ok_or_else(|| Error::ObjectNotExist(format!("table '{name}' does not exist")))?;
        Ok(TableRead {
            schema: &t.schema,
            rows: &t.rows,
            acc: t.acc,
        })
    }

    fn log_records(&self) -> Result<&LogRecords> {
        Ok(&self.log)
    }

    fn list_tables(&self) -> Result<Vec<String>> {
        Ok(self.tables.keys().cloned().collect())
    }

    fn read_now_ms(&self) -> i64 {
        self.clock.now_ms()
    }
}
