//! Sync benchmarks: each figure printed next to a reference measured in the
//! same run, with the ratio and whether the target is met.
//!
//! - (a) incremental pull of C changed rows out of N: bytes on the wire vs the
//!   lz4-compressed change records themselves + 1 KiB; round trips.
//! - (b) reconcile (both ways) of two N-row replicas differing in D rows: bytes
//!   and round trips vs the `negentropy` crate on the same item sets, and vs
//!   2× the encoded size of the differing rows.
//! - (b') a second reconcile after D more rows differ, once the tables keep
//!   their row-id symbols: CPU time vs negentropy's on the same sets.
//! - (c) identical replicas verified (`verify` and `auto`): round trips, bytes.
//! - (d) `apply_changes` of N records into an empty region, and a `full` sync
//!   of N rows, in rows/s, next to local `batch_write` rows/s.
//!
//! Run: `cargo run --release -p tablesync --example sync_bench -- [--rows N]
//! [--diff D] [--changed C] [--quick]` (`--quick`: N = 20,000, D = 10).
//! Runs with mimalloc, as the shipped binaries do.
//! Exits non-zero if a session fails, does not verify, or finds other
//! differences than the ones made; a missed target is only reported.

use negentropy::{Id, Negentropy, NegentropyStorageVector};
use sha2::{Digest as _, Sha256};
use std::collections::BTreeSet;
use std::error::Error as StdError;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tablesync::codec::buf::Reader;
use tablesync::codec::frame::{decode_frame_version, MAGIC_SNAPSHOT, SNAPSHOT_VERSION};
use tablesync::codec::record::encode_record;
use tablesync::codec::row_state::decode_row_state;
use tablesync::codec::schema::read_schema;
use tablesync::log::hlc::hlc_millis;
use tablesync::log::version_vector::VersionVector;
use tablesync::sync::message::{encode_reply, Reply, ReplyEnvelope};
use tablesync::sync::{
    SyncConfig, SyncDirection, SyncMode, SyncReport, SyncStore, DEFAULT_INITIAL_SYMBOLS,
};
use tablesync::{
    ChangeRecord, Column, Condition, Database, DatabaseOptions, ManualClock, PkColumn, PkType,
    PrimaryKey, TableSchema, WriteOp,
};

/// The allocator the shipped binaries use (see README, "Performance").
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

type BoxResult<T> = Result<T, Box<dyn StdError>>;

const TABLE: &str = "t";
const START_MS: i64 = 1_700_000_000_000;

/// Command-line options.
struct Args {
    rows: i64,
    diff: usize,
    changed: usize,
    /// Stop after the send-side figure (`--send-only`).
    send_only: bool,
}

