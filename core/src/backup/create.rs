//! Taking a backup: a full one (every row plus the retained log) or an
//! incremental one (the change records since its parent).

use super::chunk::{ChunkBuilder, ChunkSizes, CHUNK_RECORDS, CHUNK_ROWS};
use super::manifest::{BackupKind, Manifest, ObjectId, TableEntry};
use super::pipeline::{default_workers, Pipeline, Written};
use super::repo::{BackupInfo, Repository};
use super::source::{BackupSource, RestoreTarget};
use super::Progress;
use crate::codec::record::decode_record;
use crate::model::error::{Error, Result};

/// Full, incremental, or whichever fits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum BackupMode {
    /// Incremental when a parent from this region with the same tables
    /// exists and the log still holds every record since it; else full.
    #[default]
    Auto,
    /// Always a full backup.
    Full,
    /// Incremental or an error (`LogGap`, or `OTSParameterInvalid` without a parent).
    Incremental,
}

/// How to take a backup.
#[derive(Clone, Debug, Default)]
pub struct BackupOptions {
    /// Tables to back up (`None`: all).
    pub tables: Option<Vec<String>>,
    /// Full, incremental or auto.
    pub mode: BackupMode,
    /// Chunk sizes.
    pub sizes: ChunkSizes,
    /// Wall-clock milliseconds to record as the creation time.
    pub now_ms: i64,
    /// Write an incremental even when nothing changed since the parent.
    pub keep_empty: bool,
    /// Threads that compress, hash, encrypt and store chunks while the
    /// calling thread reads (`None`: one per core; `Some(0)`: all on the
    /// calling thread). The repository's bytes are the same either way.
    pub workers: Option<usize>,
}

/// What [`create_backup`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BackupOutcome {
    /// The backup (the parent, when nothing changed and `keep_empty` is off).
    pub info: BackupInfo,
    /// Whether a new manifest was written.
    pub created: bool,
}

/// Records replayed into the scratch region per call.
const REPLAY_BATCH: usize = 4096;

struct Writer<'a, 'p, 'r> {
    pipe: &'p mut Pipeline<'r>,
    bytes: u64,
    new_bytes: u64,
    progress: &'a mut dyn FnMut(Progress),
    done_items: u64,
    total_items: u64,
}

impl Writer<'_, '_, '_> {
    /// Hand a chunk to the pipeline; its submission index.
    fn put(&mut self, payload: Vec<u8>, items: u64) -> Result<usize> {
        let Writer {
            pipe,
            bytes,
            new_bytes,
            progress,
            done_items,
            total_items,
        } = self;
        pipe.submit(payload, items, &mut |w| {
            Self::account(bytes, new_bytes, done_items, *total_items, progress, w)
        })
    }

    /// Wait for every chunk; the ids of submissions `range`, in order.
    fn ids(&mut self, range: std::ops::Range<usize>) -> Result<Vec<ObjectId>> {
        let Writer {
            pipe,
            bytes,
            new_bytes,
            progress,
            done_items,
            total_items,
        } = self;
        pipe.ids(range, &mut |w| {
            Self::account(bytes, new_bytes, done_items, *total_items, progress, w)
        })
    }

    fn account(
        bytes: &mut u64,
        new_bytes: &mut u64,
        done_items: &mut u64,
        total_items: u64,
        progress: &mut dyn FnMut(Progress),
        w: &Written,
    ) {
        *bytes += w.payload_len;
        *new_bytes += w.new_bytes;
        *done_items += w.items;
        progress(Progress {
            done: *done_items,
            total: total_items,
            bytes: *bytes,
        });
    }
}

/// The newest backup an incremental could continue.
fn find_parent(
    repo: &Repository,
    region: &str,
    tables: &[crate::model::schema::TableSchema],
) -> Result<Option<(ObjectId, Manifest)>> {
    let mut best: Option<(ObjectId, Manifest)> = None;
    for (id, m) in repo.manifests()? {
        let same_tables = m.tables.len() == tables.len()
            && m.tables.iter().zip(tables).all(|(t, s)| &t.schema == s);
        if m.region == region
            && same_tables
            && best
                .as_ref()
                .is_none_or(|(_, b)| m.next_cursor >= b.next_cursor)
        {
            best = Some((id, m));
        }
    }
    Ok(best)
}

