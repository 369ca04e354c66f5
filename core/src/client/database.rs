//! The [`Database`] façade: one region's tables, log and storage.

use super::options::DatabaseOptions;
use super::types::Column;
use crate::clock::Clock;
use crate::codec::record::{put_record_parts, record_size, RecordParts};
use crate::log::hlc::{region_id, Hlc, Stamp};
use crate::log::record::{ChangeKind, ChangeRecord, ColumnOp, OpRef};
use crate::log::{ChangeLog, Retention};
use crate::model::error::{Error, Result};
use crate::model::primary_key::{PkValue, PrimaryKey};
use crate::model::schema::{TableOptions, TableSchema};
use crate::storage::{MemoryStorage, Storage, WalEntry};
use crate::table::Table;
use std::collections::BTreeMap;
use std::sync::Arc;

/// One region: tables, change log and storage.
///
/// Reads take `&self`; writes take `&mut self`. Share one between threads
/// behind a lock.
pub struct Database {
    pub(crate) region: String,
    pub(crate) region_id: u64,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) tables: BTreeMap<String, Table>,
    pub(crate) log: ChangeLog,
    pub(crate) storage: Box<dyn Storage>,
    pub(crate) retention: Retention,
    pub(crate) closed: bool,
    /// Region ids of origins seen, so applying records hashes each name once.
    pub(crate) origin_ids: std::collections::HashMap<String, u64>,
    /// Largest lead (ms) of a remote stamp over the clock.
    pub(crate) max_drift_ms: i64,
    /// Refusal and background-failure counters.
    pub(crate) health: super::remote_checks::HealthCounters,
    /// Asked before every local write (never for merged records).
    pub(crate) write_guard: Option<Arc<dyn WriteGuard>>,
    /// The log's next cursor when the last checkpoint was taken: a delta
    /// checkpoint holds the records from here on.
    pub(crate) checkpointed_cursor: u64,
    /// A paged region's page store state (rows on disk behind a cache).
    pub(crate) paged: Option<Box<super::paged::Paged>>,
}

/// A check run before every local write commits (put, update, delete,
/// batch write). Records merged from other regions are not checked: they
/// were accepted where they were written. Replication's epoch fence is one.
pub trait WriteGuard: Send + Sync {
    /// `Ok` to let the write commit; an error (e.g. `StaleEpoch`) refuses it.
    fn check(&self, now_ms: i64) -> Result<()>;
}

/// A local mutation waiting for its stamp.
pub(crate) struct Pending<'a> {
    pub table: &'a str,
    pub primary_key: PrimaryKey,
    /// Index of an auto-increment key column to fill from the stamp.
    pub auto_increment: Option<usize>,
    /// The encoded key (empty when an auto-increment value is still to come).
    pub key: Vec<u8>,
    pub kind: ChangeKind,
    pub ops: PendingOps<'a>,
}

/// A pending mutation's column operations.
pub(crate) enum PendingOps<'a> {
    /// A put's columns as the caller gave them (already validated); a
    /// column without a timestamp gets `now`. Nothing is copied: the record
    /// is encoded and the row built straight from these.
    Columns { columns: &'a [Column], now: i64 },
    /// Operations computed by the write (updates, copies).
    Owned(Vec<ColumnOp>),
}

impl PendingOps<'_> {
    /// The operations, borrowed.
    pub fn refs(&self) -> Vec<OpRef<'_>> {
        match self {
            PendingOps::Columns { columns, now } => columns
                .iter()
                .map(|c| OpRef::Put {
                    name: &c.name,
                    value: &c.value,
                    timestamp: c.timestamp.unwrap_or(*now),
                })
                .collect(),
            PendingOps::Owned(ops) => ops.iter().map(ColumnOp::as_op_ref).collect(),
        }
    }

    /// Whether any operation writes a value.
    pub fn has_put(&self) -> bool {
        match self {
            PendingOps::Columns { columns, .. } => !columns.is_empty(),
            PendingOps::Owned(ops) => ops.iter().any(|o| matches!(o, ColumnOp::Put { .. })),
        }
    }
}

