//! `tablesync replicate SRC DST`: one link in the foreground.

use super::replicate_plot::write_plot;
use super::sides::Side;
use crate::args::{DirectionArg, ReplicateArgs};
use crate::error::{CliError, CliResult};
use crate::open::{open_existing, open_or_create};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tablesync::replication::{parse_duration_ms, LinkConfig, LinkStatus, Trigger};
use tablesync::sync::SyncDirection;
use tablesync::{
    Column, Condition, Database, PkColumn, PkType, PrimaryKey, SyncPolicy, TableSchema,
};
use tablesync_replicate::{DriverOptions, LinkHandle, Peer};

fn direction(d: DirectionArg) -> SyncDirection {
    match d {
        DirectionArg::Pull => SyncDirection::Pull,
        DirectionArg::Push => SyncDirection::Push,
        DirectionArg::Both => SyncDirection::Both,
    }
}

fn trigger_of(s: &str) -> Option<Trigger> {
    Trigger::parse(s).ok()
}

fn line(s: &LinkStatus, elapsed: Duration) -> String {
    format!(
        "{:>6.1}s  {:<8} lag {:>6} ms  pending {:>7}  shipped {:>9} records {:>10} bytes  rpo {}{}",
        elapsed.as_secs_f64(),
        s.state.name(),
        s.lag_ms,
        s.pending,
        s.records_shipped,
        s.bytes_shipped,
        s.rpo_ms
            .map_or("unbounded".to_string(), |r| format!("{r} ms")),
        s.last_error
            .as_ref()
            .map_or(String::new(), |e| format!("  last error: {e}"))
    )
}

/// Write `rate` rows per second of `bytes` bytes into `load` (paced in
/// 10 ms slices) until `stop`.
fn load_writer(
    db: Arc<Mutex<Database>>,
    rate: u64,
    bytes: usize,
    stop: Arc<AtomicBool>,
) -> std::thread::JoinHandle<u64> {
    std::thread::spawn(move || {
        let payload = "x".repeat(bytes.max(1));
        let start = Instant::now();
        let mut written = 0u64;
        while !stop.load(Ordering::Relaxed) {
            let due = (start.elapsed().as_secs_f64() * rate as f64) as u64;
            while written < due {
                let mut g = db.lock().unwrap_or_else(|p| p.into_inner());
                let r = g.put_row(
                    "load",
                    PrimaryKey::new([("k", written as i64)]),
                    vec![Column::new("v", payload.as_str())],
                    Condition::ignore(),
                );
                drop(g);
                if r.is_err() {
                    return written;
                }
                written += 1;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        written
    })
}

/// Run the link until `--duration` passes or Ctrl-C.
pub fn replicate(a: &ReplicateArgs, region: Option<&str>, policy: SyncPolicy) -> CliResult<()> {
    let trigger = Trigger::parse(&a.trigger)?;
    let duration = a
        .duration
        .as_deref()
        .map(parse_duration_ms)
        .transpose()?
        .map(|ms| Duration::from_millis(ms as u64));
    let mut src_db = open_existing(&a.src, region, policy)?;
    if a.load.is_some() && !src_db.list_tables()?.iter().any(|t| t == "load") {
        src_db.create_table(TableSchema::new(
            "load",
            vec![PkColumn::new("k", PkType::Integer)],
        ))?;
    }
    let src_region = src_db.region().to_string();
    let src = Arc::new(Mutex::new(src_db));
    let (peer, peer_region, peer_db) = match Side::parse(&a.dst)? {
        Side::Dir(dir) => {
            let db = open_or_create(&dir, None, policy)?;
            let name = db.region().to_string();
            let db = Arc::new(Mutex::new(db));
            (Peer::Local(db.clone()), name, Some(db))
        }
        Side::Url(url) => {
            let remote = tablesync_http::HttpRemote::new(&url, a.token.as_deref().unwrap_or(""))?;
            (Peer::Http(remote), url.clone(), None)
        }
    };
    let name = a.name.clone().unwrap_or_else(|| {
        let clean: String = peer_region
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                    c
                } else {
                    '_'
                }
            })
            .take(100)
            .collect();
        format!("to-{clean}")
    });
    let tables = (!a.tables.is_empty()).then(|| a.tables.clone());
    let config = LinkConfig::new(name, peer_region.clone())
        .trigger(trigger)
        .direction(direction(a.direction))
        .tables(tables);
    let link = LinkHandle::spawn(
        src.clone(),
        peer,
        config,
        DriverOptions {
            state_dir: Some(a.src.clone()),
            ..DriverOptions::default()
        },
    )?;
    println!(
        "link {} → {} ({}, {}); Ctrl-C stops",
        src_region,
        peer_region,
        a.trigger,
        direction(a.direction).name()
    );
    if matches!(trigger_of(&a.trigger), Some(Trigger::Manual)) {
        // A manual link run by hand: one session now.
        link.trigger()?;
    }
    let stop = Arc::new(AtomicBool::new(false));
    let s2 = stop.clone();
    let _ = ctrlc::set_handler(move || s2.store(true, Ordering::SeqCst));
    let loader = a
        .load
        .map(|rate| load_writer(src.clone(), rate, a.load_bytes, stop.clone()));
    let started = Instant::now();
    let mut last_print = Instant::now() - Duration::from_secs(1);
    while !stop.load(Ordering::SeqCst) && duration.is_none_or(|d| started.elapsed() < d) {
        if last_print.elapsed() >= Duration::from_millis(500) {
            last_print = Instant::now();
            let s = link.status();
            eprint!("\r{}", line(&s, started.elapsed()));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    stop.store(true, Ordering::SeqCst);
    let written = loader.map(|h| h.join().unwrap_or(0));
    // Let what was committed drain (bounded) before stopping.
    if !link.wait_idle(Duration::from_secs(10)) {
        eprintln!("\nthe link still has records pending; they go with its next run");
    }
    let samples = link.samples();
    let status = link.stop()?;
    eprintln!("\r{}", line(&status, started.elapsed()));
    if let Some(w) = written {
        println!("load: {w} rows written into 'load'");
    }
    if let Some(path) = &a.plot {
        write_plot(path, &samples).map_err(|e| {
            CliError::new(crate::error::FILE_IO, format!("{}: {e}", path.display()))
        })?;
        println!("plot: {}", path.display());
    }
    let mut src = src.lock().unwrap_or_else(|p| p.into_inner());
    src.close()?;
    if let Some(p) = peer_db {
        p.lock().unwrap_or_else(|p| p.into_inner()).close()?;
    }
    Ok(())
}
