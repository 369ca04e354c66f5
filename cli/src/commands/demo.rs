//! `tablesync demo`: a durable region end to end.
//!
//! Loads generated rows with `batch_write` under the `batch` sync policy
//! (group commit, fsync on close: the fast way to load; `--sync always`
//! fsyncs every batch instead), reads, updates and deletes, shows the change
//! log and the digest, then closes, reopens and checks that the digest and
//! row count survived. Then a second region syncs with it
//! (`demo_sync.rs`). Any mismatch ends with a `DemoCheckFailed` error.

use crate::args::DemoArgs;
use crate::error::{file_error, CliError, CliResult, DEMO_CHECK};
use crate::open::open_or_create;
use crate::progress;
use crate::rowjson::{record_to_json, row_to_json};
use std::path::Path;
use std::time::Instant;
use tablesync::{
    Column, Condition, Database, Direction, GetOptions, PkColumn, PkType, PrimaryKey, RangeBound,
    RangeOptions, RowExistence, RowUpdate, SyncPolicy, TableSchema, WriteOp,
};

/// Marker file that says a directory was made by the demo (and may be wiped).
const MARKER: &str = ".tablesync-demo";
/// The table the demo creates.
pub(super) const TABLE: &str = "users";
/// Rows per `batch_write` (the core's limit).
const BATCH: u64 = 200;

pub(super) fn check(ok: bool, what: impl Into<String>) -> CliResult<()> {
    if ok {
        Ok(())
    } else {
        Err(CliError::new(DEMO_CHECK, what))
    }
}

/// Wipe `dir` if it is empty or an earlier demo's; refuse anything else.
fn prepare_dir(dir: &Path) -> CliResult<()> {
    if dir.exists() {
        let mut entries = std::fs::read_dir(dir).map_err(|e| file_error(dir, e))?;
        let empty = entries.next().is_none();
        if !empty && !dir.join(MARKER).is_file() {
            return Err(file_error(
                dir,
                "refusing to wipe a non-empty directory that an earlier `tablesync demo` did not create (pass --dir)",
            ));
        }
        std::fs::remove_dir_all(dir).map_err(|e| file_error(dir, e))?;
    }
    std::fs::create_dir_all(dir).map_err(|e| file_error(dir, e))?;
    std::fs::write(
        dir.join(MARKER),
        b"made by `tablesync demo`; wiped by the next run\n",
    )
    .map_err(|e| file_error(dir, e))
}

/// A deterministic pseudo-random stream (splitmix64).
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// The generated columns of row `uid` (about 100 bytes).
pub fn demo_columns(uid: u64) -> Vec<Column> {
    let r = mix(uid);
    vec![
        Column::new("name", format!("user-{uid:06}")),
        Column::new("email", format!("user{uid}@example.com")),
        Column::new("age", 18 + (r % 60) as i64),
        Column::new("score", (r >> 8) as f64 / (1u64 << 56) as f64 * 100.0),
        Column::new("active", r % 3 != 0),
        Column::new("visits", (r >> 20) as i64 % 1000),
        Column::new("token", mix(r).to_le_bytes().to_vec()),
    ]
}

pub(super) fn key(uid: u64) -> PrimaryKey {
    PrimaryKey::new([("uid", uid as i64)])
}

fn show(label: &str, row: Option<&tablesync::Row>) {
    match row {
        Some(r) => println!("   {label}: {}", row_to_json(r, false)),
        None => println!("   {label}: null (no such row)"),
    }
}

pub(super) fn count_rows(db: &Database) -> CliResult<u64> {
    Ok(db.describe_table(TABLE)?.row_count)
}

fn load(db: &mut Database, rows: u64) -> CliResult<f64> {
    let bar = progress::rows(rows, "loading");
    let started = Instant::now();
    let mut uid = 1;
    while uid <= rows {
        let end = (uid + BATCH - 1).min(rows);
        let ops: Vec<WriteOp> = (uid..=end)
            .map(|u| WriteOp::Put {
                table: TABLE.into(),
                primary_key: key(u),
                columns: demo_columns(u),
                condition: Condition::ignore(),
            })
            .collect();
        for r in db.batch_write(ops)? {
            r?;
        }
        bar.inc(end - uid + 1);
        uid = end + 1;
    }
    bar.finish_and_clear();
    Ok(started.elapsed().as_secs_f64())
}

