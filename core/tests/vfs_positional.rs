//! Positional file I/O of the `Vfs` (`open_rw`, `read_at`, `write_at`,
//! `size`): the same behaviour on the real file system and on the
//! simulated disk, and the simulated disk's power-loss and fault semantics
//! applied to them (what the redb-backed store of issue 11 stands on).

use std::io::ErrorKind;
use std::path::Path;
use tablesync::storage::vfs::{CrashMode, FaultPlan, SimFs, Vfs, VfsFile};

/// Write, overwrite, extend with a gap, read back, cut: the contract both
/// file systems must keep.
fn exercise<V: Vfs>(vfs: &V, path: &Path) {
    let f = vfs.open_rw(path).unwrap();
    assert_eq!(f.size().unwrap(), 0);
    f.write_at(0, b"hello world").unwrap();
    f.write_at(6, b"there").unwrap();
    f.write_at(14, b"!").unwrap(); // past the end: zeros in between
    assert_eq!(f.size().unwrap(), 15);
    let mut buf = [0u8; 15];
    f.read_at(0, &mut buf).unwrap();
    assert_eq!(&buf, b"hello there\0\0\0!");
    let mut tail = [0u8; 4];
    f.read_at(11, &mut tail).unwrap();
    assert_eq!(&tail, b"\0\0\0!");
    let err = f.read_at(12, &mut [0u8; 4]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnexpectedEof);
    f.set_len(5).unwrap();
    f.set_len(8).unwrap();
    let mut buf = [0xffu8; 8];
    f.read_at(0, &mut buf).unwrap();
    assert_eq!(&buf, b"hello\0\0\0");
    f.sync_data().unwrap();
    drop(f);
    // Reopening keeps the bytes.
    let f = vfs.open_rw(path).unwrap();
    assert_eq!(f.size().unwrap(), 8);
    assert_eq!(vfs.read(path).unwrap(), b"hello\0\0\0");
}

#[test]
fn real_and_simulated_disks_agree() {
    let dir = tempfile::tempdir().unwrap();
    exercise(&tablesync::storage::vfs::RealFs, &dir.path().join("f"));
    let fs = SimFs::new(1);
    fs.create_dir_all(Path::new("/d")).unwrap();
    exercise(&fs, Path::new("/d/f"));
}

#[test]
fn open_rw_needs_a_directory_and_its_sync() {
    let fs = SimFs::new(2);
    assert_eq!(
        fs.open_rw(Path::new("/nodir/f")).unwrap_err().kind(),
        ErrorKind::NotFound
    );
    fs.create_dir_all(Path::new("/d")).unwrap();
    fs.sync_dir(Path::new("/")).unwrap();
    let f = fs.open_rw(Path::new("/d/f")).unwrap();
    f.write_at(0, b"abc").unwrap();
    f.sync_data().unwrap();
    // The file's bytes were synced, its directory entry was not.
    fs.crash(CrashMode::DropUnsynced);
    assert!(fs.files().is_empty());
}

#[test]
fn unsynced_positional_writes_are_lost_in_a_power_cut() {
    let fs = SimFs::new(3);
    fs.create_dir_all(Path::new("/d")).unwrap();
    fs.sync_dir(Path::new("/")).unwrap();
    let f = fs.open_rw(Path::new("/d/f")).unwrap();
    fs.sync_dir(Path::new("/d")).unwrap();
    f.write_at(0, b"durable!").unwrap();
    f.sync_data().unwrap();
    f.write_at(2, b"XX").unwrap();
    f.write_at(8, b"tail").unwrap();
    assert_eq!(fs.unsynced_changes(), 2);
    fs.crash(CrashMode::DropUnsynced);
    assert_eq!(fs.read(Path::new("/d/f")).unwrap(), b"durable!");
    // Handles from before the power cut are dead.
    assert!(f.write_at(0, b"x").is_err());
    assert!(f.read_at(0, &mut [0u8; 1]).is_err());
}