fn parse_args() -> BoxResult<Args> {
    let mut args = Args {
        rows: 1_000_000,
        diff: 100,
        changed: 1_000,
        send_only: false,
    };
    let mut explicit_diff = false;
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = |name: &str| -> BoxResult<u64> {
            let v = it.next().ok_or(format!("{name} needs a value"))?;
            Ok(v.parse::<u64>().map_err(|e| format!("{name} {v}: {e}"))?)
        };
        match a.as_str() {
            "--quick" => {
                args.rows = 20_000;
                if !explicit_diff {
                    args.diff = 10;
                }
            }
            "--rows" => args.rows = value("--rows")? as i64,
            "--diff" => {
                args.diff = value("--diff")? as usize;
                explicit_diff = true;
            }
            "--changed" => args.changed = value("--changed")? as usize,
            "--send-only" => args.send_only = true,
            "-h" | "--help" => {
                println!("sync_bench [--rows N] [--diff D] [--changed C] [--quick] [--send-only]");
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    if args.rows < 1_000 || args.diff < 4 || args.changed == 0 {
        return Err("need --rows ≥ 1000, --diff ≥ 4, --changed ≥ 1".into());
    }
    if args.diff as i64 * 2 > args.rows || args.changed as i64 > args.rows {
        return Err("--diff and --changed must be well below --rows".into());
    }
    Ok(args)
}

/// splitmix64: a deterministic stream for picking keys and contents.
struct Mix(u64);

impl Mix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// `n` distinct keys in `0..below`, none of them in `taken`; marks them taken.
    fn distinct_keys(&mut self, n: usize, below: i64, taken: &mut BTreeSet<i64>) -> Vec<i64> {
        let mut out = Vec::with_capacity(n);
        while out.len() < n {
            let k = (self.next() % below as u64) as i64;
            if taken.insert(k) {
                out.push(k);
            }
        }
        out
    }
}

/// About 100 bytes of row state: a name, a mail address, an integer.
fn columns(k: i64, version: u64) -> Vec<Column> {
    let h = Mix(k as u64 ^ version.wrapping_mul(0x2545_f491_4f6c_dd1d)).next();
    vec![
        Column::new("name", format!("user{k:07}")),
        Column::new("mail", format!("{:08x}@ex.io", h >> 32)),
        Column::new("age", (h % 90) as i64),
    ]
}

fn region(name: &str, clock: &ManualClock) -> BoxResult<Database> {
    let mut db = Database::memory(DatabaseOptions::with_clock(name, Arc::new(clock.clone())))?;
    db.create_table(TableSchema::new(
        TABLE,
        vec![PkColumn::new("k", PkType::Integer)],
    ))?;
    Ok(db)
}

/// Put `version` of each key, 200 rows per `batch_write`, one ms per batch.
fn put_rows(db: &mut Database, clock: &ManualClock, keys: &[i64], version: u64) -> BoxResult<()> {
    for chunk in keys.chunks(200) {
        let ops = chunk
            .iter()
            .map(|&k| WriteOp::Put {
                table: TABLE.into(),
                primary_key: PrimaryKey::new([("k", k)]),
                columns: columns(k, version),
                condition: Condition::ignore(),
            })
            .collect();
        for r in db.batch_write(ops)? {
            r?;
        }
        clock.advance(1);
    }
    Ok(())
}

fn delete_rows(db: &mut Database, clock: &ManualClock, keys: &[i64]) -> BoxResult<()> {
    for chunk in keys.chunks(200) {
        let ops = chunk
            .iter()
            .map(|&k| WriteOp::Delete {
                table: TABLE.into(),
                primary_key: PrimaryKey::new([("k", k)]),
                condition: Condition::ignore(),
            })
            .collect();
        for r in db.batch_write(ops)? {
            r?;
        }
        clock.advance(1);
    }
    Ok(())
}

/// Every record of the region's log, oldest first.
fn all_records(db: &Database) -> BoxResult<Vec<ChangeRecord>> {
    let mut out = Vec::new();
    let mut cursor = 0;
    loop {
        let page = db.changes_since(cursor, 100_000)?;
        if page.records.is_empty() {
            return Ok(out);
        }
        cursor = page.next_cursor;
        out.extend(page.records);
    }
}

/// `(encoded key, encoded row state)` of every stored entry of the table,
/// tombstones included, in key order, read from the region's snapshot
/// (layout in docs/FORMAT.md §11).
fn stored_rows(db: &Database) -> BoxResult<Vec<(Vec<u8>, Vec<u8>)>> {
    fn skip_vv(r: &mut Reader<'_>) -> BoxResult<()> {
        for _ in 0..r.count()? {
            r.string()?;
            r.varint()?;
        }
        for _ in 0..r.count()? {
            r.string()?;
            for _ in 0..r.count()? {
                r.varint()?;
            }
        }
        Ok(())
    }
    let payload = decode_frame_version(
        MAGIC_SNAPSHOT,
        SNAPSHOT_VERSION,
        &db.export_snapshot()?,
        1 << 36,
    )?;
    let mut r = Reader::new(&payload, "snapshot");
    r.string()?; // region
    r.u64_le()?; // hlc_last
    r.varint()?; // local_seq
    r.varint()?; // next_cursor
    skip_vv(&mut r)?; // version vector
    skip_vv(&mut r)?; // dropped
    for _ in 0..r.count()? {
        let schema = read_schema(&mut r)?;
        let n = r.count()?;
        let mut rows = Vec::with_capacity(n);
        for _ in 0..n {
            let k = r.bytes()?.to_vec();
            let s = r.bytes()?.to_vec();
            rows.push((k, s));
        }
        if schema.name == TABLE {
            return Ok(rows);
        }
    }
    Err(format!("table {TABLE} not in the snapshot").into())
}

/// A negentropy item of a stored row: (ms of its latest write or delete,
/// SHA-256(key length u32 LE ‖ key ‖ row state)).
fn item(key: &[u8], state: &[u8]) -> BoxResult<(u64, [u8; 32])> {
    let s = decode_row_state(state)?;
    let ts = hlc_millis(s.live.hlc.max(s.deleted.hlc)).max(0) as u64;
    let mut h = Sha256::new();
    h.update((key.len() as u32).to_le_bytes());
    h.update(key);
    h.update(state);
    Ok((ts, h.finalize().into()))
}

/// What differs between two key-ordered row lists.
#[derive(Default)]
struct RowDiff {
    /// Items only the first side holds.
    only_a: BTreeSet<[u8; 32]>,
    /// Items only the second side holds.
    only_b: BTreeSet<[u8; 32]>,
    /// Keys whose stored entries differ.
    keys: usize,
    /// Σ key + row-state bytes of the differing keys, on each side holding them.
    bytes: usize,
}

fn diff_rows(a: &[(Vec<u8>, Vec<u8>)], b: &[(Vec<u8>, Vec<u8>)]) -> BoxResult<RowDiff> {
    let mut d = RowDiff::default();
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        let ord = match (a.get(i), b.get(j)) {
            (Some(x), Some(y)) => x.0.cmp(&y.0),
            (Some(_), None) => std::cmp::Ordering::Less,
            _ => std::cmp::Ordering::Greater,
        };
        let (take_a, take_b) = match ord {
            std::cmp::Ordering::Less => (true, false),
            std::cmp::Ordering::Greater => (false, true),
            std::cmp::Ordering::Equal => {
                if a[i].1 == b[j].1 {
                    i += 1;
                    j += 1;
                    continue;
                }
                (true, true)
            }
        };
        d.keys += 1;
        if take_a {
            d.bytes += a[i].0.len() + a[i].1.len();
            d.only_a.insert(item(&a[i].0, &a[i].1)?.1);
            i += 1;
        }
        if take_b {
            d.bytes += b[j].0.len() + b[j].1.len();
            d.only_b.insert(item(&b[j].0, &b[j].1)?.1);
            j += 1;
        }
    }
    Ok(d)
}

