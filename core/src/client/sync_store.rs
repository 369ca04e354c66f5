//! The façade's side of sync: [`Database`] implements the protocol's
//! [`SyncStore`], the only way the initiator and the responder read from
//! and merge into a region, and runs in-process sessions.

use super::Database;
use crate::codec::key::decode_key;
use crate::codec::record_page::RecordPage;
use crate::log::record::ChangeRecord;
use crate::log::version_vector::VersionVector;
use crate::model::error::{Error, Result};
use crate::model::schema::TableSchema;
use crate::storage::WalEntry;
use crate::sync::message::{ChangeBatch, Records, RowBytes, TableInfo};
use crate::sync::riblt::{self, Symbol};
use crate::sync::rows::{ranges_to_vv, row_id, vv_minus, IdKind};
use crate::sync::{Initiator, SessionStep, SyncConfig, SyncMode, SyncReport, SyncStore};
use std::collections::HashSet;
use std::ops::Bound;

impl SyncStore for Database {
    fn check_open(&self) -> Result<()> {
        Database::check_open(self)
    }

    fn now_ms(&self) -> i64 {
        Database::now_ms(self)
    }

    fn region(&self) -> &str {
        Database::region(self)
    }

    fn version_vector(&self) -> &VersionVector {
        self.log.version_vector()
    }

    fn dropped(&self) -> &VersionVector {
        self.log.dropped()
    }

    fn note_peer_error(&self, e: &Error) {
        Database::note_peer_error(self, e)
    }

    fn schema(&self, table: &str) -> Result<&TableSchema> {
        Ok(&self.table(table)?.schema)
    }

    fn stored_count(&self, table: &str) -> Result<u64> {
        Ok(self.table(table)?.stored_count() as u64)
    }

    fn existing_keys(&self, table: &str) -> Result<Vec<Vec<u8>>> {
        Ok(self
            .table(table)?
            .iter()
            .filter(|(_, r)| r.digest.is_some())
            .map(|(k, _)| k.to_vec())
            .collect())
    }

    fn apply_peer_records(&mut self, records: Vec<ChangeRecord>, encoded: &[&[u8]]) -> Result<u64> {
        Ok(self.apply_peer_change_bytes(&records, encoded)?.applied)
    }

    fn mark_held(&mut self, entries: Vec<(String, u64, u64)>) -> Result<()> {
        Database::mark_held(self, entries)
    }

    fn merge_rows(&mut self, table: &str, rows: Vec<RowBytes>) -> Result<u64> {
        Database::merge_rows(self, table, rows)
    }

    /// Row counts and digests of the selected tables that exist here.
    fn table_infos(&self, tables: &Option<Vec<String>>) -> Vec<TableInfo> {
        self.tables
            .values()
            .filter(|t| tables.as_ref().is_none_or(|s| s.contains(&t.schema.name)))
            .map(|t| TableInfo {
                name: t.schema.name.clone(),
                rows: t.row_count(),
                stored: t.stored_count() as u64,
                digest: t.digest(),
                state_sum: t.state_sum(),
            })
            .collect()
    }

    /// Schemas of the selected tables that exist here.
    fn schemas(&self, tables: &Option<Vec<String>>) -> Vec<TableSchema> {
        self.tables
            .values()
            .filter(|t| tables.as_ref().is_none_or(|s| s.contains(&t.schema.name)))
            .map(|t| t.schema.clone())
            .collect()
    }

    /// Create the selected tables this region lacks; a table that exists
    /// with another primary key is an error.
    fn ensure_tables(
        &mut self,
        schemas: &[TableSchema],
        tables: &Option<Vec<String>>,
    ) -> Result<()> {
        for s in schemas {
            if tables.as_ref().is_some_and(|t| !t.contains(&s.name)) {
                continue;
            }
            match self.tables.get(&s.name) {
                Some(t) if t.schema.primary_key != s.primary_key => {
                    return Err(Error::Sync(format!(
                        "table '{}' has a different primary key on the other side",
                        s.name
                    )))
                }
                Some(_) => {}
                None => self.create_table(s.clone())?,
            }
        }
        Ok(())
    }

    /// Whether this region has table `name`.
    fn has_table(&self, name: &str) -> bool {
        self.tables.contains_key(name)
    }