#[test]
fn torn_and_reordered_power_cuts_keep_only_written_bytes() {
    for seed in 0..40 {
        for mode in [CrashMode::Torn, CrashMode::Reorder] {
            let fs = SimFs::new(seed);
            fs.create_dir_all(Path::new("/d")).unwrap();
            fs.sync_dir(Path::new("/")).unwrap();
            let f = fs.open_rw(Path::new("/d/f")).unwrap();
            fs.sync_dir(Path::new("/d")).unwrap();
            f.write_at(0, &[1u8; 16]).unwrap();
            f.sync_data().unwrap();
            f.write_at(4, &[2u8; 8]).unwrap();
            f.write_at(16, &[3u8; 8]).unwrap();
            fs.crash(mode);
            let data = fs.read(Path::new("/d/f")).unwrap();
            assert!(data.len() == 16 || data.len() <= 24, "{mode:?} {data:?}");
            for (i, b) in data.iter().enumerate() {
                let allowed: &[u8] = match i {
                    0..4 | 12..16 => &[1],
                    4..12 => &[1, 2],
                    _ => &[0, 3],
                };
                assert!(allowed.contains(b), "{mode:?} seed {seed} byte {i}: {b}");
            }
        }
    }
}

#[test]
fn faults_apply_to_positional_operations() {
    let fs = SimFs::new(4);
    fs.create_dir_all(Path::new("/d")).unwrap();
    let f = fs.open_rw(Path::new("/d/f")).unwrap();
    f.write_at(0, &[7u8; 100]).unwrap();

    // ENOSPC: growing past the capacity, by a write or by set_len.
    fs.set_faults(FaultPlan {
        capacity: Some(120),
        ..FaultPlan::default()
    });
    f.write_at(50, &[8u8; 50]).unwrap(); // in place: takes no room
    let err = f.write_at(90, &[9u8; 40]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::StorageFull);
    assert_eq!(f.size().unwrap(), 120); // what fitted was written
    let err = f.set_len(200).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::StorageFull);
    assert_eq!(f.size().unwrap(), 120);
    assert_eq!(fs.stats().enospc, 2);

    // A short write writes half and fails.
    fs.set_faults(FaultPlan {
        short_write_at: Some(1),
        ..FaultPlan::default()
    });
    let err = f.write_at(0, &[1u8; 10]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::WriteZero);
    let mut buf = [0u8; 10];
    f.read_at(0, &mut buf).unwrap();
    assert_eq!(buf, [1, 1, 1, 1, 1, 7, 7, 7, 7, 7]);

    // A bit flips on the n-th read, positional reads included.
    fs.set_faults(FaultPlan {
        flip_read_at: Some(2),
        ..FaultPlan::default()
    });
    let mut a = [0u8; 20];
    let mut b = [0u8; 20];
    f.read_at(0, &mut a).unwrap();
    f.read_at(0, &mut b).unwrap();
    let flipped: u32 = a.iter().zip(&b).map(|(x, y)| (x ^ y).count_ones()).sum();
    assert_eq!(flipped, 1);
    assert_eq!(fs.stats().bit_flips, 1);

    // A failed fsync loses the unsynced positional writes (Linux semantics).
    fs.set_faults(FaultPlan {
        fail_fsync_at: Some(1),
        ..FaultPlan::default()
    });
    assert!(f.sync_data().is_err());
    f.sync_data().unwrap();
    fs.crash(CrashMode::DropUnsynced);
    // The directory was never synced: the file is gone altogether.
    assert!(fs.files().is_empty());
}

#[test]
fn a_crash_point_can_fall_on_a_positional_write() {
    let fs = SimFs::new(5);
    fs.create_dir_all(Path::new("/d")).unwrap();
    let f = fs.open_rw(Path::new("/d/f")).unwrap();
    fs.crash_after(2);
    f.write_at(0, b"a").unwrap();
    f.write_at(1, b"b").unwrap();
    assert!(fs.halted());
    assert!(f.write_at(2, b"c").is_err());
    assert!(f.read_at(0, &mut [0u8; 1]).is_err());
    assert!(f.size().is_err());
}
