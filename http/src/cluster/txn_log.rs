//! A region's durable 2PC records: an append-only file of `TSCR` frames
//! (FORMAT.md §17.3), each made durable (fsync) before the protocol goes
//! on. Opening it drops a torn last frame and garbage-collects finished
//! transactions beyond the newest `keep_done`.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use tablesync::cluster::txn::{CoordRecord, PartRecord, TxnId};
use tablesync::cluster::wire::{decode_txn_record, encode_txn_record, TxnRecord};
use tablesync::codec::frame::FRAME_HEADER_LEN;
use tablesync::{Error, Result};

/// The log file's name inside the cluster directory.
pub const TXN_LOG: &str = "txn.log";

/// The open log.
pub struct TxnLog {
    path: PathBuf,
    file: File,
}

fn io(what: &str, p: &Path, e: std::io::Error) -> Error {
    Error::io_msg(format!("{what} {}: {e}", p.display()))
}

/// Split `bytes` into whole frames; returns them and the length of the
/// valid prefix (a torn or damaged tail is not returned).
fn frames(bytes: &[u8]) -> (Vec<TxnRecord>, usize) {
    let mut out = Vec::new();
    let mut pos = 0;
    while bytes.len() - pos >= FRAME_HEADER_LEN {
        let len = u32::from_le_bytes([
            bytes[pos + 6],
            bytes[pos + 7],
            bytes[pos + 8],
            bytes[pos + 9],
        ]) as usize;
        let end = pos + FRAME_HEADER_LEN + len;
        if end > bytes.len() {
            break;
        }
        match decode_txn_record(&bytes[pos..end]) {
            Ok(r) => out.push(r),
            Err(_) => break,
        }
        pos = end;
    }
    (out, pos)
}

/// Whether a record marks its transaction finished on this side.
fn finishes(r: &TxnRecord) -> bool {
    matches!(
        r,
        TxnRecord::Coord(CoordRecord::Finished { .. })
            | TxnRecord::Part(PartRecord::Committed { .. } | PartRecord::Aborted { .. })
    )
}

/// Drop the records of finished transactions, all but the newest
/// `keep_done` of them (kept so late duplicates are still answered from
/// the record). A transaction is finished when the coordinator side has
/// `Finished` (or it never coordinated it) and the participant side has
/// `Committed`/`Aborted` (or it never took part).
pub fn collect(records: Vec<TxnRecord>, keep_done: usize) -> Vec<TxnRecord> {
    let mut coord_open: BTreeSet<TxnId> = BTreeSet::new();
    let mut part_open: BTreeSet<TxnId> = BTreeSet::new();
    let mut finished_order: BTreeMap<TxnId, usize> = BTreeMap::new();
    for (i, r) in records.iter().enumerate() {
        let t = r.txn();
        match r {
            // A decision stays until `Finished` (a presumed abort whose
            // participant never acknowledges is kept forever: safe).
            TxnRecord::Coord(CoordRecord::Decided { .. }) => {
                coord_open.insert(t);
            }
            TxnRecord::Part(PartRecord::Prepared { .. }) => {
                part_open.insert(t);
            }
            _ => {}
        }
        if finishes(r) {
            match r {
                TxnRecord::Coord(_) => coord_open.remove(&t),
                TxnRecord::Part(_) => part_open.remove(&t),
            };
            finished_order.insert(t, i);
        }
    }
    let mut done: Vec<(usize, TxnId)> = finished_order
        .into_iter()
        .filter(|(t, _)| !coord_open.contains(t) && !part_open.contains(t))
        .map(|(t, i)| (i, t))
        .collect();
    done.sort();
    let drop_n = done.len().saturating_sub(keep_done);
    let dropped: BTreeSet<TxnId> = done.iter().take(drop_n).map(|(_, t)| *t).collect();
    records
        .into_iter()
        .filter(|r| !dropped.contains(&r.txn()))
        .collect()
}

impl TxnLog {
    /// Open (creating) `dir/txn.log`; returns the log and its records
    /// after garbage collection.
    pub fn open(dir: &Path, keep_done: usize) -> Result<(TxnLog, Vec<TxnRecord>)> {
        std::fs::create_dir_all(dir).map_err(|e| io("creating", dir, e))?;
        let path = dir.join(TXN_LOG);
        let mut bytes = Vec::new();
        if path.exists() {
            File::open(&path)
                .and_then(|mut f| f.read_to_end(&mut bytes))
                .map_err(|e| io("reading", &path, e))?;
        }
        let (records, valid) = frames(&bytes);
        let kept = collect(records.clone(), keep_done);
        if kept.len() != records.len() || valid != bytes.len() {
            // Rewrite: a torn tail is dropped and finished records collected.
            let tmp = dir.join(format!("{TXN_LOG}.tmp"));
            let mut f = File::create(&tmp).map_err(|e| io("creating", &tmp, e))?;
            for r in &kept {
                f.write_all(&encode_txn_record(r))
                    .map_err(|e| io("writing", &tmp, e))?;
            }
            f.sync_all().map_err(|e| io("syncing", &tmp, e))?;
            std::fs::rename(&tmp, &path).map_err(|e| io("renaming", &tmp, e))?;
            if let Ok(d) = File::open(dir) {
                let _ = d.sync_all();
            }
        }
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| io("opening", &path, e))?;
        Ok((TxnLog { path, file }, kept))
    }

    /// Append one record and make it durable.
    pub fn append(&mut self, r: &TxnRecord) -> Result<()> {
        self.file
            .write_all(&encode_txn_record(r))
            .and_then(|_| self.file.sync_data())
            .map_err(|e| io("appending to", &self.path, e))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(i: u128) -> TxnId {
        TxnId(i)
    }

    #[test]
    fn collect_keeps_unfinished_and_the_newest_finished() {
        let decided = |i| {
            TxnRecord::Coord(CoordRecord::Decided {
                txn: t(i),
                commit: true,
                participants: vec!["a".into()],
                reason: String::new(),
            })
        };
        let mut recs = Vec::new();
        for i in 0..5 {
            recs.push(decided(i));
            recs.push(TxnRecord::Coord(CoordRecord::Finished { txn: t(i) }));
        }
        recs.push(decided(9)); // decided, not finished: always kept
        recs.push(TxnRecord::Part(PartRecord::Aborted {
            txn: t(10),
            reason: "x".into(),
        }));
        let kept = collect(recs, 2);
        let ids: Vec<u128> = kept.iter().map(|r| r.txn().0).collect();
        // Finished 0..=4 and 10: the newest two (4 and 10) stay, with 9.
        assert_eq!(ids, vec![4, 4, 9, 10]);
    }

    #[test]
    fn a_torn_tail_is_dropped_and_the_file_rewritten() {
        let dir = tempfile::tempdir().unwrap();
        let r = TxnRecord::Part(PartRecord::Committed { txn: t(1) });
        let mut bytes = encode_txn_record(&r);
        bytes.extend(&encode_txn_record(&r)[..5]);
        std::fs::write(dir.path().join(TXN_LOG), &bytes).unwrap();
        let (mut log, recs) = TxnLog::open(dir.path(), 100).unwrap();
        assert_eq!(recs, vec![r.clone()]);
        log.append(&r).unwrap();
        drop(log);
        let (_, recs) = TxnLog::open(dir.path(), 100).unwrap();
        assert_eq!(recs.len(), 2);
    }
}