    /// Refuse selected schemas whose table exists here with another primary
    /// key (the check [`ensure_tables`](Self::ensure_tables) makes, without creating).
    fn check_table_keys(
        &self,
        schemas: &[TableSchema],
        tables: &Option<Vec<String>>,
    ) -> Result<()> {
        for s in schemas {
            if tables.as_ref().is_some_and(|t| !t.contains(&s.name)) {
                continue;
            }
            if let Some(t) = self.tables.get(&s.name) {
                if t.schema.primary_key != s.primary_key {
                    return Err(Error::Sync(format!(
                        "table '{}' has a different primary key on the other side",
                        s.name
                    )));
                }
            }
        }
        Ok(())
    }

    /// Whether this log still has every record a peer holding `peer` lacks.
    fn log_covers(&self, peer: &VersionVector) -> bool {
        self.log.dropped().is_covered_by(peer)
    }

    /// Records of the selected tables that `peer` lacks, up to about `max_bytes` encoded.
    fn changes_for(
        &self,
        peer: &VersionVector,
        tables: &Option<Vec<String>>,
        max_bytes: usize,
    ) -> Result<ChangeBatch> {
        // Every logged record is in this region's version vector: a peer that
        // holds all of it lacks none of them, and the log need not be scanned.
        if self.log.version_vector().is_covered_by(peer) {
            return Ok(ChangeBatch {
                records: Records::default(),
                more: false,
            });
        }
        // The log keeps each record's encoding: the page copies those bytes
        // (they go into the frame as they are; nothing is decoded).
        let mut page = RecordPage::new();
        let mut size = 0usize;
        let mut more = false;
        // Every record: those a paged region keeps in its store are read
        // back a chunk at a time.
        self.log.records().visit_from(0, |r| {
            let wanted = tables
                .as_ref()
                .is_none_or(|t| t.iter().any(|n| n == r.table));
            if peer.contains(r.origin, r.seq) || !wanted {
                return Ok(std::ops::ControlFlow::Continue(()));
            }
            let n = r.bytes.len();
            if size + n > max_bytes && !page.is_empty() {
                more = true;
                return Ok(std::ops::ControlFlow::Break(()));
            }
            size += n;
            page.push(r.bytes);
            Ok(std::ops::ControlFlow::Continue(()))
        })?;
        Ok(ChangeBatch {
            records: Records::Encoded(page),
            more,
        })
    }

    /// Reconcile symbols `[from, to)` of a table: state-id symbols come from
    /// the table's incrementally kept cache when it covers them.
    fn symbols(&self, table: &str, kind: IdKind, from: usize, to: usize) -> Result<Vec<Symbol>> {
        let t = self.table(table)?;
        if kind == IdKind::State {
            if let Some(s) = t.state_symbols(from, to) {
                return Ok(s);
            }
        }
        Ok(riblt::encode(
            t.iter().map(|(k, r)| row_id(k, r, kind)),
            from,
            to,
        ))
    }

    /// Rows whose reconcile ids are in `ids`; state ids through the
    /// table's id index, content ids by a scan.
    fn rows_with_ids(
        &self,
        table: &str,
        ids: &HashSet<u64>,
        kind: IdKind,
    ) -> Result<Vec<RowBytes>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        if kind == IdKind::State {
            return Ok(self
                .table(table)?
                .rows_with_state_ids(ids)
                .into_iter()
                .map(|(k, r)| (k.to_vec(), r.state.to_vec()))
                .collect());
        }
        Ok(self
            .table(table)?
            .iter()
            .filter(|(k, r)| ids.contains(&row_id(k, *r, kind)))
            .map(|(k, r)| (k.to_vec(), r.state.to_vec()))
            .collect())
    }

    /// Current rows under these keys (absent keys are skipped).
    fn rows_with_keys(&self, table: &str, keys: &[Vec<u8>]) -> Result<Vec<RowBytes>> {
        let t = self.table(table)?;
        Ok(keys
            .iter()
            .filter_map(|k| t.stored(k).map(|r| (k.clone(), r.state.to_vec())))
            .collect())
    }

    /// A page of rows after `after`, about `max_bytes` in size.
    fn rows_page(
        &self,
        table: &str,
        after: Option<&[u8]>,
        max_bytes: usize,
    ) -> Result<(Vec<RowBytes>, Option<Vec<u8>>)> {
        let t = self.table(table)?;
        let lower = match after {
            Some(k) => Bound::Excluded(k),
            None => Bound::Unbounded,
        };
        let mut rows = Vec::new();
        let mut size = 0;
        let mut iter = t.range_from(lower).peekable();
        while let Some((k, r)) = iter.next() {
            size += k.len() + r.state.len() + 8;
            rows.push((k.to_vec(), r.state.to_vec()));
            if size >= max_bytes {
                let next = iter.peek().map(|_| k.to_vec());
                return Ok((rows, next));
            }
        }
        Ok((rows, None))
    }
}

