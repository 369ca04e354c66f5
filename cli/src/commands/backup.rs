//! `tablesync backup create|list|verify|prune|rekey` and `tablesync restore`.

use super::Outcome;
use crate::backup_args::{
    BackupArgs, BackupCommand, BackupCreateArgs, BackupPruneArgs, BackupRekeyArgs, BackupRepoArgs,
    BackupVerifyArgs, KeyArgs, RestoreArgs,
};
use crate::error::{file_error, CliError, CliResult};
use crate::open::{open_existing, open_or_create, recorded_region};
use indicatif::{HumanBytes, ProgressBar, ProgressStyle};
use serde_json::json;
use std::path::Path;
use std::time::{Duration, Instant};
use tablesync::backup::{
    BackupInfo, BackupMode, BackupOptions, KdfParams, KeySource, Progress, PrunePolicy, Repository,
    RestoreOptions, RestorePoint, VerifyOptions, INIT_RANDOM_LEN, SLOT_RANDOM_LEN,
};
use tablesync::{Database, DatabaseOptions, SyncPolicy};

/// Code of a `backup verify` that found problems.
pub const BACKUP_CHECK: &str = "BackupCheckFailed";

fn read_file(path: &Path) -> CliResult<Vec<u8>> {
    std::fs::read(path).map_err(|e| file_error(path, e))
}

/// The key the arguments name, if any.
fn key_source(k: &KeyArgs) -> CliResult<Option<KeySource>> {
    if let Some(p) = &k.passphrase_file {
        let mut b = read_file(p)?;
        while b.last().is_some_and(|c| *c == b'\n' || *c == b'\r') {
            b.pop();
        }
        if b.is_empty() {
            return Err(CliError::arg(format!(
                "{}: the passphrase is empty",
                p.display()
            )));
        }
        return Ok(Some(KeySource::Passphrase(b)));
    }
    if let Some(p) = &k.key_file {
        return Ok(Some(KeySource::KeyFile(read_file(p)?)));
    }
    Ok(None)
}

fn random<const N: usize>() -> CliResult<[u8; N]> {
    let mut b = [0u8; N];
    getrandom::fill(&mut b)
        .map_err(|e| CliError::new("StorageIo", format!("no randomness from the OS: {e}")))?;
    Ok(b)
}

/// The object store a REPO argument names (a directory or a URL).
fn open_store(location: &str, k: &KeyArgs) -> CliResult<Box<dyn tablesync::backup::ObjectStore>> {
    let mut opts = tablesync_store::StoreOptions::from_env();
    if let Some(e) = &k.s3_endpoint {
        opts.endpoint = Some(e.clone());
    }
    Ok(tablesync_store::open_store_with(location, &opts)?)
}

fn open_repo(location: &str, k: &KeyArgs) -> CliResult<Repository> {
    let key = key_source(k)?;
    let store = open_store(location, k)?;
    Ok(Repository::open(store, key.as_ref())?)
}

fn open_or_init_repo(location: &str, k: &KeyArgs) -> CliResult<Repository> {
    let key = key_source(k)?;
    let store = open_store(location, k)?;
    if store.exists(tablesync::backup::CONFIG_NAME)? {
        return Ok(Repository::open(store, key.as_ref())?);
    }
    let r = random::<INIT_RANDOM_LEN>()?;
    Ok(Repository::init(
        store,
        key.as_ref().map(|k| (k, KdfParams::default())),
        &r,
    )?)
}

/// Whether a location names a backup repository: an object-storage URL,
/// `file://…`, or a directory holding a repository's config object.
pub fn is_repository(location: &str) -> bool {
    location.contains("://")
        || Path::new(location)
            .join(tablesync::backup::CONFIG_NAME)
            .is_file()
}

/// One table of a repository as of `point`, restored into memory (every
/// digest checked on the way).
pub fn table_at(
    location: &str,
    k: &KeyArgs,
    table: &str,
    point: RestorePoint,
) -> CliResult<Database> {
    let repo = open_repo(location, k)?;
    let opts = RestoreOptions {
        point,
        tables: Some(vec![table.to_string()]),
        ..Default::default()
    };
    let (tip, _) = tablesync::backup::plan(&repo, &opts.point)?;
    let region = repo.manifest(&tip)?.region;
    let (db, _) = Database::restore_from(
        &repo,
        &opts,
        DatabaseOptions::new(region.as_str()),
        &mut |_| {},
    )?;
    Ok(db)
}