/// A record ready to commit, borrowing everything it is made of.
pub(crate) struct Staged<'a> {
    pub origin: &'a str,
    pub origin_id: u64,
    pub seq: u64,
    pub hlc: u64,
    pub table: &'a str,
    pub kind: ChangeKind,
    pub primary_key: &'a PrimaryKey,
    /// The encoded key.
    pub key: &'a [u8],
    pub ops: Vec<OpRef<'a>>,
    /// The record's encoding when the caller already holds it (records
    /// applied from bytes); otherwise it is encoded once here.
    pub bytes: Option<Box<[u8]>>,
}

fn check_region(region: &str) -> Result<()> {
    if region.is_empty() || region.len() > 255 || region.chars().any(|c| c.is_control()) {
        return Err(Error::invalid(format!(
            "region name {region:?} must be 1–255 bytes without control characters"
        )));
    }
    Ok(())
}

impl Database {
    /// An in-memory region.
    pub fn memory(options: DatabaseOptions) -> Result<Database> {
        Self::with_storage(options, Box::new(MemoryStorage))
    }

    /// A durable region in `dir` (created if missing), recovered from its
    /// checkpoint and log. Fails with `StorageLocked` if another process has it.
    #[cfg(feature = "fs")]
    pub fn open(dir: impl AsRef<std::path::Path>, options: DatabaseOptions) -> Result<Database> {
        // Before the storage opens: a new directory's manifest records the name.
        check_region(&options.region)?;
        let storage = crate::storage::fs::FsStorage::open_region(
            dir.as_ref(),
            crate::storage::fs::FsOptions::new(options.sync, options.checkpoint_bytes)
                .cache_bytes(options.cache_bytes),
            &options.region,
            options.clock.now_ms(),
        )?;
        Self::with_storage(options, Box::new(storage))
    }

    /// A region over any [`Storage`]; recovers what the storage holds.
    pub fn with_storage(
        options: DatabaseOptions,
        mut storage: Box<dyn Storage>,
    ) -> Result<Database> {
        check_region(&options.region)?;
        if options.max_clock_drift_ms < 0 {
            return Err(Error::invalid("max_clock_drift_ms must not be negative"));
        }
        let recovered = storage.recover()?;
        let mut db = match recovered.snapshot {
            Some(bytes) => {
                let db = super::snapshot::decode(&bytes, options.clock.clone(), storage)?;
                if db.region != options.region {
                    return Err(Error::RegionMismatch(format!(
                        "this directory holds region '{}', not '{}'",
                        db.region, options.region
                    )));
                }
                db
            }
            None => Database {
                region_id: region_id(&options.region),
                region: options.region.clone(),
                clock: options.clock.clone(),
                tables: BTreeMap::new(),
                log: ChangeLog::new(),
                storage,
                retention: options.retention,
                closed: false,
                origin_ids: Default::default(),
                max_drift_ms: options.max_clock_drift_ms,
                health: Default::default(),
                write_guard: None,
                checkpointed_cursor: 1,
                paged: None,
            },
        };
        db.retention = options.retention;
        db.max_drift_ms = options.max_clock_drift_ms;
        let cache = options
            .cache_bytes
            .unwrap_or(crate::storage::DEFAULT_CACHE_BYTES);
        if let Some(pages) = recovered.pages {
            db.restore_paged(pages, cache)?;
        }
        for d in &recovered.deltas {
            db.apply_delta(d)?;
        }
        if db.storage.is_durable() && db.paged.is_none() {
            // Rows replayed from the log below are what the next (delta)
            // checkpoint must hold.
            db.changes_checkpointed();
        }
        for e in recovered.entries {
            db.replay(e)?;
        }
        if recovered.convert_to_pages {
            // Every row is in memory now (of the region this was opened
            // as): the first page checkpoint writes them all into a new
            // page store, and the directory is paged from then on.
            let pages = db.storage.begin_pages()?;
            db.start_paged(pages, cache);
            db.checkpoint_paged()?;
        } else if db.paged.is_some() && db.resident_page_bytes() as u64 > cache {
            // The replayed log dirtied more pages than the cache holds:
            // store them now so they can be evicted.
            db.checkpoint_paged()?;
        }
        db.storage.opened()?;
        Ok(db)
    }

