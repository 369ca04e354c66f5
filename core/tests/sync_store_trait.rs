//! The sync protocol runs on any `SyncStore`: two regions wrapped in a
//! store that only forwards (and records what the protocol asked for)
//! converge in every mode, and reconcile finds its rows by id.

use std::cell::RefCell;
use std::collections::HashSet;
use tablesync::sync::message::{ChangeBatch, RowBytes, TableInfo};
use tablesync::sync::riblt::Symbol;
use tablesync::sync::{
    respond_on, respond_read_on, IdKind, Initiator, SessionStep, SyncConfig, SyncDirection,
    SyncMode, SyncReport, SyncStore,
};
use tablesync::*;

mod common;
use common::{put, region};

/// A region behind the trait: every call is forwarded and its name kept.
struct Forward {
    db: Database,
    calls: RefCell<Vec<&'static str>>,
}

impl Forward {
    fn new(db: Database) -> Self {
        Forward {
            db,
            calls: RefCell::new(Vec::new()),
        }
    }
    fn note(&self, name: &'static str) {
        self.calls.borrow_mut().push(name);
    }
    fn called(&self, name: &str) -> usize {
        self.calls.borrow().iter().filter(|c| **c == name).count()
    }
}

impl SyncStore for Forward {
    fn check_open(&self) -> Result<()> {
        SyncStore::check_open(&self.db)
    }
    fn now_ms(&self) -> i64 {
        SyncStore::now_ms(&self.db)
    }
    fn region(&self) -> &str {
        SyncStore::region(&self.db)
    }
    fn version_vector(&self) -> &VersionVector {
        SyncStore::version_vector(&self.db)
    }
    fn dropped(&self) -> &VersionVector {
        SyncStore::dropped(&self.db)
    }
    fn note_peer_error(&self, e: &Error) {
        SyncStore::note_peer_error(&self.db, e)
    }
    fn table_infos(&self, tables: &Option<Vec<String>>) -> Vec<TableInfo> {
        self.db.table_infos(tables)
    }
    fn schemas(&self, tables: &Option<Vec<String>>) -> Vec<TableSchema> {
        self.db.schemas(tables)
    }
    fn schema(&self, table: &str) -> Result<&TableSchema> {
        self.db.schema(table)
    }
    fn has_table(&self, name: &str) -> bool {
        self.db.has_table(name)
    }
    fn check_table_keys(
        &self,
        schemas: &[TableSchema],
        tables: &Option<Vec<String>>,
    ) -> Result<()> {
        self.db.check_table_keys(schemas, tables)
    }
    fn ensure_tables(
        &mut self,
        schemas: &[TableSchema],
        tables: &Option<Vec<String>>,
    ) -> Result<()> {
        self.note("ensure_tables");
        self.db.ensure_tables(schemas, tables)
    }
    fn changes_for(
        &self,
        peer: &VersionVector,
        tables: &Option<Vec<String>>,
        max_bytes: usize,
    ) -> Result<ChangeBatch> {
        self.note("changes_for");
        self.db.changes_for(peer, tables, max_bytes)
    }
    fn apply_peer_records(&mut self, records: Vec<ChangeRecord>, encoded: &[&[u8]]) -> Result<u64> {
        self.note("apply_peer_records");
        // Frames hand over each record's bytes with it: exactly the record.
        assert_eq!(encoded.len(), records.len());
        for (r, b) in records.iter().zip(encoded) {
            assert_eq!(&tablesync::codec::record::decode_record(b).unwrap(), r);
            self.note("record_bytes");
        }
        self.db.apply_peer_records(records, encoded)
    }
    fn mark_held(&mut self, entries: Vec<(String, u64, u64)>) -> Result<()> {
        SyncStore::mark_held(&mut self.db, entries)
    }
    fn stored_count(&self, table: &str) -> Result<u64> {
        self.db.stored_count(table)
    }
    fn existing_keys(&self, table: &str) -> Result<Vec<Vec<u8>>> {
        self.db.existing_keys(table)
    }
    fn symbols(&self, table: &str, kind: IdKind, from: usize, to: usize) -> Result<Vec<Symbol>> {
        self.note("symbols");
        self.db.symbols(table, kind, from, to)
    }
    fn rows_with_ids(
        &self,
        table: &str,
        ids: &HashSet<u64>,
        kind: IdKind,
    ) -> Result<Vec<RowBytes>> {
        self.note("rows_with_ids");
        self.db.rows_with_ids(table, ids, kind)
    }
    fn rows_with_keys(&self, table: &str, keys: &[Vec<u8>]) -> Result<Vec<RowBytes>> {
        self.db.rows_with_keys(table, keys)
    }
    fn rows_page(
        &self,
        table: &str,
        after: Option<&[u8]>,
        max_bytes: usize,
    ) -> Result<(Vec<RowBytes>, Option<Vec<u8>>)> {
        self.note("rows_page");
        self.db.rows_page(table, after, max_bytes)
    }
    fn merge_rows(&mut self, table: &str, rows: Vec<RowBytes>) -> Result<u64> {
        self.note("merge_rows");
        SyncStore::merge_rows(&mut self.db, table, rows)
    }
}

