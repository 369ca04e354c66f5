//! File names of a storage directory. Sequence numbers are written with 20
//! decimal digits so that names sort like the numbers they hold.

use std::path::{Path, PathBuf};

/// The lock file every process takes before touching the directory.
pub const LOCK_FILE: &str = "LOCK";
/// Marker written when an fsync of the log failed: the log's last segment
/// may hold bytes that are only in the OS page cache (fsyncgate), so the
/// next open rewrites that segment before trusting it.
pub const SYNC_FAILED_FILE: &str = "SYNC-FAILED";
/// The directory's manifest: region, directory format version, creation
/// time and options (see `manifest.rs`).
pub const MANIFEST_FILE: &str = "MANIFEST";
/// Suffix of files still being written (deleted on recovery).
pub const TEMP_SUFFIX: &str = ".tmp";

const SEGMENT_PREFIX: &str = "wal-";
const SEGMENT_SUFFIX: &str = ".log";
const CHECKPOINT_PREFIX: &str = "checkpoint-";
const CHECKPOINT_SUFFIX: &str = ".snap";
const DELTA_SUFFIX: &str = ".delta";
const DIGITS: usize = 20;

/// What a directory entry is, judged by its name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FileKind {
    /// A log segment whose first record has this sequence number.
    Segment(u64),
    /// A checkpoint covering every record before this sequence number.
    Checkpoint(u64),
    /// A delta checkpoint (directory format 3) covering every record
    /// before this sequence number, on top of a full checkpoint.
    Delta(u64),
    /// A file left half-written by a crash.
    Temp,
    /// The lock file, or anything this storage did not write.
    Other,
}

/// Name of the segment whose first record is `first_seq`.
pub fn segment_name(first_seq: u64) -> String {
    format!("{SEGMENT_PREFIX}{first_seq:0DIGITS$}{SEGMENT_SUFFIX}")
}

/// Name of the checkpoint covering the records before `next_seq`.
pub fn checkpoint_name(next_seq: u64) -> String {
    format!("{CHECKPOINT_PREFIX}{next_seq:0DIGITS$}{CHECKPOINT_SUFFIX}")
}

/// Name of the delta checkpoint covering the records before `next_seq`.
pub fn delta_name(next_seq: u64) -> String {
    format!("{CHECKPOINT_PREFIX}{next_seq:0DIGITS$}{DELTA_SUFFIX}")
}

/// Path of a temp file that will be renamed to `final_name`.
pub fn temp_path(dir: &Path, final_name: &str) -> PathBuf {
    dir.join(format!("{final_name}{TEMP_SUFFIX}"))
}

fn number(name: &str, prefix: &str, suffix: &str) -> Option<u64> {
    let digits = name.strip_prefix(prefix)?.strip_suffix(suffix)?;
    if digits.len() != DIGITS || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Classify a directory entry by its name.
pub fn classify(name: &str) -> FileKind {
    if let Some(base) = name.strip_suffix(TEMP_SUFFIX) {
        if number(base, SEGMENT_PREFIX, SEGMENT_SUFFIX).is_some()
            || number(base, CHECKPOINT_PREFIX, CHECKPOINT_SUFFIX).is_some()
            || number(base, CHECKPOINT_PREFIX, DELTA_SUFFIX).is_some()
            || base == MANIFEST_FILE
        {
            return FileKind::Temp;
        }
        return FileKind::Other;
    }
    if let Some(n) = number(name, SEGMENT_PREFIX, SEGMENT_SUFFIX) {
        return FileKind::Segment(n);
    }
    if let Some(n) = number(name, CHECKPOINT_PREFIX, CHECKPOINT_SUFFIX) {
        return FileKind::Checkpoint(n);
    }
    if let Some(n) = number(name, CHECKPOINT_PREFIX, DELTA_SUFFIX) {
        return FileKind::Delta(n);
    }
    FileKind::Other
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_sort_numerically() {
        assert_eq!(segment_name(1), "wal-00000000000000000001.log");
        assert_eq!(classify(&segment_name(42)), FileKind::Segment(42));
        assert_eq!(classify(&checkpoint_name(7)), FileKind::Checkpoint(7));
        assert_eq!(delta_name(7), "checkpoint-00000000000000000007.delta");
        assert_eq!(classify(&delta_name(7)), FileKind::Delta(7));
        assert_eq!(
            classify(&format!("{}{TEMP_SUFFIX}", delta_name(3))),
            FileKind::Temp
        );
        assert_eq!(
            classify(&segment_name(u64::MAX)),
            FileKind::Segment(u64::MAX)
        );
        assert!(segment_name(9) < segment_name(10));
        assert!(checkpoint_name(99) < checkpoint_name(100));
    }

    #[test]
    fn strangers_and_temps_are_recognised() {
        assert_eq!(classify("LOCK"), FileKind::Other);
        assert_eq!(classify("wal-1.log"), FileKind::Other);
        assert_eq!(classify("wal-0000000000000000000x.log"), FileKind::Other);
        assert_eq!(classify("notes.tmp"), FileKind::Other);
        assert_eq!(
            classify(&format!("{}{TEMP_SUFFIX}", checkpoint_name(3))),
            FileKind::Temp
        );
        assert_eq!(
            classify(&format!("{}{TEMP_SUFFIX}", segment_name(3))),
            FileKind::Temp
        );
        assert_eq!(classify(MANIFEST_FILE), FileKind::Other);
        assert_eq!(classify("MANIFEST.tmp"), FileKind::Temp);
    }
}