fn negentropy_storage(rows: &[(Vec<u8>, Vec<u8>)]) -> BoxResult<NegentropyStorageVector> {
    let mut s = NegentropyStorageVector::with_capacity(rows.len());
    for (k, st) in rows {
        let (ts, id) = item(k, st)?;
        s.insert(ts, Id::from_byte_array(id))?;
    }
    s.seal()?;
    Ok(s)
}

/// What a negentropy run cost until the initiator knew its have/need ids.
struct NegRun {
    bytes: u64,
    round_trips: u32,
    have: BTreeSet<[u8; 32]>,
    need: BTreeSet<[u8; 32]>,
    time: Duration,
}

/// CPU time this thread has run (`CLOCK_THREAD_CPUTIME_ID`); `None` where
/// there is no such clock.
#[cfg(unix)]
fn cpu_time() -> Option<Duration> {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec for the duration of the call.
    let r = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    (r == 0).then(|| Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32))
}

#[cfg(not(unix))]
fn cpu_time() -> Option<Duration> {
    None
}

/// Initiator over `a`, responder over `b`, no frame size limit.
fn run_negentropy(a: &NegentropyStorageVector, b: &NegentropyStorageVector) -> BoxResult<NegRun> {
    let t = Instant::now();
    let mut client = Negentropy::borrowed(a, 0)?;
    let mut server = Negentropy::borrowed(b, 0)?;
    let mut msg = client.initiate()?;
    let mut bytes = msg.len() as u64;
    let mut round_trips = 0;
    let (mut have, mut need) = (Vec::new(), Vec::new());
    loop {
        let reply = server.reconcile(&msg)?;
        bytes += reply.len() as u64;
        round_trips += 1;
        match client.reconcile_with_ids(&reply, &mut have, &mut need)? {
            Some(next) => {
                bytes += next.len() as u64;
                msg = next;
            }
            None => break,
        }
    }
    Ok(NegRun {
        bytes,
        round_trips,
        have: have.iter().map(|id| **id).collect(),
        need: need.iter().map(|id| **id).collect(),
        time: t.elapsed(),
    })
}

