//! Restoring: pick the chain, load the full backup's rows (or replay its
//! log from empty tables when the point lies before it), replay the
//! incrementals' records up to the requested stamp (and merge their changed
//! rows when the stamp reaches their point), and check digests.

use super::chunk::{decode_chunk, ChunkItems, CHUNK_ROWS, CHUNK_ROW_IDS};
use super::manifest::{id_hex, Manifest, ObjectId};
use super::repo::{as_backup, Repository};
use super::source::RestoreTarget;
use super::Progress;
use crate::codec::record::decode_record;
use crate::log::record::ChangeRecord;
use crate::model::error::{Error, Result};
use std::collections::BTreeMap;

/// Which state to rebuild.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum RestorePoint {
    /// The newest backup.
    #[default]
    Latest,
    /// A named backup (id or unique prefix of at least 4 hex digits).
    Backup(String),
    /// Every record the repository holds with a stamp ≤ this HLC value.
    Stamp(u64),
}

impl RestorePoint {
    /// The point for a wall-clock time: every record stamped in or before that millisecond.
    pub fn at_millis(ms: i64) -> RestorePoint {
        RestorePoint::Stamp(((ms.max(0) as u64) << 16) | 0xffff)
    }
}

/// How to restore.
#[derive(Clone, Debug, Default)]
pub struct RestoreOptions {
    /// Which state.
    pub point: RestorePoint,
    /// Tables to restore (`None`: all of the backup's).
    pub tables: Option<Vec<String>>,
    /// New names: `(backed-up name, name to restore as)`.
    pub rename: Vec<(String, String)>,
    /// Skip reading the chain's chunks the restore does not need (the full
    /// backup's log when restoring from its rows): faster, but damage
    /// there is then left to `verify`. Off by default.
    pub skip_unused: bool,
}

/// What a restore did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RestoreReport {
    /// The backup whose chain was used.
    pub backup: String,
    /// Backups in the chain (full first).
    pub chain: Vec<String>,
    /// The stamp restored to (`u64::MAX`: the backup's point).
    pub stamp: u64,
    /// Whether the rows were rebuilt from the log (point before the full backup).
    pub from_history: bool,
    /// Rows merged from the full backup.
    pub rows: u64,
    /// Change records applied.
    pub records_applied: u64,
    /// Change records skipped (stamp after the point, or table not selected).
    pub records_skipped: u64,
    /// Backup points whose manifest digests were compared (and matched).
    pub points_checked: u32,
    /// `(restored table name, digest hex, rows)` at the end.
    pub tables: Vec<(String, String, u64)>,
}

/// The backup whose chain answers `point`, and the stamp to stop at.
pub fn plan(repo: &Repository, point: &RestorePoint) -> Result<(ObjectId, u64)> {
    match point {
        RestorePoint::Backup(p) => Ok((repo.resolve(p)?, u64::MAX)),
        RestorePoint::Latest => {
            let all = repo.manifests()?;
            let (id, _) = all
                .last()
                .ok_or_else(|| Error::ObjectNotExist("the repository holds no backup".into()))?;
            Ok((*id, u64::MAX))
        }
        RestorePoint::Stamp(s) => {
            let all = repo.manifests()?;
            if all.is_empty() {
                return Err(Error::ObjectNotExist(
                    "the repository holds no backup".into(),
                ));
            }
            let best = all
                .iter()
                .filter(|(_, m)| m.covers_from <= *s)
                .max_by_key(|(_, m)| (m.point, m.next_cursor));
            match best {
                Some((id, _)) => Ok((*id, *s)),
                None => {
                    let earliest = all.iter().map(|(_, m)| m.covers_from).min().unwrap_or(0);
                    Err(Error::invalid(format!(
                        "stamp {s} is before the earliest point the backups cover ({earliest})"
                    )))
                }
            }
        }
    }
}

struct Replayer<'a> {
    repo: &'a Repository,
    target: &'a mut dyn RestoreTarget,
    names: BTreeMap<String, String>,
    stamp: u64,
    report: RestoreReport,
    progress: &'a mut dyn FnMut(Progress),
    total: u64,
    bytes: u64,
}