    fn replay(&mut self, e: WalEntry) -> Result<()> {
        self.replay_keyed(e, None)
    }

    /// Apply one entry; `key` is the record's encoded key when the caller has it.
    fn replay_keyed(&mut self, e: WalEntry, key: Option<&[u8]>) -> Result<()> {
        match e {
            WalEntry::Record(rec) => {
                if rec.cursor != self.log.next_cursor() {
                    return Err(Error::corrupt(format!(
                        "log entry has cursor {}, expected {}",
                        rec.cursor,
                        self.log.next_cursor()
                    )));
                }
                self.apply_record_unlogged(&rec, key)?;
                self.log.append(&rec, &self.region);
            }
            WalEntry::RecordBytes { cursor, bytes } => {
                let rec = ChangeRecord {
                    cursor,
                    ..crate::codec::record::decode_record(&bytes)?
                };
                return self.replay_keyed(WalEntry::Record(rec), key);
            }
            WalEntry::CreateTable(s) => {
                let mut t = Table::new(s);
                if self.storage.is_durable() && self.paged.is_none() {
                    t.track_changes();
                }
                self.tables.insert(t.schema.name.clone(), t);
            }
            WalEntry::UpdateTable { name, options } => {
                if let Some(t) = self.tables.get_mut(&name) {
                    t.set_options(options)?;
                }
            }
            WalEntry::DeleteTable { name } => {
                self.tables.remove(&name);
            }
            WalEntry::TruncateLog { cursor } => self.log.truncate_before(cursor)?,
            WalEntry::MergeRows { table, rows } => {
                if let Some(t) = self.tables.get_mut(&table) {
                    let mut newest = 0;
                    for (k, st) in &rows {
                        let state = crate::codec::row_state::decode_row_state(st)?;
                        newest = newest.max(state.max_hlc());
                        t.merge_state(k, &state)?;
                    }
                    // Merged rows move the clock like records do, so a later
                    // local write is never stamped below a row it overwrites.
                    self.log.observe(newest);
                }
            }
            WalEntry::MarkHeld { entries } => {
                for (o, from, to) in &entries {
                    self.log.mark_held(o, *from, *to, &self.region);
                }
            }
            WalEntry::PurgeRows { table, keys } => {
                if let Some(t) = self.tables.get_mut(&table) {
                    for k in &keys {
                        t.purge(k)?;
                    }
                }
            }
        }
        Ok(())
    }

    /// Merge a record into its table (no logging). Records for unknown tables are ignored
    /// on replay (their table was deleted later in the log).
    pub(crate) fn apply_record_unlogged(
        &mut self,
        rec: &ChangeRecord,
        key: Option<&[u8]>,
    ) -> Result<()> {
        let origin = match self.origin_ids.get(&rec.origin) {
            Some(id) => *id,
            None => {
                let id = region_id(&rec.origin);
                self.origin_ids.insert(rec.origin.clone(), id);
                id
            }
        };
        let stamp = Stamp::new(rec.stamp, origin);
        if let Some(t) = self.tables.get_mut(&rec.table) {
            match key {
                Some(k) => t.apply(k, stamp, rec.kind, &rec.columns)?,
                None => {
                    let k = crate::codec::key::encode_key(&t.schema, &rec.primary_key)?;
                    t.apply(&k, stamp, rec.kind, &rec.columns)?
                }
            }
        }
        Ok(())
    }

