//! Taking a backup: a full one (every row plus the retained log) or an
//! incremental one (the change records since its parent, and the rows whose
//! state changed since it, which catches rows that arrived outside the log).

use super::chunk::{
    decode_chunk, key_hash, row_id_payloads, ChunkBuilder, ChunkItems, ChunkSizes, CHUNK_RECORDS,
    CHUNK_ROWS,
};
use super::history::HistoryReplay;
use super::manifest::{id_hex, BackupKind, Manifest, ObjectId, TableEntry, MANIFEST_VERSION};
use super::pipeline::{default_workers, Pipeline, Written};
use super::repo::as_backup;
use super::repo::{BackupInfo, Repository};
use super::source::BackupSource;
use super::Progress;
use crate::codec::key::encode_key;
use crate::codec::record::decode_record;
use crate::model::error::{Error, Result};
use std::collections::{BTreeSet, HashMap, HashSet};

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

/// The newest backup an incremental could continue (format 1 backups have
/// no row ids and cannot be continued).
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
            && m.has_row_ids()
            && best
                .as_ref()
                .is_none_or(|(_, b)| m.next_cursor >= b.next_cursor)
        {
            best = Some((id, m));
        }
    }
    Ok(best)
}

/// What the records since the parent say: whether they, with the parent's
/// version vector, explain everything the region holds, and which keys of
/// each backed-up table they touch.
struct SinceParent {
    /// The parent's version vector plus these records cover `vv`.
    explained: bool,
    /// Encoded keys touched, per table (`None` if one did not encode: the
    /// incremental then scans).
    touched: Option<HashMap<String, BTreeSet<Vec<u8>>>>,
}

/// Read the records since `parent` (up to `next_cursor`) once: see [`SinceParent`].
fn since_parent(
    src: &dyn BackupSource,
    parent: &Manifest,
    next_cursor: u64,
    vv: &crate::log::version_vector::VersionVector,
    schemas: &[crate::model::schema::TableSchema],
) -> Result<SinceParent> {
    let mut expected = parent.version_vector.clone();
    let mut touched: Option<HashMap<String, BTreeSet<Vec<u8>>>> = Some(HashMap::new());
    src.backup_records(parent.next_cursor, &mut |cursor, _stamp, bytes| {
        if cursor < next_cursor {
            let r = decode_record(bytes)?;
            expected.insert(&r.origin, r.seq);
            if let (Some(t), Some(schema)) =
                (touched.as_mut(), schemas.iter().find(|s| s.name == r.table))
            {
                match encode_key(schema, &r.primary_key) {
                    Ok(k) => {
                        t.entry(r.table).or_default().insert(k);
                    }
                    Err(_) => touched = None,
                }
            }
        }
        Ok(())
    })?;
    Ok(SinceParent {
        explained: vv.is_covered_by(&expected),
        touched,
    })
}

/// Key hash → wrapping sum of the state ids of the rows with that key hash.
type RowIds = HashMap<u64, u64>;

/// Sort `(key hash, state id)` pairs into a row-id map's entries: one per
/// key hash (ids of colliding keys summed), none with id 0.
fn merge_ids(mut ids: Vec<(u64, u64)>) -> Vec<(u64, u64)> {
    ids.sort_unstable_by_key(|e| e.0);
    let mut out: Vec<(u64, u64)> = Vec::with_capacity(ids.len());
    for (h, id) in ids {
        match out.last_mut() {
            Some(last) if last.0 == h => last.1 = last.1.wrapping_add(id),
            _ => out.push((h, id)),
        }
    }
    out.retain(|e| e.1 != 0);
    out
}

/// The row-id map of each of `names` at backup `tip`: its full backup's
/// map with every incremental's changes applied in chain order.
fn chain_row_ids(repo: &Repository, tip: &ObjectId, names: &[String]) -> Result<Vec<RowIds>> {
    let mut maps: Vec<RowIds> = vec![HashMap::new(); names.len()];
    for (id, m) in repo.chain(tip)? {
        if !m.has_row_ids() {
            return Err(Error::BackupCorrupt(format!(
                "backup {} has no row ids (format 1)",
                id_hex(&id)
            )));
        }
        for (map, name) in maps.iter_mut().zip(names) {
            let Some(t) = m.table(name) else { continue };
            for cid in &t.id_chunks {
                let payload = repo.get_chunk(cid)?;
                let ChunkItems::RowIds(entries) = decode_chunk(&payload).map_err(as_backup)? else {
                    return Err(Error::BackupCorrupt(format!(
                        "chunk {} does not hold row ids",
                        id_hex(cid)
                    )));
                };
                for (h, v) in entries {
                    if v == 0 {
                        map.remove(&h);
                    } else {
                        map.insert(h, v);
                    }
                }
            }
        }
    }
    Ok(maps)
}

