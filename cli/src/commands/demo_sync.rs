//! The demo's second half: a second durable region next to the first,
//! writes on both, an incremental pull and push, then a divergence that the
//! change log can no longer bridge, healed by `auto` falling back to
//! reconcile, and the same digest on both regions at the end.

use super::demo::{check, count_rows, demo_columns, key, TABLE};
use super::sides::{run_session, session_id};
use super::summary::{print_sync, Sides};
use crate::error::CliResult;
use crate::open::open_or_create;
use std::path::Path;
use tablesync::sync::{respond, SyncConfig, SyncDirection, SyncMode, SyncReport};
use tablesync::{Column, Condition, Database, RowUpdate, SyncPolicy};

/// Run one session with `us` initiating against `eu`.
fn session(
    us: &mut Database,
    eu: &mut Database,
    mode: SyncMode,
    direction: SyncDirection,
    what: &str,
) -> CliResult<SyncReport> {
    let config = SyncConfig {
        session_id: session_id()?,
        ..SyncConfig::new(mode, direction)
    };
    run_session(us, &mut |frame, cap| respond(eu, frame, cap), config, what)
}

fn bump(db: &mut Database, uid: u64, by: i64) -> CliResult<()> {
    db.update_row(
        TABLE,
        key(uid),
        RowUpdate::new().increment("visits", by),
        Condition::ignore(),
    )?;
    Ok(())
}

/// `n` existing uids spread over the table (uid 11 and up survive the deletes).
fn spread(rows: u64, n: u64) -> Vec<u64> {
    let step = ((rows - 11) / n).max(1);
    (0..n)
        .map(|i| 11 + i * step)
        .filter(|&u| u <= rows)
        .collect()
}

/// The second half of the demo. `eu` is the first region, open, holding
/// `expected` rows of `users`.
pub fn two_regions(
    eu: &mut Database,
    demo_dir: &Path,
    eu_name: &str,
    expected: u64,
    sync: SyncPolicy,
) -> CliResult<()> {
    let us_name = if eu_name == "us" {
        "us-b".to_string()
    } else if eu_name == "eu" {
        "us".to_string()
    } else {
        format!("{eu_name}-b")
    };
    let rows_loaded = expected + 10;
    let us_dir = demo_dir.join("db-b");
    let names = Sides {
        src: &us_name,
        dst: eu_name,
        swapped: false,
    };
    println!(
        "==> second durable region '{us_name}' in {}",
        us_dir.display()
    );
    let mut us = open_or_create(&us_dir, Some(&us_name), sync)?;
    let seed = session(&mut us, eu, SyncMode::Auto, SyncDirection::Pull, "seeding")?;
    println!(
        "   '{us_name}' starts empty and pulls the whole change log of '{eu_name}': {} records in {} round trip{}, {} ms, {} bytes",
        seed.records_pulled,
        seed.round_trips,
        if seed.round_trips == 1 { "" } else { "s" },
        seed.duration_ms,
        seed.bytes_received
    );
    check(seed.verified, "the seeding pull should verify")?;
    check(
        count_rows(&us)? == expected,
        "the second region should hold every row after seeding",
    )?;

    println!("==> writes on both sides");
    let mid = rows_loaded / 2;
    for uid in mid..mid + 3 {
        bump(eu, uid, 1)?;
    }
    println!(
        "   '{eu_name}': visits += 1 on uid {mid}, {}, {}",
        mid + 1,
        mid + 2
    );
    for uid in rows_loaded + 1..=rows_loaded + 2 {
        us.put_row(TABLE, key(uid), demo_columns(uid), Condition::ignore())?;
    }
    println!(
        "   '{us_name}': new rows uid {} and {}",
        rows_loaded + 1,
        rows_loaded + 2
    );

    println!("==> incremental pull: '{us_name}' fetches the 3 changes of '{eu_name}'");
    let pull = session(
        &mut us,
        eu,
        SyncMode::Incremental,
        SyncDirection::Pull,
        "pulling",
    )?;
    print_sync(&pull, &names, SyncDirection::Pull);
    check(
        pull.records_pulled == 3,
        format!(
            "the pull should bring 3 records, brought {}",
            pull.records_pulled
        ),
    )?;
    println!("==> incremental push: '{us_name}' sends its 2 new rows");
    let push = session(
        &mut us,
        eu,
        SyncMode::Incremental,
        SyncDirection::Push,
        "pushing",
    )?;
    print_sync(&push, &names, SyncDirection::Push);
    check(
        push.records_pushed == 2 && push.verified,
        "the push should send 2 records and leave equal digests",
    )?;

    println!("==> divergence: more writes, then '{eu_name}' truncates its change log");
    let eu_changed = spread(rows_loaded, 50);
    for &uid in &eu_changed {
        bump(eu, uid, 10)?;
    }
    let us_changed: Vec<u64> = spread(rows_loaded, 5).iter().map(|u| u + 2).collect();
    for &uid in &us_changed {
        us.put_row(
            TABLE,
            key(uid),
            vec![Column::new("name", format!("changed in {us_name}"))],
            Condition::ignore(),
        )?;
    }
    let cut = eu.next_cursor()?;
    eu.truncate_log(cut)?;
    println!(
        "   '{eu_name}' updated {} rows, '{us_name}' replaced {} rows; '{eu_name}' dropped every log record before cursor {cut}",
        eu_changed.len(),
        us_changed.len()
    );
    match session(
        &mut us,
        eu,
        SyncMode::Incremental,
        SyncDirection::Both,
        "syncing",
    ) {
        Err(e) => println!("   incremental sync now fails: {}: {}", e.code, e.message),
        Ok(_) => {
            return Err(crate::error::CliError::new(
                crate::error::DEMO_CHECK,
                "incremental sync should fail once the log is truncated",
            ))
        }
    }

    println!("==> auto sync: the log cannot serve, so only the differing rows move");
    let heal = session(
        &mut us,
        eu,
        SyncMode::Auto,
        SyncDirection::Both,
        "reconciling",
    )?;
    print_sync(&heal, &names, SyncDirection::Both);
    let size = count_rows(&us)?;
    let differing = eu_changed
        .iter()
        .chain(&us_changed)
        .collect::<std::collections::BTreeSet<_>>()
        .len() as u64;
    let moved = heal.rows_pulled + heal.rows_pushed;
    println!(
        "   rows moved: {moved} ({} into '{us_name}', {} into '{eu_name}') for {differing} differing rows, of {size} rows in the table ({:.2}%)",
        heal.rows_pulled,
        heal.rows_pushed,
        moved as f64 * 100.0 / size.max(1) as f64
    );
    check(
        heal.fell_back_to_reconcile,
        "auto should fall back to reconcile",
    )?;
    check(heal.verified, "the reconcile should leave equal digests")?;
    // Each differing row's state goes both ways at most once (plus a little slack).
    check(
        moved >= differing && moved <= 2 * differing + 10,
        format!("{moved} rows moved for {differing} differing rows"),
    )?;

    println!("==> final digests");
    let (d_eu, d_us) = (
        eu.verify_table_digest(TABLE)?,
        us.verify_table_digest(TABLE)?,
    );
    println!("   '{eu_name}' digest: {d_eu}");
    println!("   '{us_name}' digest: {d_us}");
    check(d_eu == d_us, "the two regions' digests should match")?;
    check(
        count_rows(eu)? == size,
        "the two regions should hold the same number of rows",
    )?;
    us.close()?;
    println!("OK: regions '{eu_name}' and '{us_name}' hold the same {size} rows (digest {d_us})");
    Ok(())
}
