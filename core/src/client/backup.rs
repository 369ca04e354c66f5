//! `Database` as a backup source and restore target, and the façade
//! methods over the backup layer.

use super::database::Database;
use super::options::DatabaseOptions;
use crate::backup::{
    create_backup, restore, verify, BackupOptions, BackupOutcome, BackupSource, Progress,
    RecordVisitor, Repository, RestoreOptions, RestoreReport, RestoreTarget, RowIdVisitor,
    RowVisitor, VerifyOptions, VerifyReport,
};
use crate::clock::{Clock, ManualClock};
use crate::digest::Digest;
use crate::log::record::ChangeRecord;
use crate::log::version_vector::VersionVector;
use crate::model::error::{Error, Result};
use crate::model::schema::TableSchema;
use std::sync::Arc;

impl BackupSource for Database {
    fn backup_region(&self) -> Result<String> {
        self.check_open()?;
        Ok(self.region.clone())
    }
    fn backup_schemas(&self) -> Result<Vec<TableSchema>> {
        self.check_open()?;
        Ok(self.tables.values().map(|t| t.schema.clone()).collect())
    }
    fn backup_table_digest(&self, table: &str) -> Result<(Digest, u64)> {
        let t = self.table(table)?;
        Ok((t.digest(), t.row_count()))
    }
    fn backup_rows(&self, table: &str, each: &mut RowVisitor<'_>) -> Result<()> {
        for (k, row) in self.table(table)?.iter() {
            each(k, row.state)?;
        }
        Ok(())
    }
    fn backup_rows_with_ids(&self, table: &str, each: &mut RowIdVisitor<'_>) -> Result<()> {
        for (k, row) in self.table(table)?.iter() {
            each(k, row.state, row.state_id)?;
        }
        Ok(())
    }
    fn backup_rows_at(
        &self,
        table: &str,
        keys: &[Vec<u8>],
        each: &mut RowIdVisitor<'_>,
    ) -> Result<()> {
        let t = self.table(table)?;
        for k in keys {
            if let Some(row) = t.stored(k) {
                each(k, row.state, row.state_id)?;
            }
        }
        Ok(())
    }
    fn backup_state_sum(&self, table: &str) -> Result<Option<u64>> {
        Ok(Some(self.table(table)?.state_sum()))
    }
    fn backup_cursors(&self) -> Result<(u64, u64)> {
        self.check_open()?;
        Ok((self.log.first_cursor(), self.log.next_cursor()))
    }
    fn backup_records(&self, from: u64, each: &mut RecordVisitor<'_>) -> Result<()> {
        self.check_open()?;
        let first = self.log.first_cursor();
        if from < first && from < self.log.next_cursor() {
            return Err(Error::LogGap(format!(
                "records before cursor {first} were dropped (asked from {from})"
            )));
        }
        self.log.records().visit_from(from, |r| {
            each(r.cursor, r.stamp, r.bytes)?;
            Ok(std::ops::ControlFlow::Continue(()))
        })
    }
    fn backup_hlc(&self) -> Result<u64> {
        self.check_open()?;
        Ok(self.log.hlc_last())
    }
    fn backup_version_vectors(&self) -> Result<(VersionVector, VersionVector)> {
        self.check_open()?;
        Ok((
            self.log.version_vector().clone(),
            self.log.dropped().clone(),
        ))
    }
}

impl RestoreTarget for Database {
    fn restore_create_table(&mut self, schema: TableSchema) -> Result<()> {
        self.create_table(schema)
    }
    fn restore_merge_rows(&mut self, table: &str, rows: Vec<(Vec<u8>, Vec<u8>)>) -> Result<()> {
        self.merge_rows(table, rows).map(|_| ())
    }
    fn restore_apply_records(&mut self, records: Vec<ChangeRecord>) -> Result<()> {
        self.apply_changes_owned(records).map(|_| ())
    }
    fn restore_mark_held(&mut self, vv: &VersionVector) -> Result<()> {
        let mut ranges = Vec::new();
        for (o, n) in vv.contiguous() {
            if *n > 0 {
                ranges.push((o.clone(), 1, *n));
            }
        }
        for (o, held) in vv.out_of_order() {
            for (first, last) in held {
                ranges.push((o.clone(), *first, *last));
            }
        }
        if ranges.is_empty() {
            return Ok(());
        }
        self.mark_held_restored(ranges)
    }
    fn restore_table_digest(&self, table: &str) -> Result<(Digest, u64)> {
        self.backup_table_digest(table)
    }
}