/// The entries of `now` that differ from `before` (id 0: gone), in key-hash order.
fn row_id_changes(before: &RowIds, now: &[(u64, u64)]) -> Vec<(u64, u64)> {
    let mut out: Vec<(u64, u64)> = now
        .iter()
        .filter(|(h, id)| before.get(h) != Some(id))
        .copied()
        .collect();
    let present: HashSet<u64> = now.iter().map(|e| e.0).collect();
    out.extend(
        before
            .keys()
            .filter(|h| !present.contains(h))
            .map(|h| (*h, 0)),
    );
    out.sort_unstable_by_key(|e| e.0);
    out
}

/// Row-id changes (key-hash order) and the encoded keys of the rows to store (key order).
type LoggedChanges = (Vec<(u64, u64)>, Vec<Vec<u8>>);

/// The row-id changes of table `name` since its parent map `before`, from
/// the keys the records since the parent touch (`keys`): their rows are
/// looked up instead of scanning the table. `None` when that cannot be
/// trusted and the caller must scan: the source keeps no state sum, or the
/// table's state sum differs from the parent's moved by the looked-up rows,
/// which happens when rows changed without records (reconcile sync) or a
/// touched key shares its key hash with an untouched one. Otherwise the
/// changes (key-hash order, id 0: gone) and the touched keys whose entry
/// changed (key order), the rows the incremental stores.
fn log_row_id_changes(
    src: &dyn BackupSource,
    name: &str,
    before: &RowIds,
    keys: &BTreeSet<Vec<u8>>,
) -> Result<Option<LoggedChanges>> {
    let Some(now_sum) = src.backup_state_sum(name)? else {
        return Ok(None);
    };
    let keys: Vec<Vec<u8>> = keys.iter().cloned().collect();
    let mut now: HashMap<u64, u64> = keys.iter().map(|k| (key_hash(k), 0)).collect();
    src.backup_rows_at(name, &keys, &mut |k, _st, id| {
        let e = now.entry(key_hash(k)).or_insert(0);
        *e = e.wrapping_add(id);
        Ok(())
    })?;
    let mut expected = before.values().fold(0u64, |a, v| a.wrapping_add(*v));
    for (h, id) in &now {
        let old = before.get(h).copied().unwrap_or(0);
        expected = expected.wrapping_sub(old).wrapping_add(*id);
    }
    if expected != now_sum {
        return Ok(None);
    }
    let mut changes: Vec<(u64, u64)> = now
        .into_iter()
        .filter(|(h, id)| before.get(h).copied().unwrap_or(0) != *id)
        .collect();
    changes.sort_unstable_by_key(|e| e.0);
    let keys = keys
        .into_iter()
        .filter(|k| changes.binary_search_by_key(&key_hash(k), |e| e.0).is_ok())
        .collect();
    Ok(Some((changes, keys)))
}

