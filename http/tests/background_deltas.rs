//! The served region's delta checkpoints are written by the server's
//! background thread (`BackgroundFolds`), not inside commits: no write
//! creates a checkpoint file itself, while deltas keep joining the chain
//! (and the log they cover goes), and the region reopens as it was.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};
use tablesync::*;

fn checkpoints(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("checkpoint-") && !n.ends_with(".tmp"))
        .collect()
}

#[test]
fn the_server_writes_delta_checkpoints_off_the_writers_path() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("r");
    let (db, handle) = common::served_durable(&dir);
    let mut inline = 0;
    let mut seen = BTreeSet::new();
    let mut k = 0i64;
    // Write until the thread has written a few deltas (bounded, so a
    // broken driver fails instead of hanging).
    let give_up = Instant::now() + Duration::from_secs(120);
    while seen
        .iter()
        .filter(|n: &&String| n.ends_with(".delta"))
        .count()
        < 5
        && Instant::now() < give_up
    {
        let mut g = db.lock().unwrap();
        let before = checkpoints(&dir);
        g.put_row(
            "t",
            PrimaryKey::new([("k", k % 300)]),
            vec![Column::new("v", format!("value-{k:040}"))],
            Condition::ignore(),
        )
        .unwrap();
        let after = checkpoints(&dir);
        drop(g);
        if before != after {
            inline += 1;
        }
        k += 1;
        if k % 20 == 0 {
            // Let the thread take the lock between bursts.
            std::thread::sleep(Duration::from_millis(30));
            seen.extend(checkpoints(&dir));
        }
    }
    let deltas = seen.iter().filter(|n| n.ends_with(".delta")).count();
    assert!(deltas >= 5, "the server's thread wrote {deltas} deltas");
    assert_eq!(inline, 0, "commits wrote checkpoints themselves");
    assert!(!handle.stop());
    let want = db.lock().unwrap().export_snapshot().unwrap();
    db.lock().unwrap().close().unwrap();
    let back = Database::open(&dir, DatabaseOptions::new("served").rows_in_memory()).unwrap();
    assert_eq!(back.export_snapshot().unwrap(), want);
}