/// One session between two stores, through the same frames as a network;
/// read-only frames go through `respond_read_on` first, like a server.
fn session(a: &mut Forward, b: &mut Forward, config: SyncConfig) -> SyncReport {
    let cap = config.max_frame_bytes;
    let mut s = Initiator::new(config);
    let mut step = s.start_on(a).unwrap();
    loop {
        match step {
            SessionStep::Send(frame) => {
                let reply = match respond_read_on(b, &frame, cap).unwrap() {
                    Some(r) => r,
                    None => respond_on(b, &frame, cap).unwrap(),
                };
                step = s.receive_on(a, &reply).unwrap();
            }
            SessionStep::Done(r) => return r,
        }
    }
}

fn pair() -> (Forward, Forward, ManualClock) {
    let clock = ManualClock::new(1_000_000);
    let mut a = region("a", &clock);
    let mut b = region("b", &clock);
    for i in 0..120 {
        put(&mut a, i, "a");
        clock.advance(1);
    }
    for i in 100..200 {
        put(&mut b, i, "b");
        clock.advance(1);
    }
    (Forward::new(a), Forward::new(b), clock)
}

#[test]
fn every_mode_converges_through_the_trait() {
    for mode in [
        SyncMode::Incremental,
        SyncMode::Full,
        SyncMode::Hybrid,
        SyncMode::Reconcile,
        SyncMode::Auto,
    ] {
        let (mut a, mut b, _clock) = pair();
        let config = SyncConfig {
            session_id: 11,
            ..SyncConfig::new(mode, SyncDirection::Both)
        };
        let report = session(&mut a, &mut b, config);
        assert!(report.verified, "{mode:?}: {report:?}");
        assert_eq!(
            a.db.table_digest("t").unwrap(),
            b.db.table_digest("t").unwrap(),
            "{mode:?}"
        );
        assert_eq!(a.db.describe_table("t").unwrap().row_count, 200, "{mode:?}");
        let moved = match mode {
            SyncMode::Incremental | SyncMode::Auto => {
                a.called("apply_peer_records") + b.called("apply_peer_records")
            }
            _ => a.called("merge_rows") + b.called("merge_rows"),
        };
        assert!(moved > 0, "{mode:?}: nothing went through the store");
        if matches!(mode, SyncMode::Incremental | SyncMode::Auto) {
            // 120 + 100 records crossed, each applied from its frame bytes.
            assert_eq!(a.called("record_bytes") + b.called("record_bytes"), 220);
        }
    }
}

#[test]
fn reconcile_finds_rows_by_id_through_the_trait() {
    let (mut a, mut b, clock) = pair();
    let config = |id| SyncConfig {
        session_id: id,
        ..SyncConfig::new(SyncMode::Reconcile, SyncDirection::Both)
    };
    assert!(session(&mut a, &mut b, config(1)).verified);
    // A few rows differ again: the second session moves exactly those.
    for i in [3, 50, 70] {
        put(&mut a.db, i, "a2");
        clock.advance(1);
    }
    put(&mut b.db, 150, "b2");
    let before = a.called("rows_with_ids") + b.called("rows_with_ids");
    let r = session(&mut a, &mut b, config(2));
    assert!(r.verified, "{r:?}");
    // State ids differ for all four keys on both sides, so each side sends
    // its state of each: four rows each way, and nothing else.
    assert_eq!((r.rows_pushed, r.rows_pulled), (4, 4), "{r:?}");
    assert!(a.called("rows_with_ids") + b.called("rows_with_ids") > before);
    assert_eq!(
        a.db.table_digest("t").unwrap(),
        b.db.table_digest("t").unwrap()
    );
}

#[test]
fn a_closed_store_refuses_a_session() {
    let (mut a, mut b, _clock) = pair();
    b.db.close().unwrap();
    let mut s = Initiator::new(SyncConfig::new(SyncMode::Auto, SyncDirection::Both));
    let frame = match s.start_on(&mut a).unwrap() {
        SessionStep::Send(f) => f,
        SessionStep::Done(r) => panic!("done before a frame: {r:?}"),
    };
    let err = respond_on(&mut b, &frame, 1 << 20).unwrap_err();
    assert_eq!(err.code(), "DatabaseClosed");
    assert_eq!(b.called("apply_peer_records") + b.called("merge_rows"), 0);
}