impl Database {
    /// Validate and durably merge whole row states. Returns rows merged.
    /// Each state is checked like a record (names, sizes, timestamps, clock
    /// drift) before anything is written; one bad row refuses them all.
    pub fn merge_rows(&mut self, table: &str, rows: Vec<RowBytes>) -> Result<u64> {
        let t = self.table(table)?;
        for (k, st) in &rows {
            decode_key(&t.schema, k)?;
            self.check_remote_row(&t.schema, st)?;
        }
        if rows.is_empty() {
            return Ok(0);
        }
        let n = rows.len() as u64;
        self.commit_entries(vec![WalEntry::MergeRows {
            table: table.to_string(),
            rows,
        }])?;
        Ok(n)
    }

    /// Durably record `(origin, from, to)` ranges as held without log
    /// entries. Every range is checked first (non-empty, within
    /// [`MAX_SEQ`](crate::client::remote_checks::MAX_SEQ), no claim on this
    /// region's own records above its sequence); any bad one refuses all.
    pub(crate) fn mark_held(&mut self, entries: Vec<(String, u64, u64)>) -> Result<()> {
        for (o, from, to) in &entries {
            self.check_seq_claim(o, *from, *to)?;
        }
        self.commit_held(entries)
    }

    /// [`mark_held`](Self::mark_held) for a restore of this region's own
    /// backup: its own records may be claimed (the claim moves its sequence
    /// on); every other check still applies.
    pub(crate) fn mark_held_restored(&mut self, entries: Vec<(String, u64, u64)>) -> Result<()> {
        for (o, from, to) in &entries {
            if o != self.region() {
                self.check_seq_claim(o, *from, *to)?;
            } else if *from == 0 || from > to || *to > crate::client::remote_checks::MAX_SEQ {
                return Err(Error::invalid(format!(
                    "sequence range {from}..={to} of '{o}' is empty, starts at 0 or is too large"
                )));
            }
        }
        self.commit_held(entries)
    }

    fn commit_held(&mut self, entries: Vec<(String, u64, u64)>) -> Result<()> {
        let fresh = vv_minus(&ranges_to_vv(&entries), self.log.version_vector());
        if fresh.is_empty() {
            return Ok(());
        }
        self.commit_entries(vec![WalEntry::MarkHeld { entries: fresh }])
    }
}

impl Database {
    /// Sync with another in-process region, this one initiating. The frames
    /// go through the same encoding as over a network.
    pub fn sync_with(&mut self, remote: &mut Database, config: SyncConfig) -> Result<SyncReport> {
        let cap = config.max_frame_bytes;
        let mut session = Initiator::new(config);
        let mut step = session.start(self)?;
        loop {
            match step {
                SessionStep::Send(bytes) => {
                    let reply = crate::sync::respond(remote, &bytes, cap)?;
                    step = session.receive(self, &reply)?;
                }
                SessionStep::Done(report) => return Ok(report),
            }
        }
    }

    /// Compare two regions' tables and find the differing keys; moves no rows.
    pub fn verify_with(
        &mut self,
        remote: &mut Database,
        tables: Option<Vec<String>>,
    ) -> Result<SyncReport> {
        let config = SyncConfig {
            mode: SyncMode::Verify,
            tables,
            ..SyncConfig::default()
        };
        self.sync_with(remote, config)
    }

    /// Move only the differing rows, both ways, until the digests match.
    pub fn repair_with(
        &mut self,
        remote: &mut Database,
        tables: Option<Vec<String>>,
    ) -> Result<SyncReport> {
        let config = SyncConfig {
            mode: SyncMode::Reconcile,
            tables,
            ..SyncConfig::default()
        };
        self.sync_with(remote, config)
    }
}
