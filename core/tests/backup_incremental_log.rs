//! An incremental finds its changed rows from the change log since its
//! parent: it looks up the keys the records name instead of scanning the
//! table, stores exactly what a scan would (same chunks), and scans only
//! when the table's state sum says rows changed without records.

use std::cell::Cell;
use std::sync::Arc;
use tablesync::backup::{
    create_backup, BackupKind, BackupMode, BackupOptions, BackupSource, MemoryStore, ObjectId,
    RecordVisitor, Repository, RestoreOptions, RowIdVisitor, RowVisitor, INIT_RANDOM_LEN,
};
use tablesync::sync::{SyncConfig, SyncDirection, SyncMode};
use tablesync::{
    Condition, Database, DatabaseOptions, Digest, ManualClock, PrimaryKey, Result, TableSchema,
    VersionVector,
};

mod common;
use common::{put, region};

/// A region as a backup source that counts whole-table scans and can hide
/// its state sums (which forces the scan).
struct Counting<'a> {
    db: &'a Database,
    scans: Cell<u32>,
    hide_sums: bool,
}

impl BackupSource for Counting<'_> {
    fn backup_region(&self) -> Result<String> {
        self.db.backup_region()
    }
    fn backup_schemas(&self) -> Result<Vec<TableSchema>> {
        self.db.backup_schemas()
    }
    fn backup_table_digest(&self, table: &str) -> Result<(Digest, u64)> {
        self.db.backup_table_digest(table)
    }
    fn backup_rows(&self, table: &str, each: &mut RowVisitor<'_>) -> Result<()> {
        self.scans.set(self.scans.get() + 1);
        self.db.backup_rows(table, each)
    }
    fn backup_rows_with_ids(&self, table: &str, each: &mut RowIdVisitor<'_>) -> Result<()> {
        self.scans.set(self.scans.get() + 1);
        self.db.backup_rows_with_ids(table, each)
    }
    fn backup_rows_at(
        &self,
        table: &str,
        keys: &[Vec<u8>],
        each: &mut RowIdVisitor<'_>,
    ) -> Result<()> {
        self.db.backup_rows_at(table, keys, each)
    }
    fn backup_state_sum(&self, table: &str) -> Result<Option<u64>> {
        if self.hide_sums {
            return Ok(None);
        }
        self.db.backup_state_sum(table)
    }
    fn backup_cursors(&self) -> Result<(u64, u64)> {
        self.db.backup_cursors()
    }
    fn backup_records(&self, from: u64, each: &mut RecordVisitor<'_>) -> Result<()> {
        self.db.backup_records(from, each)
    }
    fn backup_hlc(&self) -> Result<u64> {
        self.db.backup_hlc()
    }
    fn backup_version_vectors(&self) -> Result<(VersionVector, VersionVector)> {
        self.db.backup_version_vectors()
    }
}

fn repo() -> Repository {
    Repository::init(
        Box::new(Arc::new(MemoryStore::new())),
        None,
        &[3; INIT_RANDOM_LEN],
    )
    .unwrap()
}

/// Back `db` up (auto mode); the new manifest's id and whole-table scans made.
fn backup(db: &Database, repo: &Repository, hide_sums: bool) -> (ObjectId, BackupKind, u32) {
    let src = Counting {
        db,
        scans: Cell::new(0),
        hide_sums,
    };
    let opts = BackupOptions {
        mode: BackupMode::Auto,
        now_ms: 1,
        ..Default::default()
    };
    let out = create_backup(repo, &src, &opts, &mut |_| {}).unwrap();
    assert!(out.created);
    let id = Digest::from_hex(&out.info.id).unwrap().0;
    (id, out.info.kind, src.scans.get())
}

fn restored_digest(repo: &Repository, clock: &ManualClock) -> Digest {
    let (r, _) = Database::restore_from(
        repo,
        &RestoreOptions::default(),
        DatabaseOptions::with_clock("b", Arc::new(clock.clone())),
        &mut |_| {},
    )
    .unwrap();
    r.table_digest("t").unwrap()
}