fn config(mode: SyncMode, direction: SyncDirection, session_id: u64) -> SyncConfig {
    SyncConfig {
        session_id,
        ..SyncConfig::new(mode, direction)
    }
}

/// One timed `sync_with`; a session that does not verify is an error.
fn timed_sync(
    local: &mut Database,
    remote: &mut Database,
    cfg: SyncConfig,
    must_verify: bool,
) -> BoxResult<(SyncReport, Duration)> {
    let t = Instant::now();
    let r = local.sync_with(remote, cfg)?;
    let took = t.elapsed();
    if must_verify && !r.verified {
        return Err(format!("{} session did not verify: {r:?}", r.mode).into());
    }
    Ok((r, took))
}

fn same_digest(a: &Database, b: &Database, what: &str) -> BoxResult<()> {
    if a.table_digest(TABLE)? != b.table_digest(TABLE)? {
        return Err(format!("{what}: the digests differ").into());
    }
    Ok(())
}

/// Thousands separators.
fn n(v: u64) -> String {
    let s = v.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

/// Printed results, one line per figure.
struct Table {
    misses: Vec<String>,
}

impl Table {
    fn header(&self) {
        println!(
            "{:<44} {:>16} {:>16} {:>8}  {:<14} met",
            "figure", "ours", "reference", "ratio", "target"
        );
    }
    /// `ratio` is ours / reference; `ok` whether the target holds.
    fn line(
        &mut self,
        figure: &str,
        ours: &str,
        reference: &str,
        ratio: Option<f64>,
        target: &str,
        ok: Option<bool>,
    ) {
        let ratio = ratio.map_or("-".to_string(), |r| format!("{r:.3}×"));
        let met = match ok {
            Some(true) => "yes",
            Some(false) => {
                self.misses.push(figure.to_string());
                "NO"
            }
            None => "-",
        };
        println!("{figure:<44} {ours:>16} {reference:>16} {ratio:>8}  {target:<14} {met}");
    }
}

/// What paging a whole log out for a peer cost.
struct SendSide {
    records: u64,
    pages: u64,
    paging: Duration,
    framing: Duration,
    frame_bytes: u64,
}

/// The send side of a pull: every record of `db`'s log paged out for a peer
/// that holds none of them, as the responder does (`changes_for` with its
/// page budget for the default frame cap), and each page framed as a
/// `Changes` reply.
fn send_pages(db: &Database) -> BoxResult<SendSide> {
    let cap = tablesync::sync::DEFAULT_MAX_FRAME_BYTES;
    let budget = cap - 64 * 1024;
    let mut peer = VersionVector::new();
    let mut s = SendSide {
        records: 0,
        pages: 0,
        paging: Duration::ZERO,
        framing: Duration::ZERO,
        frame_bytes: 0,
    };
    loop {
        let t = Instant::now();
        let batch = SyncStore::changes_for(db, &peer, &None, budget)?;
        s.paging += t.elapsed();
        if batch.records.is_empty() {
            return Ok(s);
        }
        batch.records.for_each_id(|origin, seq| {
            peer.insert(origin, seq);
        })?;
        s.records += batch.records.len() as u64;
        s.pages += 1;
        let more = batch.more;
        let t = Instant::now();
        let env = ReplyEnvelope {
            reply: Reply::Changes(batch),
            infos: Vec::new(),
        };
        let frame = encode_reply(1, s.pages as u32, &env, cap)?;
        s.framing += t.elapsed();
        s.frame_bytes += frame.len() as u64;
        if !more {
            return Ok(s);
        }
    }
}

fn main() -> BoxResult<()> {
    let args = parse_args()?;
    let rows = args.rows;
    let clock = ManualClock::new(START_MS);
    let mut rng = Mix(0x5eed);
    let mut out = Table { misses: Vec::new() };

    // Region a: N rows written locally.
    let mut a = region("a", &clock)?;
    let keys: Vec<i64> = (0..rows).collect();
    let t = Instant::now();
    put_rows(&mut a, &clock, &keys, 0)?;
    let fill = t.elapsed();
    let fill_rate = rows as f64 / fill.as_secs_f64();
    let recs = all_records(&a)?;
    let sample = stored_rows(&a)?;
    let avg_state = sample.iter().map(|(_, s)| s.len()).sum::<usize>() as f64 / sample.len() as f64;
    let avg_key = sample.iter().map(|(k, _)| k.len()).sum::<usize>() as f64 / sample.len() as f64;
    let avg_rec =
        recs.iter().map(|r| encode_record(r).len()).sum::<usize>() as f64 / recs.len() as f64;
    drop(sample);
    println!(
        "sync_bench: {} rows (key {avg_key:.0} B + row state {avg_state:.0} B; change record {avg_rec:.0} B), {} changed, {} differing",
        n(rows as u64),
        n(args.changed as u64),
        n(args.diff as u64)
    );
    println!(
        "local batch_write fill of region a: {} ({} rows/s)",
        ms(fill),
        n(fill_rate as u64)
    );
    if rows != 1_000_000 || args.diff != 100 || args.changed != 1_000 {
        println!("(the targets are set for 1,000,000 rows, 1,000 changed, 100 differing)");
    }
    println!();
    out.header();

    // (e) The send side: a's whole log paged out as a responder's change
    // pages and framed. Reference, same run: reading the same log through
    // `changes_since` (which decodes every record).
    {
        let s = send_pages(&a)?;
        if s.records != rows as u64 {
            return Err(format!("send side paged {} records", s.records).into());
        }
        let t = Instant::now();
        let mut cursor = 0;
        let mut read = 0u64;
        loop {
            let page = a.changes_since(cursor, 10_000)?;
            if page.records.is_empty() {
                break;
            }
            read += page.records.len() as u64;
            cursor = page.next_cursor;
        }
        let read_t = t.elapsed();
        let read_rate = read as f64 / read_t.as_secs_f64();
        let page_rate = s.records as f64 / s.paging.as_secs_f64();
        let send_rate = s.records as f64 / (s.paging + s.framing).as_secs_f64();
        out.line(
            "(e) send: log → change pages, records/s (ref: changes_since)",
            &n(page_rate as u64),
            &n(read_rate as u64),
            Some(page_rate / read_rate),
            "-",
            None,
        );
        out.line(
            "(e) send: pages + lz4 frames, records/s (ref: changes_since)",
            &n(send_rate as u64),
            &n(read_rate as u64),
            Some(send_rate / read_rate),
            "-",
            None,
        );
        println!(
            "    send side: {} records in {} pages: paging {}, framing {}, {} B framed; changes_since read: {}",
            n(s.records),
            s.pages,
            ms(s.paging),
            ms(s.framing),
            n(s.frame_bytes),
            ms(read_t)
        );
    }
    if args.send_only {
        return Ok(());
    }

    // (d) Region b from a's records, applied in chunks of 10,000.
    let mut b = region("b", &clock)?;
    let t = Instant::now();
    for chunk in recs.chunks(10_000) {
        b.apply_changes(chunk)?;
    }
    let apply = t.elapsed();
    drop(recs);
    same_digest(&a, &b, "apply_changes")?;
    let apply_rate = rows as f64 / apply.as_secs_f64();
    out.line(
        "(d) apply_changes, rows/s (ref: batch_write)",
        &n(apply_rate as u64),
        &n(fill_rate as u64),
        Some(apply_rate / fill_rate),
        "≥ 500,000/s",
        Some(apply_rate >= 500_000.0),
    );
    println!(
        "    apply_changes of {} records: {}",
        n(rows as u64),
        ms(apply)
    );

    // (d) A full pull into a fresh region.
    {
        let mut c = region("c", &clock)?;
        let (r, took) = timed_sync(
            &mut c,
            &mut a,
            config(SyncMode::Full, SyncDirection::Pull, 1),
            true,
        )?;
        if r.rows_pulled != rows as u64 {
            return Err(format!("full pull moved {} rows", r.rows_pulled).into());
        }
        let rate = r.rows_pulled as f64 / took.as_secs_f64();
        out.line(
            "(d) sync_with full pull, rows/s",
            &n(rate as u64),
            &n(fill_rate as u64),
            Some(rate / fill_rate),
            "-",
            None,
        );
        println!(
            "    full pull: {}, {} B on the wire ({:.1} B/row), {} round trips",
            ms(took),
            n(r.bytes_sent + r.bytes_received),
            (r.bytes_sent + r.bytes_received) as f64 / rows as f64,
            r.round_trips
        );
    }

    // (a) C rows change on a; b pulls incrementally.
    let mut taken = BTreeSet::new();
    let changed = rng.distinct_keys(args.changed, rows, &mut taken);
    let cursor = a.next_cursor()?;
    put_rows(&mut a, &clock, &changed, 1)?;
    let page = a.changes_since(cursor, args.changed + 1)?;
    if page.records.len() != args.changed {
        return Err(format!(
            "expected {} change records, got {}",
            args.changed,
            page.records.len()
        )
        .into());
    }
    let mut plain = Vec::new();
    for r in &page.records {
        plain.extend_from_slice(&encode_record(r));
    }
    let lz4 = lz4_flex::compress_prepend_size(&plain).len() as u64;
    let reference = lz4 + 1024;
    let (r, took) = timed_sync(
        &mut b,
        &mut a,
        config(SyncMode::Incremental, SyncDirection::Pull, 2),
        true,
    )?;
    if r.records_pulled != args.changed as u64 {
        return Err(format!("incremental pulled {} records", r.records_pulled).into());
    }
    same_digest(&a, &b, "incremental")?;
    let wire = r.bytes_sent + r.bytes_received;
    let ratio = wire as f64 / reference as f64;
    out.line(
        &format!("(a) incremental pull of {}: bytes", n(args.changed as u64)),
        &n(wire),
        &n(reference),
        Some(ratio),
        "≤ 1.2×",
        Some(ratio <= 1.2),
    );
    out.line(
        "(a) incremental: round trips",
        &r.round_trips.to_string(),
        "1",
        None,
        "1",
        Some(r.round_trips == 1),
    );
    println!(
        "    incremental: {} (sent {} B, received {} B; records {} B raw, {} B lz4)",
        ms(took),
        n(r.bytes_sent),
        n(r.bytes_received),
        n(plain.len() as u64),
        n(lz4)
    );

    // (c) Identical replicas.
    for (mode, sid) in [(SyncMode::Verify, 3), (SyncMode::Auto, 4)] {
        let (r, took) = timed_sync(&mut b, &mut a, config(mode, SyncDirection::Both, sid), true)?;
        let wire = r.bytes_sent + r.bytes_received;
        out.line(
            &format!("(c) identical, {}: bytes", mode.name()),
            &n(wire),
            "1,024",
            Some(wire as f64 / 1024.0),
            "< 1 KiB",
            Some(wire < 1024),
        );
        out.line(
            &format!("(c) identical, {}: round trips", mode.name()),
            &r.round_trips.to_string(),
            "1",
            None,
            "1",
            Some(r.round_trips == 1),
        );
        println!("    {}: {}", mode.name(), ms(took));
    }

    // (b) D rows differ: half modified on a, a quarter on b, the rest
    // deleted on a or added on b.
    let mod_a = args.diff / 2;
    let mod_b = args.diff / 4;
    let rest = args.diff - mod_a - mod_b;
    let del_a = rest / 2;
    let add_b = rest - del_a;
    put_rows(
        &mut a,
        &clock,
        &rng.distinct_keys(mod_a, rows, &mut taken),
        2,
    )?;
    put_rows(
        &mut b,
        &clock,
        &rng.distinct_keys(mod_b, rows, &mut taken),
        3,
    )?;
    delete_rows(&mut a, &clock, &rng.distinct_keys(del_a, rows, &mut taken))?;
    let added: Vec<i64> = (rows..rows + add_b as i64).collect();
    put_rows(&mut b, &clock, &added, 4)?;

    let rows_a = stored_rows(&a)?;
    let rows_b = stored_rows(&b)?;
    let diff = diff_rows(&rows_a, &rows_b)?;
    if diff.keys != args.diff {
        return Err(format!("{} keys differ, {} expected", diff.keys, args.diff).into());
    }
    let neg_a = negentropy_storage(&rows_a)?;
    let neg_b = negentropy_storage(&rows_b)?;
    drop((rows_a, rows_b));
    let neg = run_negentropy(&neg_a, &neg_b)?;
    drop((neg_a, neg_b));
    if neg.have != diff.only_a || neg.need != diff.only_b {
        return Err(format!(
            "negentropy found {} have / {} need ids, expected {} / {}",
            neg.have.len(),
            neg.need.len(),
            diff.only_a.len(),
            diff.only_b.len()
        )
        .into());
    }
    // Verify finds the differing keys and moves nothing: the same job as
    // negentropy's have/need ids. The first symbols sent trade bytes for
    // round trips; the default is DEFAULT_INITIAL_SYMBOLS.
    for m0 in [64u32, 128, 256, 512, 1024] {
        let cfg = SyncConfig {
            initial_symbols: m0,
            ..config(SyncMode::Verify, SyncDirection::Both, 100 + m0 as u64)
        };
        let (r, took) = timed_sync(&mut a, &mut b, cfg, false)?;
        let found = r
            .tables
            .iter()
            .map(|t| t.differing_keys.len())
            .sum::<usize>();
        if found != args.diff || r.verified {
            return Err(format!(
                "verify found {found} differing keys, {} expected",
                args.diff
            )
            .into());
        }
        let wire = r.bytes_sent + r.bytes_received;
        if m0 == DEFAULT_INITIAL_SYMBOLS {
            out.line(
                "(b) verify (keys only, like negentropy): bytes",
                &n(wire),
                &n(neg.bytes),
                Some(wire as f64 / neg.bytes as f64),
                "-",
                None,
            );
        }
        println!(
            "    verify with {m0:>4} first symbols: {:>7} B, {} round trips, {}",
            n(wire),
            r.round_trips,
            ms(took)
        );
    }
    let (r, took) = timed_sync(
        &mut a,
        &mut b,
        config(SyncMode::Reconcile, SyncDirection::Both, 5),
        true,
    )?;
    same_digest(&a, &b, "reconcile")?;
    let wire = r.bytes_sent + r.bytes_received;
    let ratio = wire as f64 / neg.bytes as f64;
    out.line(
        &format!("(b) reconcile, {} rows differ: bytes", n(args.diff as u64)),
        &n(wire),
        &n(neg.bytes),
        Some(ratio),
        "≤ 1× negent.",
        Some(ratio <= 1.0),
    );
    out.line(
        "(b) reconcile: round trips (ref: negentropy)",
        &r.round_trips.to_string(),
        &neg.round_trips.to_string(),
        Some(r.round_trips as f64 / neg.round_trips as f64),
        "≤ 4",
        Some(r.round_trips <= 4),
    );
    let twice = 2 * diff.bytes as u64;
    out.line(
        "(b) reconcile: bytes vs 2× differing rows",
        &n(wire),
        &n(twice),
        Some(wire as f64 / twice as f64),
        "≤ 1× (stretch)",
        Some(wire <= twice),
    );
    println!(
        "    reconcile: {} (sent {} B, received {} B; rows pushed {}, pulled {}); differing items {} here + {} there, rows {} B",
        ms(took),
        n(r.bytes_sent),
        n(r.bytes_received),
        r.rows_pushed,
        r.rows_pulled,
        diff.only_a.len(),
        diff.only_b.len(),
        n(diff.bytes as u64)
    );
    println!(
        "    negentropy: {} to find the ids (moving the rows would take one more exchange)",
        ms(neg.time)
    );
    let first_reconcile = took;

    // (b') A second round on the same replicas: the tables now keep their
    // row-id symbols up to date on every write (built by the first session),
    // so the session's CPU time no longer grows with the table. Both runs
    // are in-process, both sides' work included.
    let half = args.diff / 2;
    put_rows(
        &mut a,
        &clock,
        &rng.distinct_keys(half, rows, &mut taken),
        5,
    )?;
    put_rows(
        &mut b,
        &clock,
        &rng.distinct_keys(args.diff - half, rows, &mut taken),
        6,
    )?;
    let rows_a = stored_rows(&a)?;
    let rows_b = stored_rows(&b)?;
    let neg_a = negentropy_storage(&rows_a)?;
    let neg_b = negentropy_storage(&rows_b)?;
    drop((rows_a, rows_b));
    let cpu0 = cpu_time();
    let neg2 = run_negentropy(&neg_a, &neg_b)?;
    let cpu1 = cpu_time();
    drop((neg_a, neg_b));
    let cpu2 = cpu_time();
    let (r2, wall2) = timed_sync(
        &mut a,
        &mut b,
        config(SyncMode::Reconcile, SyncDirection::Both, 6),
        true,
    )?;
    let cpu3 = cpu_time();
    same_digest(&a, &b, "second reconcile")?;
    // CPU time of this thread where Linux reports it (a loaded machine
    // inflates wall time), else wall time.
    let (took2, neg_took) = match (cpu0, cpu1, cpu2, cpu3) {
        (Some(c0), Some(c1), Some(c2), Some(c3)) => (c3 - c2, c1 - c0),
        _ => (wall2, neg2.time),
    };
    let ratio = took2.as_secs_f64() / neg_took.as_secs_f64().max(1e-9);
    out.line(
        &format!(
            "(b') reconcile CPU, {} rows differ, symbols kept",
            n(args.diff as u64)
        ),
        &ms(took2),
        &ms(neg_took),
        Some(ratio),
        "≤ 2× negent.",
        Some(ratio <= 2.0),
    );
    println!(
        "    first reconcile (symbols built from every row): {} wall; second: {} CPU, {} wall ({} B, {} round trips)",
        ms(first_reconcile),
        ms(took2),
        ms(wall2),
        n(r2.bytes_sent + r2.bytes_received),
        r2.round_trips
    );

    println!();
    if out.misses.is_empty() {
        println!("all targets met");
    } else {
        println!("targets missed: {}", out.misses.join("; "));
    }
    Ok(())
}