    /// Install (or remove, with `None`) the check every local write passes
    /// first; see [`WriteGuard`].
    pub fn set_write_guard(&mut self, guard: Option<Arc<dyn WriteGuard>>) {
        self.write_guard = guard;
    }

    /// This region's name.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// This region's 64-bit id (breaks ties between equal HLC stamps).
    pub fn region_id(&self) -> u64 {
        self.region_id
    }

    /// The clock's current time (ms).
    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    /// Whether the database survives the process.
    pub fn is_durable(&self) -> bool {
        self.storage.is_durable()
    }

    pub(crate) fn check_open(&self) -> Result<()> {
        if self.closed {
            Err(Error::Closed)
        } else {
            Ok(())
        }
    }

    pub(crate) fn table(&self, name: &str) -> Result<&Table> {
        self.check_open()?;
        self.tables
            .get(name)
            .ok_or_else(|| Error::ObjectNotExist(format!("table '{name}' does not exist")))
    }

    /// What a table's row pages hold and take in memory (rows, pages, key
    /// and state bytes, bytes allocated): docs/ENGINE.md "Rows in pages".
    pub fn page_stats(&self, table: &str) -> Result<crate::engine::pages::PageStats> {
        Ok(self.table(table)?.page_stats())
    }

    /// Force everything written so far to stable storage.
    pub fn flush(&mut self) -> Result<()> {
        self.check_open()?;
        self.storage.flush()
    }

    /// Write a checkpoint now (durable databases; a no-op in memory): a
    /// delta holding only what changed since the last checkpoint when the
    /// storage allows one, else a full snapshot.
    pub fn checkpoint(&mut self) -> Result<()> {
        self.checkpoint_with(true)
    }

    /// Write a full checkpoint now (the whole region, replacing the deltas
    /// written since the last full one; a no-op in memory).
    pub fn checkpoint_full(&mut self) -> Result<()> {
        self.checkpoint_with(false)
    }

    fn checkpoint_with(&mut self, delta_ok: bool) -> Result<()> {
        self.check_open()?;
        if !self.storage.is_durable() {
            return Ok(());
        }
        if self.paged.is_some() {
            return self.checkpoint_paged();
        }
        let delta = if delta_ok && self.storage.delta_allowed() {
            self.export_delta()?
        } else {
            None
        };
        match delta {
            Some(d) => self.storage.checkpoint_delta(&d)?,
            None => {
                let snap = self.export_snapshot()?;
                self.storage.checkpoint(&snap)?;
            }
        }
        self.changes_checkpointed();
        Ok(())
    }

    /// Flush, release the directory lock and refuse further calls.
    pub fn close(&mut self) -> Result<()> {
        if self.closed {
            return Ok(());
        }
        // A paged region stores what changed since its last checkpoint
        // (as SQLite checkpoints its WAL on close): the next open then
        // replays nothing. A failure leaves it to the log, as before.
        let changed = self.log.next_cursor() > self.checkpointed_cursor
            || self.tables.values().any(|t| t.page_map().is_dirty());
        let paged = if self.paged.is_some() && changed {
            self.checkpoint_paged()
        } else {
            Ok(())
        };
        let r = self.storage.flush().and(paged);
        self.storage = Box::new(MemoryStorage);
        self.closed = true;
        r
    }

    /// Whether [`close`](Self::close) was called.
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// Append entries to storage, then run `apply` (which must not fail for
    /// validated input). Nothing changes if storage refuses.
    pub(crate) fn commit_entries(&mut self, entries: Vec<WalEntry>) -> Result<()> {
        self.commit_keyed(entries, Vec::new())
    }