fn scratch(
    region: String,
    clock: Arc<dyn Clock>,
) -> impl FnMut() -> Result<Box<dyn RestoreTarget>> {
    move || {
        // Replaying this region's own history: no drift limit on its stamps.
        let options =
            DatabaseOptions::with_clock(region.clone(), clock.clone()).max_clock_drift(i64::MAX);
        let db = Database::memory(options)?;
        Ok(Box::new(db) as Box<dyn RestoreTarget>)
    }
}

impl Database {
    /// Back this region up into `repo` (full or incremental per `options`).
    /// `options.now_ms` of 0 takes the database clock's time.
    pub fn backup(
        &self,
        repo: &Repository,
        options: &BackupOptions,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<BackupOutcome> {
        self.check_open()?;
        let mut opts = options.clone();
        if opts.now_ms == 0 {
            opts.now_ms = self.now_ms();
        }
        create_backup(repo, self, &opts, progress)
    }

    /// Rebuild a region in memory from `repo`. Fails (`BackupCorrupt`) if any
    /// object is damaged or a digest differs from its manifest.
    pub fn restore_from(
        repo: &Repository,
        options: &RestoreOptions,
        db_options: DatabaseOptions,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<(Database, RestoreReport)> {
        // A backup is this region's own history, not a peer's claim: its
        // stamps may lie ahead of the restoring clock (a restore into a
        // region whose clock is behind, or a deep verify at time 0). The
        // drift limit applies again once the region is handed back.
        let drift = db_options.max_clock_drift_ms;
        let mut db = Database::memory(db_options.max_clock_drift(i64::MAX))?;
        let report = restore(repo, options, &mut db, progress)?;
        db.max_drift_ms = drift;
        Ok((db, report))
    }

    /// Restore a region from `repo` straight into a new durable directory
    /// `dir` (missing or empty) and open it there. The rows go through a
    /// paged region (the default; `db_options.cache_bytes` bounds what is
    /// in memory), so a backup larger than memory restores. The region is
    /// built beside `dir` and renamed into place only once every digest
    /// checked: a failed restore leaves `dir` as it was.
    #[cfg(feature = "fs")]
    pub fn restore_to_directory(
        repo: &Repository,
        options: &RestoreOptions,
        dir: impl AsRef<std::path::Path>,
        db_options: DatabaseOptions,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<(Database, RestoreReport)> {
        let dir = dir.as_ref();
        let report = crate::storage::fs::build_then_rename(dir, |tmp| {
            // As in `restore_from`: the backup's stamps may lie ahead of
            // this clock; the drift limit applies again on the reopen.
            let mut db = Database::open(tmp, db_options.clone().max_clock_drift(i64::MAX))?;
            let report = restore(repo, options, &mut db, progress)?;
            db.close()?;
            Ok(report)
        })?;
        Ok((Database::open(dir, db_options)?, report))
    }

    /// Check a repository without restoring (see [`crate::backup::verify`]).
    pub fn verify_backups(
        repo: &Repository,
        options: VerifyOptions,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<VerifyReport> {
        let mut make = scratch("verify".into(), Arc::new(ManualClock::new(0)));
        verify(repo, options, &mut make, progress)
    }

    /// Write this region into a new durable directory (which must hold no
    /// database yet) and open it there.
    #[cfg(feature = "fs")]
    pub fn save_to_directory(
        &self,
        dir: impl AsRef<std::path::Path>,
        options: DatabaseOptions,
    ) -> Result<Database> {
        use crate::storage::Storage;
        self.check_open()?;
        if options.region != self.region {
            return Err(Error::invalid(format!(
                "the snapshot is of region '{}', not '{}'",
                self.region, options.region
            )));
        }
        let mut storage = crate::storage::fs::FsStorage::open_region(
            dir.as_ref(),
            crate::storage::fs::FsOptions::new(options.sync, options.checkpoint_bytes),
            &options.region,
            options.clock.now_ms(),
        )?;
        let rec = storage.recover()?;
        if rec.snapshot.is_some() || !rec.entries.is_empty() {
            return Err(Error::ObjectAlreadyExist(format!(
                "{} already holds a database",
                dir.as_ref().display()
            )));
        }
        storage.checkpoint(&self.export_snapshot()?)?;
        drop(storage);
        Database::open(dir, options)
    }
}
