//! `tablesync replicate SRC DST`: one link in the foreground.

use super::replicate_bench::{figures, load_schema, load_writer, local_write_rate, report, Load};
use super::replicate_plot::write_plot;
use super::sides::Side;
use crate::args::{DirectionArg, ReplicateArgs};
use crate::error::{CliError, CliResult};
use crate::open::{open_existing, open_or_create};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tablesync::replication::{parse_duration_ms, LinkConfig, LinkStatus, Trigger};
use tablesync::sync::SyncDirection;
use tablesync::SyncPolicy;
use tablesync_http::{BackgroundFolds, SharedDb};
use tablesync_replicate::{DriverOptions, LinkHandle, Peer};

/// The sync direction of a `--direction` argument.
pub(super) fn direction(d: DirectionArg) -> SyncDirection {
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

/// Background folds for a region this command holds.
fn start_folds(db: &Arc<Mutex<tablesync::Database>>) -> CliResult<BackgroundFolds> {
    BackgroundFolds::start(SharedDb::Mutex(db.clone())).map_err(|e| {
        CliError::new(
            crate::error::FILE_IO,
            format!("starting the fold thread: {e}"),
        )
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
    let load = a.load.as_deref().map(Load::parse).transpose()?;
    // The same-run reference of `--load max`: local writes, no link.
    let reference = match load {
        Some(Load::Max) => Some(local_write_rate(&a.src, policy, a.load_bytes, 2.0)?),
        _ => None,
    };
    let mut src_db = open_existing(&a.src, region, policy)?;
    if load.is_some() && !src_db.list_tables()?.iter().any(|t| t == "load") {
        src_db.create_table(load_schema("load"))?;
    }
    let src_region = src_db.region().to_string();
    let src = Arc::new(Mutex::new(src_db));
    // Delta checkpoints and their folds run on threads of their own on both
    // sides, so neither the writer nor the link's apply pays for one
    // (issues 11 and 13).
    let mut folds = Vec::new();
    if !a.inline_folds {
        folds.push(start_folds(&src)?);
    }
    let (peer, peer_region, peer_db) = match Side::parse(&a.dst)? {
        Side::Dir(dir) => {
            let db = open_or_create(&dir, None, policy)?;
            let name = db.region().to_string();
            let db = Arc::new(Mutex::new(db));
            if !a.inline_folds {
                folds.push(start_folds(&db)?);
            }
            (Peer::Local(db.clone()), name, Some(db))
        }
        Side::Url(url) => {
            // Frames carry the epoch of the group SRC belongs to (0: none),
            // as every link client does (docs/SERVER.md "Links").
            let epoch = tablesync::replication::files::load_group(&a.src)?.map_or(0, |g| g.epoch);
            let remote = tablesync_http::HttpRemote::new(&url, a.token.as_deref().unwrap_or(""))?
                .with_epoch(Arc::new(std::sync::atomic::AtomicU64::new(epoch)));
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
            // Lag percentiles need dense samples.
            sample_every_ms: if load.is_some() { 10 } else { 100 },
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
    let lag = Arc::new(AtomicI64::new(0));
    let loader = load.map(|l| load_writer(src.clone(), l, a.load_bytes, stop.clone(), lag.clone()));
    let started = Instant::now();
    let mut last_print = Instant::now() - Duration::from_secs(1);
    while !stop.load(Ordering::SeqCst) && duration.is_none_or(|d| started.elapsed() < d) {
        if load == Some(Load::Max) || last_print.elapsed() >= Duration::from_millis(500) {
            let s = link.status();
            lag.store(s.lag_ms, Ordering::Relaxed);
            if last_print.elapsed() >= Duration::from_millis(500) {
                last_print = Instant::now();
                eprint!("\r{}", line(&s, started.elapsed()));
            }
        }
        std::thread::sleep(Duration::from_millis(if load == Some(Load::Max) {
            5
        } else {
            50
        }));
    }
    stop.store(true, Ordering::SeqCst);
    let load_ms = started.elapsed().as_millis() as u64;
    let written = loader.map(|h| h.join().unwrap_or(0));
    // Let what was committed drain (bounded) before stopping.
    if !link.wait_idle(Duration::from_secs(10)) {
        eprintln!("\nthe link still has records pending; they go with its next run");
    }
    let samples = link.samples();
    let status = link.stop()?;
    eprintln!("\r{}", line(&status, started.elapsed()));
    if let (Some(w), Some(l)) = (written, load) {
        println!("load: {w} rows written into 'load'");
        let f = figures(&samples, load_ms);
        print!("{}", report(&f, l, w, load_ms as f64 / 1000.0, reference));
    }
    if let Some(path) = &a.plot {
        write_plot(path, &samples).map_err(|e| {
            CliError::new(crate::error::FILE_IO, format!("{}: {e}", path.display()))
        })?;
        println!("plot: {}", path.display());
    }
    for f in folds {
        f.stop();
    }
    let mut src = src.lock().unwrap_or_else(|p| p.into_inner());
    src.close()?;
    if let Some(p) = peer_db {
        p.lock().unwrap_or_else(|p| p.into_inner()).close()?;
    }
    Ok(())
}