    /// Like `commit_entries`, with the encoded keys of the first records when known.
    pub(crate) fn commit_keyed(
        &mut self,
        entries: Vec<WalEntry>,
        keys: Vec<Vec<u8>>,
    ) -> Result<()> {
        let now = self.now_ms();
        self.storage.append(&entries, now)?;
        let mut keys = keys.into_iter();
        for e in entries {
            let k = keys.next();
            self.replay_keyed(e, k.as_deref())?;
        }
        self.after_commit()
    }

    /// Background work after a durable commit: retention and automatic
    /// checkpoints. Their failures are counted in [`health`](Self::health),
    /// never returned: the write itself is durable, and reporting it as
    /// failed would make a caller retry (and apply an increment twice).
    pub(crate) fn after_commit(&mut self) -> Result<()> {
        if let Err(e) = self.background_work() {
            self.note_background_error(&e);
        }
        self.maybe_trim_cache();
        Ok(())
    }

    fn background_work(&mut self) -> Result<()> {
        let now = self.now_ms();
        let cut = self.log.retention_cut(&self.retention, now)?;
        let excess = cut.saturating_sub(self.log.first_cursor());
        // Truncate in steps so retention costs one log entry per step, not per write.
        let step = self.retention.max_records.map_or(1, |m| (m / 16).max(1));
        if excess >= step
            || (self.retention.max_age_ms.is_some()
                && excess > 0
                && self.retention.max_records.is_none())
        {
            let e = WalEntry::TruncateLog { cursor: cut };
            self.storage.append(std::slice::from_ref(&e), now)?;
            self.replay(e)?;
        }
        if self.storage.inline_checkpoint_due() {
            self.checkpoint()?;
        }
        Ok(())
    }

    /// Stamp, log and apply local mutations. Validation is the caller's; this
    /// fails only if storage does, and then changes nothing.
    pub(crate) fn commit_local(&mut self, mut items: Vec<Pending<'_>>) -> Result<Vec<PrimaryKey>> {
        let now = self.now_ms();
        if let Some(g) = &self.write_guard {
            g.check(now)?;
        }
        let mut hlc = Hlc::resume(self.log.hlc_last());
        let first_seq = self.log.local_seq() + 1;
        let mut stamps = Vec::with_capacity(items.len());
        for p in &mut items {
            let stamp = hlc.tick(now);
            stamps.push(stamp);
            if let Some(i) = p.auto_increment {
                p.primary_key.0[i].1 = PkValue::Integer(stamp as i64);
                let t = self.table(p.table)?;
                p.key = crate::codec::key::encode_key(&t.schema, &p.primary_key)?;
            }
        }
        let region = self.region.clone();
        let staged = items
            .iter()
            .zip(stamps)
            .enumerate()
            .map(|(i, (p, stamp))| Staged {
                origin: &region,
                origin_id: self.region_id,
                seq: first_seq + i as u64,
                hlc: stamp,
                table: p.table,
                kind: p.kind,
                primary_key: &p.primary_key,
                key: &p.key,
                ops: p.ops.refs(),
                bytes: None,
            })
            .collect();
        self.commit_staged(staged)?;
        Ok(items.into_iter().map(|p| p.primary_key).collect())
    }

    /// Encode each record once (unless it came encoded), append those bytes
    /// to storage, then merge each into its table and move its bytes into
    /// the change log. Nothing changes if storage refuses.
    pub(crate) fn commit_staged(&mut self, staged: Vec<Staged<'_>>) -> Result<()> {
        let now = self.now_ms();
        let first_cursor = self.log.next_cursor();
        let mut staged = staged;
        let mut entries = Vec::with_capacity(staged.len());
        for (cursor, s) in (first_cursor..).zip(staged.iter_mut()) {
            let bytes = match s.bytes.take() {
                Some(b) => b,
                None => {
                    let parts = RecordParts {
                        origin: s.origin,
                        seq: s.seq,
                        stamp: s.hlc,
                        table: s.table,
                        kind: s.kind,
                        primary_key: s.primary_key,
                    };
                    let mut out = Vec::with_capacity(record_size(&parts, s.key.len(), &s.ops));
                    put_record_parts(&mut out, &parts, &s.ops);
                    out.into_boxed_slice()
                }
            };
            entries.push(WalEntry::RecordBytes { cursor, bytes });
        }
        self.storage.append(&entries, now)?;
        for (s, e) in staged.iter().zip(entries) {
            // Every staged entry is `RecordBytes` (built just above).
            let WalEntry::RecordBytes { bytes, .. } = e else {
                continue;
            };
            if let Some(t) = self.tables.get_mut(s.table) {
                t.apply_refs(s.key, Stamp::new(s.hlc, s.origin_id), s.kind, &s.ops)?;
            }
            self.log
                .append_encoded(s.origin, s.seq, s.hlc, s.table, bytes, &self.region);
        }
        self.after_commit()
    }