const APPLY_BATCH: usize = 4096;

impl Replayer<'_> {
    fn tick(&mut self, payload_len: usize) {
        self.bytes += payload_len as u64;
        (self.progress)(Progress {
            done: self.report.rows + self.report.records_applied + self.report.records_skipped,
            total: self.total,
            bytes: self.bytes,
        });
    }

    /// Apply a manifest's records with stamp ≤ the point; returns whether all were applied.
    fn records(&mut self, m: &Manifest) -> Result<bool> {
        let mut all = true;
        for id in &m.log_chunks {
            let payload = self.repo.get_chunk(id)?;
            let ChunkItems::Records(items) = decode_chunk(&payload).map_err(as_backup)? else {
                return Err(Error::BackupCorrupt(format!(
                    "chunk {} holds rows, not records",
                    id_hex(id)
                )));
            };
            let mut batch: Vec<ChangeRecord> = Vec::with_capacity(items.len().min(APPLY_BATCH));
            for b in items {
                let mut r = decode_record(b).map_err(as_backup)?;
                let Some(new_name) = self.names.get(&r.table) else {
                    self.report.records_skipped += 1;
                    continue;
                };
                if r.stamp > self.stamp {
                    self.report.records_skipped += 1;
                    all = false;
                    continue;
                }
                r.table = new_name.clone();
                batch.push(r);
                if batch.len() >= APPLY_BATCH {
                    self.report.records_applied += batch.len() as u64;
                    self.target
                        .restore_apply_records(std::mem::take(&mut batch))?;
                }
            }
            self.report.records_applied += batch.len() as u64;
            self.target.restore_apply_records(batch)?;
            self.tick(payload.len());
        }
        Ok(all)
    }

    fn rows(&mut self, m: &Manifest) -> Result<()> {
        for t in &m.tables {
            let Some(new_name) = self.names.get(&t.schema.name).cloned() else {
                continue;
            };
            for id in &t.chunks {
                let payload = self.repo.get_chunk(id)?;
                let ChunkItems::Rows(items) = decode_chunk(&payload).map_err(as_backup)? else {
                    return Err(Error::BackupCorrupt(format!(
                        "chunk {} holds records, not rows",
                        id_hex(id)
                    )));
                };
                self.report.rows += items.len() as u64;
                let rows = items
                    .into_iter()
                    .map(|(k, s)| (k.to_vec(), s.to_vec()))
                    .collect();
                self.target
                    .restore_merge_rows(&new_name, rows)
                    .map_err(as_backup)?;
                self.tick(payload.len());
            }
        }
        Ok(())
    }

    /// Read and check chunks that are not applied (so that any damage to
    /// the chain fails the restore): each must hold items of `kind`.
    fn read_unused<'c>(
        &mut self,
        ids: impl IntoIterator<Item = &'c ObjectId>,
        kind: u8,
    ) -> Result<()> {
        for id in ids {
            let payload = self.repo.get_chunk(id)?;
            if decode_chunk(&payload).map_err(as_backup)?.kind() != kind {
                return Err(Error::BackupCorrupt(format!(
                    "chunk {} holds the wrong kind of items",
                    id_hex(id)
                )));
            }
            self.tick(payload.len());
        }
        Ok(())
    }

    /// Compare the restored tables with a manifest's digests.
    fn check(&mut self, id: &ObjectId, m: &Manifest) -> Result<()> {
        for t in &m.tables {
            let Some(new_name) = self.names.get(&t.schema.name) else {
                continue;
            };
            let (d, rows) = self.target.restore_table_digest(new_name)?;
            if d != t.digest || rows != t.rows {
                return Err(Error::BackupCorrupt(format!(
                    "restored table '{}' has digest {} ({} rows), backup {} says {} ({} rows)",
                    new_name,
                    d,
                    rows,
                    id_hex(id),
                    t.digest,
                    t.rows
                )));
            }
        }
        self.report.points_checked += 1;
        Ok(())
    }
}