/// A progress bar over items, showing bytes, rate and ETA.
fn bar(what: &str) -> ProgressBar {
    let pb = ProgressBar::new(0);
    pb.set_style(
        ProgressStyle::with_template(
            "{msg:>10} [{bar:30.cyan/blue}] {human_pos}/{human_len} items, {prefix} ({per_sec}, eta {eta})",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    pb.set_message(what.to_string());
    pb
}

fn on_progress(pb: &ProgressBar, p: Progress, started: Instant) {
    pb.set_length(p.total.max(p.done));
    pb.set_position(p.done);
    let secs = started.elapsed().as_secs_f64().max(1e-3);
    pb.set_prefix(format!(
        "{} at {}/s",
        HumanBytes(p.bytes),
        HumanBytes((p.bytes as f64 / secs) as u64)
    ));
}

/// RFC 3339 text of a Unix time in milliseconds (UTC).
pub fn format_ms(ms: i64) -> String {
    let days = ms.div_euclid(86_400_000);
    let rem = ms.rem_euclid(86_400_000);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3_600_000,
        rem / 60_000 % 60,
        rem / 1000 % 60,
        rem % 1000
    )
}

/// Unix milliseconds of an RFC 3339 time (`Z` or `±HH:MM` offset).
pub fn parse_time(s: &str) -> CliResult<i64> {
    let bad = || {
        CliError::arg(format!(
            "'{s}' is not an RFC 3339 time such as 2026-12-01T10:00:00Z"
        ))
    };
    let b = s.as_bytes();
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't' | b' ')
        || b[13] != b':'
        || b[16] != b':'
    {
        return Err(bad());
    }
    let num = |r: std::ops::Range<usize>| -> CliResult<i64> {
        s.get(r)
            .filter(|t| t.bytes().all(|c| c.is_ascii_digit()))
            .and_then(|t| t.parse().ok())
            .ok_or_else(bad)
    };
    let (y, mo, d, h, mi, sec) = (
        num(0..4)?,
        num(5..7)?,
        num(8..10)?,
        num(11..13)?,
        num(14..16)?,
        num(17..19)?,
    );
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || sec > 60 {
        return Err(bad());
    }
    let mut i = 19;
    let mut ms = 0i64;
    if b.get(i) == Some(&b'.') {
        let start = i + 1;
        i = start;
        while b.get(i).is_some_and(|c| c.is_ascii_digit()) {
            i += 1;
        }
        if i == start {
            return Err(bad());
        }
        let frac = &s[start..i.min(start + 3)];
        ms = frac.parse::<i64>().map_err(|_| bad())? * 10i64.pow(3 - frac.len() as u32);
    }
    let offset_min = match &s[i..] {
        "Z" | "z" => 0,
        o if o.len() == 6 && (o.starts_with('+') || o.starts_with('-')) && &o[3..4] == ":" => {
            let v = num(i + 1..i + 3)? * 60 + num(i + 4..i + 6)?;
            if o.starts_with('-') {
                -v
            } else {
                v
            }
        }
        _ => return Err(bad()),
    };
    // Days from civil (inverse of format_ms).
    let y2 = if mo <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let mp = (mo + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Ok(days * 86_400_000 + h * 3_600_000 + mi * 60_000 + sec * 1000 + ms - offset_min * 60_000)
}

/// `1s`, `500ms`, `2m`, `1h`.
pub fn parse_interval(s: &str) -> CliResult<Duration> {
    let (n, unit) = s
        .find(|c: char| !c.is_ascii_digit())
        .map_or((s, "s"), |i| (&s[..i], &s[i..]));
    let n: u64 = n
        .parse()
        .map_err(|_| CliError::arg(format!("'{s}' is not an interval such as 1s or 500ms")))?;
    let ms = match unit {
        "ms" => n,
        "s" => n * 1000,
        "m" => n * 60_000,
        "h" => n * 3_600_000,
        _ => return Err(CliError::arg(format!("'{s}': unit must be ms, s, m or h"))),
    };
    if ms == 0 {
        return Err(CliError::arg("the interval must be positive"));
    }
    Ok(Duration::from_millis(ms))
}

fn info_json(b: &BackupInfo) -> serde_json::Value {
    json!({
        "id": b.id,
        "kind": b.kind.name(),
        "parent": b.parent,
        "created": format_ms(b.created_ms),
        "created_ms": b.created_ms,
        "region": b.region,
        "point": b.point,
        "covers_from": b.covers_from,
        "tables": b.tables,
        "rows": b.rows,
        "records": b.records,
        "bytes": b.bytes,
        "new_bytes": b.new_bytes,
    })
}

fn info_line(b: &BackupInfo) -> String {
    format!(
        "{}  {:<11} {}  {} tables, {} rows, {} records, {} ({} new)",
        &b.id[..16],
        b.kind.name(),
        format_ms(b.created_ms),
        b.tables.len(),
        b.rows,
        b.records,
        HumanBytes(b.bytes),
        HumanBytes(b.new_bytes)
    )
}

/// `tablesync backup …`: `Differ` when verify finds problems.
pub fn run(a: &BackupArgs, region: Option<&str>) -> CliResult<Outcome> {
    match &a.command {
        BackupCommand::Create(c) => create(c, region).map(|()| Outcome::Done),
        BackupCommand::List(l) => list(l).map(|()| Outcome::Done),
        BackupCommand::Verify(v) => verify(v),
        BackupCommand::Prune(p) => prune(p).map(|()| Outcome::Done),
        BackupCommand::Rekey(r) => rekey(r).map(|()| Outcome::Done),
    }
}

/// Where `backup create` reads from: a directory, or a running server.
enum Source {
    /// A database directory (opened for each round).
    Dir,
    /// A `tablesync serve` at a URL. The first round imports the whole
    /// snapshot; the copy is kept (`mirror`) and later rounds fetch only the
    /// snapshot delta since its cursor (FORMAT.md §11.1), taking the whole
    /// snapshot again when the delta does not reproduce the server's tables
    /// (rows that arrived outside the log) or its log was truncated.
    Server {
        client: tablesync_http::RowClient,
        /// The region as of the last round backed up.
        mirror: Option<Box<Database>>,
        /// Bytes the server sent for the current round, and whether they
        /// were a delta.
        fetched: (u64, bool),
    },
}

impl Source {
    fn of(a: &BackupCreateArgs) -> CliResult<Source> {
        let Some(url) = super::group_remote::url_of(&a.dir) else {
            return Ok(Source::Dir);
        };
        let token = a
            .token
            .as_deref()
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                CliError::arg("a server needs a bearer token: set TABLESYNC_TOKEN or pass --token")
            })?;
        let opts = tablesync_http::ClientOptions {
            ca_file: a.ca.clone(),
            insecure_http: a.insecure_http,
            // A snapshot of a large region takes a while to send.
            timeout: Duration::from_secs(3600),
            ..Default::default()
        };
        Ok(Source::Server {
            client: tablesync_http::RowClient::new(&url, token, &opts)?,
            mirror: None,
            fetched: (0, false),
        })
    }

    /// The region to back up now.
    fn take(&mut self, a: &BackupCreateArgs, region: Option<&str>) -> CliResult<Database> {
        match self {
            Source::Dir => Ok(open_existing(&a.dir, region, SyncPolicy::Always)?),
            Source::Server {
                client,
                mirror,
                fetched,
            } => {
                // A copy from the last round follows the server by a delta
                // (small when little changed); a failed round dropped it.
                let mut whole = None;
                if let Some(mut db) = mirror.take() {
                    if let Some(delta) = client.snapshot_delta(db.next_cursor()?)? {
                        if delta.starts_with(b"TSSN") {
                            // A server without deltas ignores `after` and
                            // answers the whole snapshot: use it as such.
                            whole = Some(delta);
                        } else {
                            *fetched = (delta.len() as u64, true);
                            if db.apply_snapshot_delta(&delta)? {
                                return Ok(*db);
                            }
                        }
                    }
                }
                let bytes = match whole {
                    Some(b) => b,
                    None => client.snapshot()?,
                };
                *fetched = (bytes.len() as u64, false);
                let db =
                    Database::import_snapshot(&bytes, std::sync::Arc::new(tablesync::SystemClock))?;
                if let Some(r) = region.filter(|r| *r != db.region()) {
                    return Err(CliError::arg(format!(
                        "the server holds region '{}', not '{r}'",
                        db.region()
                    )));
                }
                Ok(db)
            }
        }
    }
}

