//! The narrow view of a region that backup reads from and restore writes
//! into. The client layer implements both for `Database`; the backup layer
//! never touches a database's fields.

use crate::digest::Digest;
use crate::log::record::ChangeRecord;
use crate::log::version_vector::VersionVector;
use crate::model::error::Result;
use crate::model::schema::TableSchema;

/// Called with each row: encoded key (§3) and encoded row state (§5).
pub type RowVisitor<'a> = dyn FnMut(&[u8], &[u8]) -> Result<()> + 'a;
/// Called with each row: encoded key (§3), encoded row state (§5) and the
/// state id of the two (§13.1).
pub type RowIdVisitor<'a> = dyn FnMut(&[u8], &[u8], u64) -> Result<()> + 'a;
/// Called with each record: cursor, stamp and encoding (§7).
pub type RecordVisitor<'a> = dyn FnMut(u64, u64, &[u8]) -> Result<()> + 'a;

/// What a backup reads, all at one consistent point (the caller holds the
/// region still while a backup runs: `&self` excludes writers).
pub trait BackupSource {
    /// Region name.
    fn backup_region(&self) -> Result<String>;
    /// Schemas of every table, in name order.
    fn backup_schemas(&self) -> Result<Vec<TableSchema>>;
    /// A table's digest and the number of rows that exist.
    fn backup_table_digest(&self, table: &str) -> Result<(Digest, u64)>;
    /// Every stored row of a table (tombstones included) in key order:
    /// encoded key (§3) and encoded row state (§5).
    fn backup_rows(&self, table: &str, each: &mut RowVisitor<'_>) -> Result<()>;
    /// [`backup_rows`](Self::backup_rows) with each row's state id
    /// ([`state_id`](crate::digest::state_id) of key and state);
    /// sources that keep the ids override this to skip rehashing.
    fn backup_rows_with_ids(&self, table: &str, each: &mut RowIdVisitor<'_>) -> Result<()> {
        self.backup_rows(table, &mut |k, st| {
            each(k, st, crate::digest::state_id(k, st))
        })
    }
    /// The stored rows at `keys` (encoded, ascending; keys without a stored
    /// row are skipped) with their state ids, in key order. Incrementals
    /// look up the keys the change log names here instead of scanning;
    /// sources with an index override the scanning default.
    fn backup_rows_at(
        &self,
        table: &str,
        keys: &[Vec<u8>],
        each: &mut RowIdVisitor<'_>,
    ) -> Result<()> {
        self.backup_rows_with_ids(table, &mut |k, st, id| {
            if keys.binary_search_by(|x| x.as_slice().cmp(k)).is_ok() {
                each(k, st, id)?;
            }
            Ok(())
        })
    }
    /// The wrapping sum of the state ids of a table's stored rows
    /// (tombstones included), when the source keeps it up to date; `None`
    /// (the default) makes every incremental scan the table.
    fn backup_state_sum(&self, _table: &str) -> Result<Option<u64>> {
        Ok(None)
    }
    /// `(first cursor kept, next cursor)` of the change log.
    fn backup_cursors(&self) -> Result<(u64, u64)>;
    /// Records with cursor ≥ `from` in cursor order: cursor, stamp, encoding (§7).
    /// `LogGap` if records from `from` on were dropped.
    fn backup_records(&self, from: u64, each: &mut RecordVisitor<'_>) -> Result<()>;
    /// Last HLC value handed out or observed.
    fn backup_hlc(&self) -> Result<u64>;
    /// Version vector (what the region holds) and dropped set.
    fn backup_version_vectors(&self) -> Result<(VersionVector, VersionVector)>;
}

/// What a restore writes into (a fresh region).
pub trait RestoreTarget {
    /// Create an empty table.
    fn restore_create_table(&mut self, schema: TableSchema) -> Result<()>;
    /// Merge stored rows `(key, row state)` into a table.
    fn restore_merge_rows(&mut self, table: &str, rows: Vec<(Vec<u8>, Vec<u8>)>) -> Result<()>;
    /// Apply change records (validated; nothing applied if one is invalid).
    fn restore_apply_records(&mut self, records: Vec<ChangeRecord>) -> Result<()>;
    /// Record that the effects of `vv`'s records arrived with rows.
    fn restore_mark_held(&mut self, vv: &VersionVector) -> Result<()>;
    /// A table's digest and existing row count.
    fn restore_table_digest(&self, table: &str) -> Result<(Digest, u64)>;
}
