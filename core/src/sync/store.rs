//! The narrow interface between the sync protocol and a region: what a
//! session reads from it and merges into it. The façade
//! ([`crate::client::Database`]) implements it, so the initiator and the
//! responder never reach into the database's fields.

use super::message::{ChangeBatch, Records, RowBytes, TableInfo};
use super::riblt::Symbol;
use super::rows::IdKind;
use crate::log::record::ChangeRecord;
use crate::log::version_vector::VersionVector;
use crate::model::error::{Error, Result};
use crate::model::schema::TableSchema;
use std::collections::HashSet;

/// A region as the sync protocol sees it. Every method that changes the
/// region validates what it is given and either applies all of it
/// durably or changes nothing.
pub trait SyncStore {
    /// `Err(Closed)` once the region is closed.
    fn check_open(&self) -> Result<()>;
    /// Milliseconds by the region's clock.
    fn now_ms(&self) -> i64;
    /// The region's name.
    fn region(&self) -> &str;
    /// Every record this region holds or held.
    fn version_vector(&self) -> &VersionVector;
    /// Records dropped from this region's log (by retention or truncation).
    fn dropped(&self) -> &VersionVector;
    /// Count an error caused by what the peer sent (metrics, health).
    fn note_peer_error(&self, e: &Error);

    /// Row counts and digests of the selected tables that exist here.
    fn table_infos(&self, tables: &Option<Vec<String>>) -> Vec<TableInfo>;
    /// Schemas of the selected tables that exist here.
    fn schemas(&self, tables: &Option<Vec<String>>) -> Vec<TableSchema>;
    /// The schema of one table (`NotFound` if it does not exist).
    fn schema(&self, table: &str) -> Result<&TableSchema>;
    /// Whether this region has table `name`.
    fn has_table(&self, name: &str) -> bool;
    /// Refuse selected schemas whose table exists here with another
    /// primary key (the check [`ensure_tables`](Self::ensure_tables)
    /// makes, without creating).
    fn check_table_keys(&self, schemas: &[TableSchema], tables: &Option<Vec<String>>)
        -> Result<()>;
    /// Create the selected tables this region lacks; a table that exists
    /// with another primary key is an error.
    fn ensure_tables(
        &mut self,
        schemas: &[TableSchema],
        tables: &Option<Vec<String>>,
    ) -> Result<()>;

    /// Whether this log still has every record a peer holding `peer` lacks.
    fn log_covers(&self, peer: &VersionVector) -> bool {
        self.dropped().is_covered_by(peer)
    }
    /// Records of the selected tables that `peer` lacks, up to about
    /// `max_bytes` encoded.
    fn changes_for(
        &self,
        peer: &VersionVector,
        tables: &Option<Vec<String>>,
        max_bytes: usize,
    ) -> Result<ChangeBatch>;
    /// Validate and apply a peer's records; returns how many were new.
    /// `encoded` is empty or holds each record's bytes as the frame carried
    /// them, which the store may keep instead of encoding the record again.
    fn apply_peer_records(&mut self, records: Vec<ChangeRecord>, encoded: &[&[u8]]) -> Result<u64>;
    /// Durably record `(origin, from, to)` ranges as held without log entries.
    fn mark_held(&mut self, entries: Vec<(String, u64, u64)>) -> Result<()>;

    /// Stored entries of a table, tombstones included.
    fn stored_count(&self, table: &str) -> Result<u64>;
    /// Encoded keys of the rows of a table that exist (not tombstones), in
    /// key order.
    fn existing_keys(&self, table: &str) -> Result<Vec<Vec<u8>>>;
    /// Reconcile symbols `[from, to)` of a table's row ids.
    fn symbols(&self, table: &str, kind: IdKind, from: usize, to: usize) -> Result<Vec<Symbol>>;
    /// Rows whose reconcile ids are in `ids`, in key order.
    fn rows_with_ids(&self, table: &str, ids: &HashSet<u64>, kind: IdKind)
        -> Result<Vec<RowBytes>>;
    /// Current rows under these keys (absent keys are skipped).
    fn rows_with_keys(&self, table: &str, keys: &[Vec<u8>]) -> Result<Vec<RowBytes>>;
    /// A page of rows after `after`, about `max_bytes` in size, and the key
    /// to continue after when there are more.
    fn rows_page(
        &self,
        table: &str,
        after: Option<&[u8]>,
        max_bytes: usize,
    ) -> Result<(Vec<RowBytes>, Option<Vec<u8>>)>;
    /// Validate and durably merge whole row states; returns rows merged.
    fn merge_rows(&mut self, table: &str, rows: Vec<RowBytes>) -> Result<u64>;
}

/// Apply a message's records through `db`: decoded records with the bytes
/// their frame carried (`spans`, possibly empty); records handed over in
/// encoded form (in process) are decoded here and keep their own bytes.
pub(crate) fn apply_records(
    db: &mut dyn SyncStore,
    records: Records,
    spans: &[&[u8]],
) -> Result<u64> {
    match records {
        Records::Decoded(v) => db.apply_peer_records(v, spans),
        Records::Encoded(page) => {
            let v = page.decode()?;
            let own: Vec<&[u8]> = page.iter().collect();
            db.apply_peer_records(v, &own)
        }
    }
}