/// Whether the parent's version vector plus the records since it cover
/// everything the region holds now (`vv`).
fn records_explain(
    src: &dyn BackupSource,
    parent: &Manifest,
    next_cursor: u64,
    vv: &crate::log::version_vector::VersionVector,
) -> Result<bool> {
    let mut expected = parent.version_vector.clone();
    src.backup_records(parent.next_cursor, &mut |cursor, _stamp, bytes| {
        if cursor < next_cursor {
            let r = decode_record(bytes)?;
            expected.insert(&r.origin, r.seq);
        }
        Ok(())
    })?;
    Ok(vv.is_covered_by(&expected))
}

/// Take a backup of `src` into `repo`. Chunks go first, the manifest last,
/// so an interrupted backup never appears; chunks already stored are not
/// written again, so the next run resumes where it stopped. `scratch` makes
/// an empty region used to check whether the log rebuilds the rows.
pub fn create_backup(
    repo: &Repository,
    src: &dyn BackupSource,
    options: &BackupOptions,
    scratch: &mut dyn FnMut() -> Result<Box<dyn RestoreTarget>>,
    progress: &mut dyn FnMut(Progress),
) -> Result<BackupOutcome> {
    let region = src.backup_region()?;
    let mut schemas = src.backup_schemas()?;
    if let Some(sel) = &options.tables {
        for t in sel {
            if !schemas.iter().any(|s| &s.name == t) {
                return Err(Error::ObjectNotExist(format!("table '{t}' does not exist")));
            }
        }
        schemas.retain(|s| sel.contains(&s.name));
    }
    let names: Vec<String> = schemas.iter().map(|s| s.name.clone()).collect();
    let (first_cursor, next_cursor) = src.backup_cursors()?;
    let point = src.backup_hlc()?;
    let (vv, dropped) = src.backup_version_vectors()?;

    let parent = match options.mode {
        BackupMode::Full => None,
        mode => {
            let p = find_parent(repo, &region, &schemas)?;
            let usable = p.filter(|(_, m)| m.next_cursor <= next_cursor);
            match (mode, usable) {
                (BackupMode::Incremental, None) => {
                    return Err(Error::invalid(
                        "no earlier backup of this region with the same tables to continue",
                    ))
                }
                (BackupMode::Incremental, Some((_, m))) if m.next_cursor < first_cursor => {
                    return Err(Error::LogGap(format!(
                        "the log starts at cursor {first_cursor}, the parent ends at {}: take a full backup",
                        m.next_cursor
                    )))
                }
                (_, Some((id, m))) if m.next_cursor >= first_cursor => Some((id, m)),
                _ => None,
            }
        }
    };

    // Rows that arrived by full, hybrid or reconcile sync carry no change
    // records: the region's version vector then holds more than the parent's
    // plus the records since it. Such an incremental could not rebuild the
    // rows, so take a full backup instead (Auto), or refuse (Incremental).
    let parent = match parent {
        Some((_, m)) if !records_explain(src, &m, next_cursor, &vv)? => {
            if options.mode == BackupMode::Incremental {
                return Err(Error::LogGap(
                    "rows arrived by sync without change records since the last backup: take a full backup"
                        .into(),
                ));
            }
            None
        }
        p => p,
    };

    let mut tables = Vec::with_capacity(schemas.len());
    let mut total_rows = 0;
    for s in &schemas {
        let (digest, rows) = src.backup_table_digest(&s.name)?;
        total_rows += rows;
        tables.push(TableEntry {
            schema: s.clone(),
            rows,
            digest,
            chunks: Vec::new(),
        });
    }
    let from_cursor = parent.as_ref().map_or(first_cursor, |(_, m)| m.next_cursor);

    if let Some((pid, pm)) = &parent {
        let unchanged = pm.next_cursor == next_cursor
            && pm
                .tables
                .iter()
                .zip(&tables)
                .all(|(a, b)| a.digest == b.digest && a.schema == b.schema);
        if unchanged && !options.keep_empty {
            return Ok(BackupOutcome {
                info: BackupInfo::of(pid, pm),
                created: false,
            });
        }
    }

    let (tables, log_chunks, records, history_complete, bytes, new_bytes) = Pipeline::run(
        repo,
        options.workers.unwrap_or_else(default_workers),
        |pipe| {
            let mut w = Writer {
                pipe,
                bytes: 0,
                new_bytes: 0,
                progress,
                done_items: 0,
                total_items: next_cursor.saturating_sub(from_cursor)
                    + if parent.is_none() { total_rows } else { 0 },
            };

            let mut table_chunks = Vec::new();
            if parent.is_none() {
                for t in tables.iter_mut() {
                    let mut b = ChunkBuilder::new(CHUNK_ROWS, options.sizes);
                    let first = w.pipe.submitted();
                    let mut pending_items = 0u64;
                    src.backup_rows(&t.schema.name, &mut |k, st| {
                        pending_items += 1;
                        if let Some(p) = b.push_row(k, st) {
                            w.put(p, pending_items)?;
                            pending_items = 0;
                        }
                        Ok(())
                    })?;
                    if let Some(p) = b.take() {
                        w.put(p, pending_items)?;
                    }
                    table_chunks.push(first..w.pipe.submitted());
                }
            }

            // The records since the parent (or the whole retained log), and for a
            // full backup a replay of them into an empty region: if that rebuilds
            // every table's digest, the chain covers all history.
            let check_history = parent.is_none()
                && dropped.contiguous().is_empty()
                && dropped.out_of_order().is_empty()
                && first_cursor <= 1;
            let mut replay: Option<Box<dyn RestoreTarget>> = None;
            if check_history {
                let mut r = scratch()?;
                for s in &schemas {
                    r.restore_create_table(s.clone())?;
                }
                replay = Some(r);
            }
            let all_tables = options.tables.is_none();
            let mut b = ChunkBuilder::new(CHUNK_RECORDS, options.sizes);
            let log_first = w.pipe.submitted();
            let mut records = 0u64;
            let mut pending_items = 0u64;
            let mut batch = Vec::new();
            src.backup_records(from_cursor, &mut |cursor, _stamp, bytes| {
                if cursor >= next_cursor {
                    return Ok(());
                }
                pending_items += 1;
                let decoded = if replay.is_some() || !all_tables {
                    let r = decode_record(bytes)?;
                    if !names.contains(&r.table) {
                        return Ok(());
                    }
                    Some(r)
                } else {
                    None
                };
                records += 1;
                if let (Some(rep), Some(rec)) = (replay.as_mut(), decoded) {
                    batch.push(rec);
                    if batch.len() >= REPLAY_BATCH {
                        rep.restore_apply_records(std::mem::take(&mut batch))?;
                    }
                }
                if let Some(p) = b.push_record(bytes) {
                    w.put(p, pending_items)?;
                    pending_items = 0;
                }
                Ok(())
            })?;
            if let Some(p) = b.take() {
                w.put(p, pending_items)?;
            }
            let log_chunks = w.ids(log_first..w.pipe.submitted())?;
            for (t, range) in tables.iter_mut().zip(table_chunks) {
                t.chunks = w.ids(range)?;
            }
            let history_complete = match replay.as_mut() {
                Some(rep) => {
                    rep.restore_apply_records(std::mem::take(&mut batch))?;
                    let mut same = true;
                    for t in &tables {
                        same &= rep.restore_table_digest(&t.schema.name)? == (t.digest, t.rows);
                    }
                    same
                }
                None => false,
            };
            Ok((
                tables,
                log_chunks,
                records,
                history_complete,
                w.bytes,
                w.new_bytes,
            ))
        },
    )?;

    let (kind, covers_from) = match &parent {
        Some((_, pm)) => (BackupKind::Incremental, pm.covers_from),
        None => (BackupKind::Full, if history_complete { 0 } else { point }),
    };
    let manifest = Manifest {
        kind,
        parent: parent.as_ref().map(|(id, _)| *id),
        created_ms: options.now_ms,
        region,
        first_cursor: from_cursor,
        next_cursor,
        covers_from,
        point,
        history_complete,
        version_vector: vv,
        dropped,
        tables,
        records,
        log_chunks,
        bytes,
        new_bytes,
    };
    let id = repo.put_manifest(&manifest)?;
    Ok(BackupOutcome {
        info: BackupInfo::of(&id, &manifest),
        created: true,
    })
}
