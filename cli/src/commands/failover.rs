//! `tablesync failover` and `failback` on the directories of a group
//! (offline: no process may hold them). Servers hosting the group's
//! heartbeats and elections come with the region server.

use crate::args::{FailbackArgs, FailoverArgs};
use crate::error::{CliError, CliResult};
use crate::open::open_existing;
use std::path::PathBuf;
use tablesync::replication::{files, GroupState, Handover, LostRange};
use tablesync::sync::SyncConfig;
use tablesync::{Database, SyncPolicy};

struct Member {
    dir: PathBuf,
    db: Database,
    state: GroupState,
}

fn open_group(dirs: &[PathBuf]) -> CliResult<Vec<Member>> {
    let mut out: Vec<Member> = Vec::new();
    for dir in dirs {
        let db = open_existing(dir, None, SyncPolicy::Always)?;
        let state = files::load_group(dir)?;
        out.push(Member {
            dir: dir.clone(),
            db,
            state: state.unwrap_or_else(|| GroupState::initial("")),
        });
    }
    // Members that never joined a group take the first directory as primary.
    let first = out[0].db.region().to_string();
    for m in &mut out {
        if m.state.primary.is_empty() {
            m.state = GroupState::initial(&first);
        }
    }
    Ok(out)
}

/// Move every member to a new epoch led by `promote`; returns the lost range, if any.
fn promote(members: &mut [Member], promote: &str) -> CliResult<(u64, Option<LostRange>)> {
    let newest = members
        .iter()
        .max_by_key(|m| m.state.epoch)
        .map(|m| m.state.clone())
        .expect("members");
    let epoch = members
        .iter()
        .map(|m| m.state.epoch.max(m.state.voted_epoch))
        .max()
        .unwrap_or(1)
        + 1;
    let target = members
        .iter()
        .position(|m| m.db.region() == promote)
        .ok_or_else(|| CliError::arg(format!("no directory holds region '{promote}'")))?;
    if members[target].state.needs_resync {
        return Err(CliError::arg(format!(
            "region '{promote}' led an older epoch; run `tablesync failback` (resync first)"
        )));
    }
    let old = newest.primary.clone();
    let held = members[target]
        .db
        .version_vector()?
        .get(&old)
        .copied()
        .unwrap_or(0);
    let mut lost = None;
    if old != promote {
        if let Some(m) = members.iter().find(|m| m.db.region() == old) {
            let last = m.db.version_vector()?.get(&old).copied().unwrap_or(0);
            if last > held {
                lost = Some(LostRange {
                    origin: old.clone(),
                    from_seq: held + 1,
                    to_seq: last,
                    epoch: newest.epoch,
                });
            }
        }
    }
    let vv = members[target].db.version_vector()?;
    let held_vv = members
        .iter()
        .map(|m| {
            let r = m.db.region().to_string();
            let n = vv.get(&r).copied().unwrap_or(0);
            (r, n)
        })
        .collect();
    let handover = Handover {
        epoch,
        from: old.clone(),
        to: promote.to_string(),
        held_seq: held,
        held: held_vv,
    };
    for m in members.iter_mut() {
        let mut s = m.state.clone();
        s.epoch = epoch;
        s.primary = promote.to_string();
        s.voted_epoch = epoch;
        s.voted_for = promote.to_string();
        // Every member keeps the newest chain, then this handover.
        s.merge_handovers(&newest.handovers);
        s.merge_handovers([&handover]);
        if m.db.region() == old && old != promote {
            s.needs_resync = true;
            if let Some(l) = &lost {
                s.lost.push(l.clone());
            }
        }
        if m.db.region() == promote {
            s.needs_resync = false;
        }
        files::save_group(&m.dir, &s)?;
        m.state = s;
    }
    Ok((epoch, lost))
}

fn close(members: Vec<Member>) -> CliResult<()> {
    for mut m in members {
        m.db.close()?;
    }
    Ok(())
}

/// `tablesync failover DIR… --promote REGION`.
pub fn failover(a: &FailoverArgs) -> CliResult<()> {
    if let [one] = a.dirs.as_slice() {
        if let Some(url) = super::group_remote::url_of(one) {
            return super::group_remote::failover(&url, a.token.as_deref(), &a.promote);
        }
    }
    let mut members = open_group(&a.dirs)?;
    let (epoch, lost) = promote(&mut members, &a.promote)?;
    println!("epoch {epoch}: '{}' is the write-primary", a.promote);
    match lost {
        Some(l) => println!(
            "writes acknowledged by '{}' under epoch {} and not held by '{}': seq {}..={} (merged back on failback)",
            l.origin, l.epoch, a.promote, l.from_seq, l.to_seq
        ),
        None => println!("no acknowledged write is missing at the new primary"),
    }
    close(members)
}

/// `tablesync failback DIR --primary DIR [--member DIR]…`.
pub fn failback(a: &FailbackArgs) -> CliResult<()> {
    if let Some(url) = super::group_remote::url_of(&a.dir) {
        return super::group_remote::failback(&url, a.token.as_deref());
    }
    let primary = a
        .primary
        .clone()
        .ok_or_else(|| CliError::arg("failback DIR needs --primary DIR"))?;
    let mut dirs = vec![primary, a.dir.clone()];
    dirs.extend(a.members.iter().cloned());
    let mut members = open_group(&dirs)?;
    let region = members[1].db.region().to_string();
    let mut verified = false;
    for round in 1..=5 {
        let (p, rest) = members.split_at_mut(1);
        let report = rest[0].db.sync_with(&mut p[0].db, SyncConfig::default())?;
        println!(
            "resync round {round}: {} records and {} rows in, {} records and {} rows out, digests {}",
            report.records_pulled,
            report.rows_pulled,
            report.records_pushed,
            report.rows_pushed,
            if report.verified { "match" } else { "differ" }
        );
        if report.verified {
            verified = true;
            break;
        }
    }
    if !verified {
        return Err(CliError::new(
            "SyncError",
            "digests still differ after 5 resync rounds",
        ));
    }
    members[1].state.needs_resync = false;
    let (epoch, _) = promote(&mut members, &region)?;
    println!("epoch {epoch}: '{region}' is the write-primary again");
    close(members)
}
