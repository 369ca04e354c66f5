//! Retention: which backups to keep (`keep_last`, `keep_daily`), and
//! removing the others and the chunks nobody references any more.

use super::manifest::{id_hex, Manifest, ObjectId};
use super::repo::{chunk_name, manifest_name, Repository};
use crate::model::error::{Error, Result};
use std::collections::BTreeSet;

/// What to keep. A kept backup keeps its whole chain.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PrunePolicy {
    /// Keep the newest N backups.
    pub keep_last: Option<u32>,
    /// Keep the newest backup of each of the N most recent days (UTC) that have one.
    pub keep_daily: Option<u32>,
}

/// What [`prune`] removed (or would remove, in a dry run).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PruneReport {
    /// Backups kept.
    pub kept: Vec<String>,
    /// Backups removed.
    pub removed: Vec<String>,
    /// Chunk objects removed.
    pub chunks_removed: u64,
}

/// Backups the policy keeps, with their ancestors.
pub fn keep_set(all: &[(ObjectId, Manifest)], policy: PrunePolicy) -> Result<BTreeSet<ObjectId>> {
    if policy.keep_last.is_none() && policy.keep_daily.is_none() {
        return Err(Error::invalid("give --keep-last and/or --keep-daily"));
    }
    let mut newest_first: Vec<&(ObjectId, Manifest)> = all.iter().collect();
    newest_first.sort_by_key(|(id, m)| std::cmp::Reverse((m.created_ms, m.point, *id)));
    let mut keep = BTreeSet::new();
    if let Some(n) = policy.keep_last {
        keep.extend(newest_first.iter().take(n as usize).map(|(id, _)| *id));
    }
    if let Some(n) = policy.keep_daily {
        let mut days = BTreeSet::new();
        for (id, m) in &newest_first {
            let day = m.created_ms.div_euclid(86_400_000);
            if days.len() < n as usize && days.insert(day) {
                keep.insert(*id);
            }
        }
    }
    // Keep every ancestor of a kept backup.
    let mut stack: Vec<ObjectId> = keep.iter().copied().collect();
    while let Some(id) = stack.pop() {
        if let Some((_, m)) = all.iter().find(|(i, _)| *i == id) {
            if let Some(p) = m.parent {
                if keep.insert(p) {
                    stack.push(p);
                }
            }
        }
    }
    Ok(keep)
}

/// Remove the backups the policy does not keep (newest first, so a chain
/// never loses a parent before its child), then every chunk no remaining
/// manifest references. Do not run it while a backup is being written:
/// that backup's chunks have no manifest yet.
pub fn prune(repo: &Repository, policy: PrunePolicy, dry_run: bool) -> Result<PruneReport> {
    let all = repo.manifests()?;
    let keep = keep_set(&all, policy)?;
    let mut rep = PruneReport::default();
    if !dry_run {
        // The index first: a crash after it leaves unlisted manifests, which are harmless.
        let index: BTreeSet<ObjectId> = repo.index()?.intersection(&keep).copied().collect();
        repo.write_index(&index)?;
    }
    let mut live = BTreeSet::new();
    for (id, m) in all.iter().rev() {
        if keep.contains(id) {
            rep.kept.push(id_hex(id));
            live.extend(m.chunk_ids().map(chunk_name));
        } else {
            rep.removed.push(id_hex(id));
            if !dry_run {
                repo.store().delete(&manifest_name(id))?;
            }
        }
    }
    for name in repo.store().list("chunks/")? {
        if !live.contains(&name) {
            rep.chunks_removed += 1;
            if !dry_run {
                repo.store().delete(&name)?;
            }
        }
    }
    Ok(rep)
}