fn backup_once(
    a: &BackupCreateArgs,
    region: Option<&str>,
    repo: &Repository,
    source: &mut Source,
) -> CliResult<()> {
    let db = source.take(a, region)?;
    let opts = BackupOptions {
        tables: (!a.tables.is_empty()).then(|| a.tables.clone()),
        mode: if a.full {
            BackupMode::Full
        } else {
            BackupMode::Auto
        },
        ..Default::default()
    };
    let pb = bar("backing up");
    if a.json || a.continuous {
        pb.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let started = Instant::now();
    let out = db.backup(repo, &opts, &mut |p| on_progress(&pb, p, started))?;
    pb.finish_and_clear();
    // Only a copy that is safely backed up is kept for the next round's
    // delta: after a failed round, the whole snapshot is taken again.
    let mut fetched = None;
    if let Source::Server {
        mirror, fetched: f, ..
    } = source
    {
        fetched = Some(*f);
        *mirror = Some(Box::new(db));
    } else {
        drop(db);
    }
    let secs = started.elapsed().as_secs_f64();
    if a.json && (out.created || !a.continuous) {
        let mut j = info_json(&out.info);
        j["created_now"] = json!(out.created);
        j["seconds"] = json!(secs);
        if let Some((bytes, delta)) = fetched {
            // What the server sent for this round: the whole snapshot, or
            // the delta since the last round (FORMAT.md §11.1).
            j["fetched_bytes"] = json!(bytes);
            j["fetched"] = json!(if delta { "delta" } else { "snapshot" });
        }
        println!("{j}");
    } else if out.created {
        println!("{}  ({secs:.2}s)", info_line(&out.info));
    } else if !a.continuous {
        println!("nothing changed since backup {}", &out.info.id[..16]);
    }
    Ok(())
}

fn create(a: &BackupCreateArgs, region: Option<&str>) -> CliResult<()> {
    let mut source = Source::of(a)?;
    // A wrong URL or token is refused before REPO is created.
    if let Source::Server { client, .. } = &source {
        client.has_changes_since(0)?;
    }
    let repo = open_or_init_repo(&a.repo, &a.key)?;
    if !a.continuous {
        return backup_once(a, region, &repo, &mut source);
    }
    let interval = parse_interval(&a.interval)?;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    {
        let stop = stop.clone();
        let _ = ctrlc::set_handler(move || stop.store(true, std::sync::atomic::Ordering::SeqCst));
    }
    let mut round = 0u64;
    while !stop.load(std::sync::atomic::Ordering::SeqCst) {
        let started = Instant::now();
        match backup_once(a, region, &repo, &mut source) {
            Ok(()) => {}
            // Another process holds the directory, or the server is busy
            // or restarting: try again next round (a first round that fails
            // is an error: a wrong token or URL should not loop).
            Err(e) if round > 0 && matches!(e.code, "StorageLocked" | "SyncError") => {
                eprintln!("{}", e.line())
            }
            Err(e) => return Err(e),
        }
        round += 1;
        if a.rounds.is_some_and(|n| round >= n) {
            break;
        }
        if let Some(rest) = interval.checked_sub(started.elapsed()) {
            std::thread::sleep(rest);
        }
    }
    Ok(())
}

fn list(a: &BackupRepoArgs) -> CliResult<()> {
    let repo = open_repo(&a.repo, &a.key)?;
    let all = repo.list()?;
    if a.json {
        println!(
            "{}",
            serde_json::Value::Array(all.iter().map(info_json).collect())
        );
    } else if all.is_empty() {
        println!("no backups");
    } else {
        for b in &all {
            println!("{}", info_line(b));
        }
    }
    Ok(())
}

fn parse_sample(s: &str) -> CliResult<(u32, u32)> {
    let bad = || CliError::arg(format!("--sample '{s}' must be n/t with 1 ≤ n ≤ t"));
    let (n, t) = s.split_once('/').ok_or_else(bad)?;
    let (n, t): (u32, u32) = (n.parse().map_err(|_| bad())?, t.parse().map_err(|_| bad())?);
    if n == 0 || n > t {
        return Err(bad());
    }
    Ok((n, t))
}

fn verify(a: &BackupVerifyArgs) -> CliResult<Outcome> {
    let repo = open_repo(&a.repo, &a.key)?;
    let opts = VerifyOptions {
        deep: a.deep,
        sample: a.sample.as_deref().map(parse_sample).transpose()?,
    };
    let pb = bar("verifying");
    if a.json {
        pb.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let started = Instant::now();
    let rep = Database::verify_backups(&repo, opts, &mut |p| on_progress(&pb, p, started))?;
    pb.finish_and_clear();
    if a.json {
        println!(
            "{}",
            json!({
                "ok": rep.ok(),
                "manifests": rep.manifests,
                "chunks_referenced": rep.chunks_referenced,
                "chunks_checked": rep.chunks_checked,
                "bytes_read": rep.bytes_read,
                "unreferenced_chunks": rep.unreferenced_chunks,
                "backups_replayed": rep.backups_replayed,
                "problems": rep.problems,
            })
        );
    } else {
        for p in &rep.problems {
            println!("problem: {p}");
        }
        println!(
            "{}: {} manifests, {}/{} chunks checked ({}), {} backups replayed, {} unreferenced chunks",
            if rep.ok() { "ok" } else { "FAILED" },
            rep.manifests,
            rep.chunks_checked,
            rep.chunks_referenced,
            HumanBytes(rep.bytes_read),
            rep.backups_replayed,
            rep.unreferenced_chunks
        );
    }
    if rep.ok() {
        Ok(Outcome::Done)
    } else {
        if !a.json {
            eprintln!(
                "{}",
                CliError::new(BACKUP_CHECK, format!("{} problems", rep.problems.len())).line()
            );
        }
        Ok(Outcome::Differ)
    }
}

fn prune(a: &BackupPruneArgs) -> CliResult<()> {
    let repo = open_repo(&a.repo, &a.key)?;
    let policy = PrunePolicy {
        keep_last: a.keep_last,
        keep_daily: a.keep_daily,
    };
    let rep = tablesync::backup::prune(&repo, policy, a.dry_run)?;
    if a.json {
        println!(
            "{}",
            json!({"kept": rep.kept, "removed": rep.removed, "chunks_removed": rep.chunks_removed, "dry_run": a.dry_run})
        );
    } else {
        let verb = if a.dry_run { "would remove" } else { "removed" };
        println!(
            "kept {} backups; {verb} {} backups and {} chunks",
            rep.kept.len(),
            rep.removed.len(),
            rep.chunks_removed
        );
    }
    Ok(())
}

fn rekey(a: &BackupRekeyArgs) -> CliResult<()> {
    let old = key_source(&a.key)?
        .ok_or_else(|| CliError::arg("give the current --passphrase-file or --key-file"))?;
    let new = key_source(&KeyArgs {
        passphrase_file: a.new_passphrase_file.clone(),
        key_file: a.new_key_file.clone(),
        ..Default::default()
    })?
    .ok_or_else(|| CliError::arg("give --new-passphrase-file or --new-key-file"))?;
    let store = open_store(&a.repo, &a.key)?;
    let mut repo = Repository::open(store, Some(&old))?;
    repo.rotate_key(
        &old,
        &new,
        KdfParams::default(),
        &random::<SLOT_RANDOM_LEN>()?,
    )?;
    println!("re-wrapped the data key; no chunk was rewritten");
    Ok(())
}

/// `tablesync restore`.
pub fn restore(a: &RestoreArgs, region: Option<&str>, policy: SyncPolicy) -> CliResult<()> {
    let repo = open_repo(&a.repo, &a.key)?;
    let point = match (&a.backup, &a.at, a.at_stamp) {
        (Some(id), _, _) => RestorePoint::Backup(id.clone()),
        (_, Some(t), _) => RestorePoint::at_millis(parse_time(t)?),
        (_, _, Some(s)) => RestorePoint::Stamp(s),
        _ => RestorePoint::Latest,
    };
    if a.as_name.is_some() && a.tables.len() != 1 {
        return Err(CliError::arg("--as renames exactly one --table"));
    }
    let opts = RestoreOptions {
        point,
        tables: (!a.tables.is_empty()).then(|| a.tables.clone()),
        rename: a
            .as_name
            .iter()
            .map(|n| (a.tables[0].clone(), n.clone()))
            .collect(),
        ..Default::default()
    };
    // The restored region keeps the backed-up region's name unless --region says otherwise
    // (or the destination directory already has one).
    let existing = a.dest.is_dir() && recorded_region(&a.dest)?.is_some();
    let (tip, _) = tablesync::backup::plan(&repo, &opts.point)?;
    let source_region = repo.manifest(&tip)?.region;
    let name = match (existing, region) {
        (true, _) => recorded_region(&a.dest)?.expect("checked"),
        (false, Some(r)) => r.to_string(),
        (false, None) => source_region,
    };
    let pb = bar("restoring");
    if a.json {
        pb.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let started = Instant::now();
    let report = if existing {
        let Some(new_name) = &a.as_name else {
            return Err(CliError::arg(format!(
                "{} already holds a database: restore into a new directory, or one table with --table T --as NAME",
                a.dest.display()
            )));
        };
        // One table into a region that exists: restored in memory, then
        // copied and checked.
        let (mem, report) = Database::restore_from(
            &repo,
            &opts,
            DatabaseOptions::new(name.as_str()),
            &mut |p| on_progress(&pb, p, started),
        )?;
        pb.finish_and_clear();
        let mut dst = open_or_create(&a.dest, None, policy)?;
        mem.copy_table_to(new_name, &mut dst, new_name, &mut |_| {
            std::ops::ControlFlow::Continue(())
        })?;
        let d = dst.table_digest(new_name)?;
        if d != mem.table_digest(new_name)? {
            return Err(CliError::new(
                "BackupCorrupt",
                "the copied table's digest differs",
            ));
        }
        dst.close()?;
        report
    } else {
        // A new directory: restored straight into it, paged, so memory
        // stays within the cache whatever the backup's size.
        let (mut db, report) = Database::restore_to_directory(
            &repo,
            &opts,
            &a.dest,
            crate::open::options(&name, policy),
            &mut |p| on_progress(&pb, p, started),
        )?;
        pb.finish_and_clear();
        db.close()?;
        report
    };
    let secs = started.elapsed().as_secs_f64();
    if a.json {
        println!(
            "{}",
            json!({
                "backup": report.backup,
                "chain": report.chain,
                "stamp": if report.stamp == u64::MAX { serde_json::Value::Null } else { json!(report.stamp) },
                "from_history": report.from_history,
                "rows": report.rows,
                "records_applied": report.records_applied,
                "records_skipped": report.records_skipped,
                "points_checked": report.points_checked,
                "tables": report.tables.iter().map(|(n, d, r)| json!({"table": n, "digest": d, "rows": r})).collect::<Vec<_>>(),
                "seconds": secs,
            })
        );
    } else {
        for (n, d, r) in &report.tables {
            println!("{n}: {r} rows, digest {d}");
        }
        println!(
            "restored from backup {} (chain of {}), {} rows + {} records, digests checked at {} backup points ({secs:.2}s)",
            &report.backup[..16],
            report.chain.len(),
            report.rows,
            report.records_applied,
            report.points_checked
        );
    }
    Ok(())
}