/// Restore into `target` (an empty region). Every table digest is compared
/// with the manifests at each backup point the restore passes whole, and
/// any mismatch fails the restore.
pub fn restore(
    repo: &Repository,
    options: &RestoreOptions,
    target: &mut dyn RestoreTarget,
    progress: &mut dyn FnMut(Progress),
) -> Result<RestoreReport> {
    let (tip, stamp) = plan(repo, &options.point)?;
    let chain = repo.chain(&tip)?;
    let (full_id, full) = &chain[0];
    let last = &chain.last().expect("chain").1;
    // The tables restored: the tip's, or the selection.
    let mut names = BTreeMap::new();
    for t in &last.tables {
        let n = &t.schema.name;
        if options.tables.as_ref().is_none_or(|sel| sel.contains(n)) {
            let new = options
                .rename
                .iter()
                .find(|(from, _)| from == n)
                .map_or(n.clone(), |(_, to)| to.clone());
            names.insert(n.clone(), new);
        }
    }
    if let Some(sel) = &options.tables {
        for t in sel {
            if !names.contains_key(t) {
                return Err(Error::ObjectNotExist(format!(
                    "backup {} holds no table '{t}'",
                    id_hex(&tip)
                )));
            }
        }
    }
    let from_history = stamp < full.point;
    if from_history && !full.history_complete {
        return Err(Error::invalid(format!(
            "stamp {stamp} is before backup {}'s point {} and its log does not reach back",
            id_hex(full_id),
            full.point
        )));
    }
    let total = chain.iter().map(|(_, m)| m.records).sum::<u64>()
        + if from_history {
            0
        } else {
            full.tables.iter().map(|t| t.rows).sum::<u64>()
        };
    let mut r = Replayer {
        repo,
        target,
        names,
        stamp,
        report: RestoreReport {
            backup: id_hex(&tip),
            chain: chain.iter().map(|(id, _)| id_hex(id)).collect(),
            stamp,
            from_history,
            ..Default::default()
        },
        progress,
        total,
        bytes: 0,
    };
    for t in &last.tables {
        if let Some(new_name) = r.names.get(&t.schema.name) {
            let mut s = t.schema.clone();
            s.name = new_name.clone();
            r.target.restore_create_table(s)?;
        }
    }
    let mut whole;
    if from_history {
        if !options.skip_unused {
            r.read_unused(full.tables.iter().flat_map(|t| t.chunks.iter()), CHUNK_ROWS)?;
        }
        whole = r.records(full)?;
    } else {
        if !options.skip_unused {
            // Not applied, but read and checked, so that any damage to the
            // chain fails the restore.
            for id in &full.log_chunks {
                let payload = repo.get_chunk(id)?;
                r.tick(payload.len());
            }
        }
        r.rows(full)?;
        r.target.restore_mark_held(&full.version_vector)?;
        whole = true;
    }
    if !options.skip_unused {
        for (_, m) in &chain {
            r.read_unused(
                m.tables.iter().flat_map(|t| t.id_chunks.iter()),
                CHUNK_ROW_IDS,
            )?;
        }
    }
    if whole {
        r.check(full_id, full)?;
    }
    for (id, m) in &chain[1..] {
        whole &= r.records(m)?;
        // An incremental's rows (format 2) are the states at its point of
        // the rows that changed since its parent, including rows that
        // arrived outside the log: merged once the stamp reaches the point.
        if stamp >= m.point {
            r.rows(m)?;
        } else if !options.skip_unused {
            r.read_unused(m.tables.iter().flat_map(|t| t.chunks.iter()), CHUNK_ROWS)?;
        }
        if whole {
            r.check(id, m)?;
        }
    }
    let mut tables = Vec::new();
    for new_name in r.names.values() {
        let (d, rows) = r.target.restore_table_digest(new_name)?;
        tables.push((new_name.clone(), d.to_hex(), rows));
    }
    r.report.tables = tables;
    Ok(r.report)
}
