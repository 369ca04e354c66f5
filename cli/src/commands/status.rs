//! `tablesync status DIR`: one screen about a region directory.

use super::sides::Side;
use crate::args::StatusArgs;
use crate::error::CliResult;
use crate::open::open_existing;
use std::path::Path;
use tablesync::replication::files;
use tablesync::SyncPolicy;

fn age(now: i64, t: Option<i64>) -> String {
    t.map_or("never".into(), |t| format!("{} ms ago", (now - t).max(0)))
}

fn screen(dir: &Path, region: Option<&str>) -> CliResult<String> {
    let mut db = open_existing(dir, region, SyncPolicy::Never)?;
    let now = db.now_ms();
    let mut out = String::new();
    out.push_str(&format!("region  {}  ({})\n", db.region(), dir.display()));
    out.push_str("tables\n");
    for t in db.list_tables()? {
        let d = db.describe_table(&t)?;
        out.push_str(&format!(
            "  {:<24} {:>10} rows  {}\n",
            t,
            d.row_count,
            db.table_digest(&t)?.to_hex()
        ));
    }
    let vv = db.version_vector()?;
    let vv: Vec<String> = vv.iter().map(|(o, s)| format!("{o}:{s}")).collect();
    out.push_str(&format!("version vector  {{{}}}\n", vv.join(", ")));
    out.push_str(&format!("log next cursor {}\n", db.next_cursor()?));
    let links = files::load_all(dir, 1)?;
    if links.is_empty() {
        out.push_str("links   none\n");
    } else {
        out.push_str(&format!(
            "links\n  {:<16} {:<16} {:<18} {:<5} {:<8} {:>9} {:>8} {:>10} {:>12}  last success\n",
            "name", "peer", "trigger", "dir", "state", "lag ms", "pending", "records", "bytes"
        ));
        for l in &links {
            let s = l.status(&db, now);
            out.push_str(&format!(
                "  {:<16} {:<16} {:<18} {:<5} {:<8} {:>9} {:>8} {:>10} {:>12}  {}\n",
                s.name,
                s.peer,
                s.trigger,
                s.direction,
                s.state.name(),
                s.lag_ms,
                s.pending,
                s.records_shipped,
                s.bytes_shipped,
                age(now, s.last_success_ms)
            ));
        }
    }
    match files::load_group(dir)? {
        None => out.push_str("group   none\n"),
        Some(g) => {
            let role = if g.primary == db.region() {
                "primary"
            } else {
                "standby"
            };
            out.push_str(&format!(
                "group   epoch {}  primary {}  this region: {}{}\n",
                g.epoch,
                g.primary,
                role,
                if g.needs_resync {
                    " (must resync before leading)"
                } else {
                    ""
                }
            ));
            for r in &g.lost {
                out.push_str(&format!(
                    "  lost in failover: {} seq {}..={} (epoch {})\n",
                    r.origin, r.from_seq, r.to_seq, r.epoch
                ));
            }
        }
    }
    db.close()?;
    Ok(out)
}

/// Print the status once, or every second with `--watch`.
pub fn status(a: &StatusArgs, region: Option<&str>) -> CliResult<()> {
    let dir = match Side::parse(&a.target)? {
        Side::Dir(d) => d,
        Side::Url(u) => return super::group_remote::status(&u, a.token.as_deref(), a.watch),
    };
    loop {
        let text = screen(&dir, region)?;
        if a.watch {
            print!("\x1b[2J\x1b[H{text}");
            std::thread::sleep(std::time::Duration::from_secs(1));
        } else {
            print!("{text}");
            return Ok(());
        }
    }
}