#[test]
fn incrementals_look_up_logged_keys_and_store_what_a_scan_would() {
    let clock = ManualClock::new(1_000_000);
    let mut b = region("b", &clock);
    for i in 0..3000 {
        put(&mut b, i, "first");
    }
    let (fast, scan) = (repo(), repo());
    let (_, kind, _) = backup(&b, &fast, false);
    assert_eq!(kind, BackupKind::Full);
    backup(&b, &scan, true);

    // Overwrites, new rows, a delete, and a key written twice.
    clock.advance(5);
    for i in (0..3000).step_by(97) {
        put(&mut b, i, "second");
    }
    put(&mut b, 5000, "new");
    put(&mut b, 194, "again");
    b.delete_row("t", PrimaryKey::new([("k", 97)]), Condition::ignore())
        .unwrap();

    let (fid, kind, scans) = backup(&b, &fast, false);
    assert_eq!(kind, BackupKind::Incremental);
    assert_eq!(scans, 0, "the incremental read only the logged keys");
    let (sid, kind, scans) = backup(&b, &scan, true);
    assert_eq!(kind, BackupKind::Incremental);
    assert!(scans > 0, "without a state sum the table is scanned");

    // Same rows and row-id entries, so the same chunks and manifest.
    let (fm, sm) = (fast.manifest(&fid).unwrap(), scan.manifest(&sid).unwrap());
    assert_eq!(fm.tables[0].chunks, sm.tables[0].chunks);
    assert_eq!(fm.tables[0].id_chunks, sm.tables[0].id_chunks);
    assert!(!fm.tables[0].chunks.is_empty());
    assert_eq!(fid, sid);
    let want = b.table_digest("t").unwrap();
    assert_eq!(restored_digest(&fast, &clock), want);
}

#[test]
fn rows_changed_without_records_make_the_incremental_scan() {
    let clock = ManualClock::new(1_000_000);
    let mut a = region("a", &clock);
    let mut b = region("b", &clock);
    for i in 0..500 {
        put(&mut b, i, "b");
    }
    let r = repo();
    backup(&b, &r, false);

    // A reconcile brings rows without records, plus one local write.
    clock.advance(5);
    for i in 400..600 {
        put(&mut a, i, "a");
    }
    a.sync_with(
        &mut b,
        SyncConfig::new(SyncMode::Reconcile, SyncDirection::Push),
    )
    .unwrap();
    put(&mut b, 3, "local");
    let (_, kind, scans) = backup(&b, &r, false);
    assert_eq!(kind, BackupKind::Incremental);
    assert!(scans > 0, "the state sum showed rows outside the log");
    assert_eq!(restored_digest(&r, &clock), b.table_digest("t").unwrap());

    // Only local writes since: no scan again.
    clock.advance(5);
    put(&mut b, 4, "local");
    let (_, kind, scans) = backup(&b, &r, false);
    assert_eq!(kind, BackupKind::Incremental);
    assert_eq!(scans, 0);
    assert_eq!(restored_digest(&r, &clock), b.table_digest("t").unwrap());
}

#[test]
fn a_full_backup_covers_all_history_only_when_the_log_rebuilds_the_rows() {
    let clock = ManualClock::new(1_000_000);
    let mut a = region("a", &clock);
    let mut b = region("b", &clock);
    for i in 0..300 {
        clock.advance(1);
        put(&mut b, i % 120, &format!("v{i}"));
    }
    b.delete_row("t", PrimaryKey::new([("k", 7)]), Condition::ignore())
        .unwrap();
    let r = repo();
    let (id, kind, _) = backup(&b, &r, false);
    assert_eq!(kind, BackupKind::Full);
    let m = r.manifest(&id).unwrap();
    assert!(m.history_complete, "overwrites and deletes replay exactly");
    assert_eq!(m.covers_from, 0);

    // Rows that came by reconcile are not in the log: a full backup then
    // covers stamps from its point on only.
    put(&mut a, 1000, "a");
    a.sync_with(
        &mut b,
        SyncConfig::new(SyncMode::Reconcile, SyncDirection::Push),
    )
    .unwrap();
    let r = repo();
    let (id, _, _) = backup(&b, &r, false);
    let m = r.manifest(&id).unwrap();
    assert!(!m.history_complete);
    assert_eq!(m.covers_from, m.point);
    assert_eq!(restored_digest(&r, &clock), b.table_digest("t").unwrap());
}