/// Take a backup of `src` into `repo`. Chunks go first, the manifest last,
/// so an interrupted backup never appears; chunks already stored are not
/// written again, so the next run resumes where it stopped. A full backup
/// of a region whose log was never truncated replays that log into empty
/// tables to learn whether the chain covers all history.
pub fn create_backup(
    repo: &Repository,
    src: &dyn BackupSource,
    options: &BackupOptions,
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
    let since = match &parent {
        Some((_, m)) => Some(since_parent(src, m, next_cursor, &vv, &schemas)?),
        None => None,
    };
    let parent = match parent {
        Some(_) if since.as_ref().is_some_and(|s| !s.explained) => {
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
            id_chunks: Vec::new(),
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

    // The parent's row ids: an incremental stores the rows whose state id
    // changed since, so rows that arrived outside the log (reconcile) are kept.
    let parent_ids = match &parent {
        Some((pid, _)) => Some(chain_row_ids(repo, pid, &names)?),
        None => None,
    };

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
            for (i, t) in tables.iter_mut().enumerate() {
                let name = &t.schema.name;
                let mut b = ChunkBuilder::new(CHUNK_ROWS, options.sizes);
                let first = w.pipe.submitted();
                let mut pending_items = 0u64;
                let mut ids: Vec<(u64, u64)> = Vec::new();
                let id_entries = match &parent_ids {
                    None => {
                        ids.reserve(t.rows as usize);
                        src.backup_rows_with_ids(name, &mut |k, st, id| {
                            ids.push((key_hash(k), id));
                            pending_items += 1;
                            if let Some(p) = b.push_row(k, st) {
                                w.put(p, pending_items)?;
                                pending_items = 0;
                            }
                            Ok(())
                        })?;
                        merge_ids(ids)
                    }
                    Some(maps) => {
                        let no_keys = BTreeSet::new();
                        let fast = match since.as_ref().and_then(|s| s.touched.as_ref()) {
                            Some(touched) => log_row_id_changes(
                                src,
                                name,
                                &maps[i],
                                touched.get(name).unwrap_or(&no_keys),
                            )?,
                            None => None,
                        };
                        let mut push = |k: &[u8], st: &[u8]| -> Result<()> {
                            pending_items += 1;
                            if let Some(p) = b.push_row(k, st) {
                                w.put(p, pending_items)?;
                                pending_items = 0;
                            }
                            Ok(())
                        };
                        match fast {
                            Some((changes, keys)) => {
                                src.backup_rows_at(name, &keys, &mut |k, st, _id| push(k, st))?;
                                changes
                            }
                            None => {
                                // Rows changed outside the log (reconcile)
                                // or the source keeps no state sum: scan.
                                src.backup_rows_with_ids(name, &mut |k, _st, id| {
                                    ids.push((key_hash(k), id));
                                    Ok(())
                                })?;
                                let changes = row_id_changes(&maps[i], &merge_ids(ids));
                                let changed: HashSet<u64> = changes.iter().map(|e| e.0).collect();
                                if !changed.is_empty() {
                                    src.backup_rows(name, &mut |k, st| {
                                        if changed.contains(&key_hash(k)) {
                                            push(k, st)?;
                                        }
                                        Ok(())
                                    })?;
                                }
                                changes
                            }
                        }
                    }
                };
                if let Some(p) = b.take() {
                    w.put(p, pending_items)?;
                }
                let ids_first = w.pipe.submitted();
                for p in row_id_payloads(&id_entries) {
                    w.put(p, 0)?;
                }
                table_chunks.push((first..ids_first, ids_first..w.pipe.submitted()));
            }

            // The records since the parent (or the whole retained log), and for a
            // full backup a replay of them into empty tables: if that rebuilds
            // every table's digest, the chain covers all history.
            let check_history = parent.is_none()
                && dropped.contiguous().is_empty()
                && dropped.out_of_order().is_empty()
                && first_cursor <= 1;
            let mut replay = check_history.then(|| HistoryReplay::new(&schemas));
            let all_tables = options.tables.is_none();
            let mut b = ChunkBuilder::new(CHUNK_RECORDS, options.sizes);
            let log_first = w.pipe.submitted();
            let mut records = 0u64;
            let mut pending_items = 0u64;
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
                    rep.apply(&rec)?;
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
            for (t, (rows, ids)) in tables.iter_mut().zip(table_chunks) {
                t.chunks = w.ids(rows)?;
                t.id_chunks = w.ids(ids)?;
            }
            let history_complete = replay.is_some_and(|rep| {
                tables
                    .iter()
                    .all(|t| rep.table_digest(&t.schema.name) == Some((t.digest, t.rows)))
            });
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
        version: MANIFEST_VERSION,
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
    // Every chunk durable and visible before the manifest that names them.
    repo.sync_chunks()?;
    let id = repo.put_manifest(&manifest)?;
    Ok(BackupOutcome {
        info: BackupInfo::of(&id, &manifest),
        created: true,
    })
}