    /// The 64-bit id of an origin region's name (hashed once per name).
    pub(crate) fn origin_id(&mut self, origin: &str) -> u64 {
        match self.origin_ids.get(origin) {
            Some(id) => *id,
            None => {
                let id = region_id(origin);
                self.origin_ids.insert(origin.to_string(), id);
                id
            }
        }
    }

    /// Create a table.
    pub fn create_table(&mut self, schema: TableSchema) -> Result<()> {
        self.check_open()?;
        schema.validate()?;
        if self.tables.contains_key(&schema.name) {
            return Err(Error::ObjectAlreadyExist(format!(
                "table '{}' already exists",
                schema.name
            )));
        }
        self.commit_entries(vec![WalEntry::CreateTable(schema)])
    }

    /// Table names in order.
    pub fn list_tables(&self) -> Result<Vec<String>> {
        self.check_open()?;
        Ok(self.tables.keys().cloned().collect())
    }

    /// A table's schema and row count.
    pub fn describe_table(&self, name: &str) -> Result<super::types::TableDescription> {
        super::region_read::RegionRead::describe_table(self, name)
    }

    /// Change a table's `max_versions` / `time_to_live`.
    pub fn update_table(&mut self, name: &str, options: TableOptions) -> Result<()> {
        self.table(name)?;
        options.validate()?;
        self.commit_entries(vec![WalEntry::UpdateTable {
            name: name.to_string(),
            options,
        }])
    }

    /// Delete a table and its rows (its records stay in the change log).
    pub fn delete_table(&mut self, name: &str) -> Result<()> {
        self.table(name)?;
        self.commit_entries(vec![WalEntry::DeleteTable {
            name: name.to_string(),
        }])
    }

    /// Set the change log's retention (applied from the next write on).
    pub fn set_retention(&mut self, retention: Retention) -> Result<()> {
        self.check_open()?;
        self.retention = retention;
        Ok(())
    }

    /// Apply retention now: drop every record it allows. Returns how many went.
    pub fn enforce_retention(&mut self) -> Result<u64> {
        self.check_open()?;
        let now = self.now_ms();
        let first = self.log.first_cursor();
        let cut = self.log.retention_cut(&self.retention, now)?;
        if cut > first {
            self.commit_entries(vec![WalEntry::TruncateLog { cursor: cut }])?;
        }
        Ok(cut.saturating_sub(first))
    }

    /// Drop every log record before `cursor` (they stop being available to
    /// `changes_since` and incremental sync).
    pub fn truncate_log(&mut self, cursor: u64) -> Result<()> {
        self.check_open()?;
        let cut = cursor.min(self.log.next_cursor());
        if cut > self.log.first_cursor() {
            self.commit_entries(vec![WalEntry::TruncateLog { cursor: cut }])?;
        }
        Ok(())
    }
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database")
            .field("region", &self.region)
            .field("tables", &self.tables.keys().collect::<Vec<_>>())
            .field("next_cursor", &self.log.next_cursor())
            .field("closed", &self.closed)
            .finish()
    }
}