/// Run the demo.
pub fn run(a: &DemoArgs, region: Option<&str>, sync: SyncPolicy) -> CliResult<()> {
    let region = region.unwrap_or("eu");
    if a.rows < 20 {
        return Err(CliError::arg("--rows must be at least 20"));
    }
    let rows = a.rows;
    prepare_dir(&a.dir)?;
    let db_dir = a.dir.join("db");
    println!(
        "tablesync demo: durable region '{region}' in {}",
        db_dir.display()
    );
    println!(
        "   sync policy: {sync:?}{}",
        if sync == SyncPolicy::Batch {
            " (group commit, everything fsynced by close; the fast way to load — pass --sync always to fsync every batch)"
        } else {
            ""
        }
    );
    let mut db = open_or_create(&db_dir, Some(region), sync)?;

    println!("==> create table '{TABLE}' (primary key uid INTEGER)");
    db.create_table(TableSchema::new(
        TABLE,
        vec![PkColumn::new("uid", PkType::Integer)],
    ))?;

    println!("==> load {rows} rows with batch_write ({BATCH} rows a batch)");
    let secs = load(&mut db, rows)?;
    println!(
        "   loaded {rows} rows in {secs:.2} s ({:.0} rows/s)",
        rows as f64 / secs.max(1e-9)
    );
    check(count_rows(&db)? == rows, "row count after loading")?;

    println!("==> point reads");
    let opts = GetOptions::default();
    for uid in [1, rows / 2, rows] {
        let row = db.get_row(TABLE, &key(uid), &opts)?;
        check(row.is_some(), format!("row uid={uid} should exist"))?;
        show(&format!("get uid={uid}"), row.as_ref());
    }
    let absent = db.get_row(TABLE, &key(rows + 1), &opts)?;
    check(absent.is_none(), "a row past the last uid should not exist")?;
    show(&format!("get uid={}", rows + 1), None);

    let (lo, hi) = (rows / 2, rows / 2 + 1000);
    println!("==> range page: {lo} <= uid < {hi}, forward, limit 5");
    let page = db.get_range(
        TABLE,
        &RangeBound::from(key(lo)),
        &RangeBound::from(key(hi)),
        &RangeOptions {
            direction: Direction::Forward,
            limit: Some(5),
            ..RangeOptions::default()
        },
    )?;
    for r in &page.rows {
        println!("   {}", row_to_json(r, false));
    }
    check(page.rows.len() == 5, "range page should hold 5 rows")?;
    let next = page.next_start.as_ref().map(|b| {
        b.0.iter()
            .map(|(n, v)| match v {
                tablesync::PkBound::Value(v) => format!("{n}={}", crate::values::pk_to_json(v)),
                other => format!("{n}={other:?}"),
            })
            .collect::<Vec<_>>()
            .join(", ")
    });
    println!("   next_start: {}", next.unwrap_or_else(|| "none".into()));

    println!("==> updates");
    db.update_row(
        TABLE,
        key(12),
        RowUpdate::new()
            .increment("visits", 5)
            .put(Column::new("name", "Ada Lovelace"))
            .delete_all("token"),
        Condition::row(RowExistence::ExpectExist),
    )?;
    let row = db.get_row(TABLE, &key(12), &opts)?;
    show(
        "update uid=12 (visits += 5, name = \"Ada Lovelace\", token removed)",
        row.as_ref(),
    );
    check(
        row.as_ref().and_then(|r| r.get("token")).is_none(),
        "token should be gone after delete_all",
    )?;
    match db.put_row(
        TABLE,
        key(13),
        vec![Column::new("name", "Mallory")],
        Condition::row(RowExistence::ExpectNotExist),
    ) {
        Err(e) => println!(
            "   put uid=13 with EXPECT_NOT_EXIST is refused, as it should be: {}: {}",
            e.code(),
            e.message()
        ),
        Ok(_) => {
            return Err(CliError::new(
                DEMO_CHECK,
                "EXPECT_NOT_EXIST put on an existing row succeeded",
            ))
        }
    }

    println!("==> deletes: uid 1 to 10 in one batch_write");
    let ops = (1..=10)
        .map(|u| WriteOp::Delete {
            table: TABLE.into(),
            primary_key: key(u),
            condition: Condition::ignore(),
        })
        .collect();
    let deleted = db
        .batch_write(ops)?
        .into_iter()
        .filter(|r| r.is_ok())
        .count();
    println!(
        "   deleted {deleted} rows; get uid=5 now returns {}",
        if db.get_row(TABLE, &key(5), &opts)?.is_some() {
            "a row"
        } else {
            "null"
        }
    );
    let expected = rows - 10;
    check(
        count_rows(&db)? == expected,
        "row count after deleting 10 rows",
    )?;

    let next_cursor = db.next_cursor()?;
    let tail_from = next_cursor.saturating_sub(3);
    println!("==> change log: last 3 of {} records", next_cursor - 1);
    for r in db.changes_since(tail_from, 3)?.records {
        println!("   {}", record_to_json(&r));
    }

    println!("==> digest");
    let before = db.table_digest(TABLE)?;
    let verified = db.verify_table_digest(TABLE)?;
    check(
        verified == before,
        "verify_table_digest differs from table_digest",
    )?;
    println!("   rows: {expected}");
    println!("   digest before close: {before}");
    println!("   verify_table_digest: every row rehashed, matches");

    println!("==> close and reopen {}", db_dir.display());
    db.close()?;
    drop(db);
    let started = Instant::now();
    let mut db = open_or_create(&db_dir, Some(region), sync)?;
    let reopen_ms = started.elapsed().as_secs_f64() * 1000.0;
    let after = db.table_digest(TABLE)?;
    let reopened_rows = count_rows(&db)?;
    println!("   reopened in {reopen_ms:.0} ms; rows: {reopened_rows}");
    println!("   digest after reopen:  {after}");
    check(
        reopened_rows == expected,
        format!("{reopened_rows} rows after reopen, expected {expected}"),
    )?;
    check(
        after == before,
        format!("digest after reopen {after} differs from {before}"),
    )?;
    check(
        db.verify_table_digest(TABLE)? == after,
        "verify_table_digest after reopen",
    )?;
    let row = db.get_row(TABLE, &key(12), &opts)?;
    check(
        row.as_ref().and_then(|r| r.get("name")) == Some(&"Ada Lovelace".into()),
        "the update of uid=12 should survive reopen",
    )?;
    println!("OK: digest, row count and updates survived close and reopen");
    super::demo_sync::two_regions(&mut db, &a.dir, region, expected, sync)?;
    db.close()?;
    Ok(())
}
