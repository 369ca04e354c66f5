//! Checking a repository without restoring: every manifest and chunk is
//! read and checked; `deep` also replays each chain into scratch regions
//! and compares digests at every backup point; `sample n/t` reads the
//! `n`-th of `t` disjoint chunk subsets, so `t` runs cover every chunk.

use super::chunk::{decode_chunk, ChunkItems, CHUNK_RECORDS, CHUNK_ROWS, CHUNK_ROW_IDS};
use super::manifest::{id_hex, ObjectId};
use super::repo::{as_backup, chunk_name, manifest_name, Repository};
use super::restore::{restore, RestoreOptions, RestorePoint};
use super::source::RestoreTarget;
use super::Progress;
use crate::codec::record::decode_record;
use crate::codec::row_state::decode_row_state;
use crate::model::error::{Error, Result};
use std::collections::{BTreeMap, BTreeSet};

/// What to check.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct VerifyOptions {
    /// Replay every chain and compare digests.
    pub deep: bool,
    /// Read only chunk subset `n` of `t` (1 ≤ n ≤ t).
    pub sample: Option<(u32, u32)>,
}

/// What [`verify`] found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VerifyReport {
    /// Manifests read and checked.
    pub manifests: u64,
    /// Chunks the manifests reference.
    pub chunks_referenced: u64,
    /// Chunks read and checked.
    pub chunks_checked: u64,
    /// Bytes of objects read.
    pub bytes_read: u64,
    /// Chunk objects no manifest references (left by an interrupted backup; prune removes them).
    pub unreferenced_chunks: u64,
    /// Backups replayed (deep).
    pub backups_replayed: u64,
    /// Every problem found; empty means the repository checks out.
    pub problems: Vec<String>,
}

impl VerifyReport {
    /// Whether everything checked out.
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Whether a chunk is in sample subset `n` of `t`.
pub fn in_sample(id: &ObjectId, sample: Option<(u32, u32)>) -> bool {
    match sample {
        None => true,
        Some((n, t)) => {
            u64::from_le_bytes(id[..8].try_into().expect("8")) % t as u64 == (n - 1) as u64
        }
    }
}

fn check_items(payload: &[u8]) -> Result<()> {
    match decode_chunk(payload)? {
        ChunkItems::Rows(rows) => {
            let mut prev: Option<&[u8]> = None;
            for (k, st) in rows {
                if prev.is_some_and(|p| p >= k) {
                    return Err(Error::corrupt("rows out of key order"));
                }
                decode_row_state(st)?;
                prev = Some(k);
            }
        }
        ChunkItems::Records(recs) => {
            for r in recs {
                decode_record(r)?;
            }
        }
        // Order is checked by the decoder; any id is valid.
        ChunkItems::RowIds(_) => {}
    }
    Ok(())
}

/// Check the repository. Problems are collected in the report, not
/// returned as errors; an `Err` means the check itself could not run
/// (e.g. the store failed, or the key is wrong).
pub fn verify(
    repo: &Repository,
    options: VerifyOptions,
    scratch: &mut dyn FnMut() -> Result<Box<dyn RestoreTarget>>,
    progress: &mut dyn FnMut(Progress),
) -> Result<VerifyReport> {
    if let Some((n, t)) = options.sample {
        if t == 0 || n == 0 || n > t {
            return Err(Error::invalid("sample must be n/t with 1 ≤ n ≤ t"));
        }
    }
    let mut rep = VerifyReport::default();
    let mut manifests = BTreeMap::new();
    let mut referenced: BTreeSet<ObjectId> = BTreeSet::new();
    let mut kinds: BTreeMap<ObjectId, u8> = BTreeMap::new(); // chunk type byte
    let listed = match repo.index() {
        Ok(ids) => ids,
        Err(e) => {
            rep.problems.push(e.to_string());
            Default::default()
        }
    };
    for name in repo.store().list("manifests/")? {
        let Some(id) = crate::digest::Digest::from_hex(&name["manifests/".len()..]) else {
            rep.problems.push(format!("{name}: not a manifest name"));
            continue;
        };
        match repo.manifest(&id.0) {
            Ok(m) => {
                rep.manifests += 1;
                for t in &m.tables {
                    for c in &t.chunks {
                        referenced.insert(*c);
                        kinds.insert(*c, CHUNK_ROWS);
                    }
                    for c in &t.id_chunks {
                        referenced.insert(*c);
                        kinds.insert(*c, CHUNK_ROW_IDS);
                    }
                }
                for c in &m.log_chunks {
                    referenced.insert(*c);
                    kinds.insert(*c, CHUNK_RECORDS);
                }
                manifests.insert(id.0, m);
            }
            Err(e) => rep.problems.push(format!("{}", e)),
        }
    }
    for id in &listed {
        if !repo.store().exists(&manifest_name(id))? {
            rep.problems.push(format!(
                "{} is missing (the index lists it)",
                manifest_name(id)
            ));
        }
    }
    for (id, m) in &manifests {
        if let Some(p) = &m.parent {
            if !manifests.contains_key(p) && !repo.store().exists(&manifest_name(p))? {
                rep.problems.push(format!(
                    "backup {} names parent {} which is missing",
                    id_hex(id),
                    id_hex(p)
                ));
            }
        }
    }
    rep.chunks_referenced = referenced.len() as u64;
    let stored: BTreeSet<String> = repo.store().list("chunks/")?.into_iter().collect();
    let selected: Vec<&ObjectId> = referenced
        .iter()
        .filter(|id| in_sample(id, options.sample))
        .collect();
    let total = selected.len() as u64;
    for (i, id) in selected.into_iter().enumerate() {
        let name = chunk_name(id);
        if !stored.contains(&name) {
            rep.problems.push(format!("{name} is missing"));
            continue;
        }
        match repo.get_chunk(id) {
            Ok(payload) => {
                rep.bytes_read += payload.len() as u64;
                let kind = decode_chunk(&payload).ok().map(|c| c.kind());
                if kind.is_some() && kinds.get(id) != kind.as_ref() {
                    rep.problems
                        .push(format!("{name} holds the wrong kind of items"));
                } else if let Err(e) = check_items(&payload).map_err(as_backup) {
                    rep.problems.push(format!("{name}: {e}"));
                } else {
                    rep.chunks_checked += 1;
                }
            }
            Err(e) => rep.problems.push(e.to_string()),
        }
        progress(Progress {
            done: i as u64 + 1,
            total,
            bytes: rep.bytes_read,
        });
    }
    let referenced_names: BTreeSet<String> = referenced.iter().map(chunk_name).collect();
    rep.unreferenced_chunks = stored.difference(&referenced_names).count() as u64;
    if options.deep && rep.problems.is_empty() {
        // Replay every chain that no other backup continues; restore checks
        // the digests at each backup point it passes.
        let parents: BTreeSet<ObjectId> = manifests.values().filter_map(|m| m.parent).collect();
        for id in manifests.keys().filter(|id| !parents.contains(*id)) {
            let mut target = scratch()?;
            let opts = RestoreOptions {
                point: RestorePoint::Backup(id_hex(id)),
                // Every chunk was read above.
                skip_unused: true,
                ..Default::default()
            };
            match restore(repo, &opts, target.as_mut(), &mut |_| {}) {
                Ok(r) => rep.backups_replayed += r.chain.len() as u64,
                Err(e) => rep
                    .problems
                    .push(format!("replaying backup {}: {e}", id_hex(id))),
            }
        }
    }
    Ok(rep)
}
