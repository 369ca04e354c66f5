//! The served region's delta-checkpoint chain is folded by the server's
//! fold thread (`BackgroundFolds`), not by the writers: writes that grow
//! the chain past the fold limits see it folded meanwhile, and no commit
//! writes a full checkpoint itself.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};
use tablesync::*;

fn snaps(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".snap"))
        .collect();
    v.sort();
    v
}

#[test]
fn the_server_folds_the_chain_off_the_writers_path() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("r");
    let (db, handle) = common::served_durable(&dir);
    let mut inline = 0;
    let mut folded = 0;
    let mut k = 0i64;
    // Write until the fold thread has installed a few folds (bounded, so a
    // broken driver fails instead of hanging).
    let give_up = Instant::now() + Duration::from_secs(120);
    while folded < 3 && Instant::now() < give_up {
        let mut g = db.lock().unwrap();
        let before = snaps(&dir);
        g.put_row(
            "t",
            PrimaryKey::new([("k", k % 300)]),
            vec![Column::new("v", format!("value-{k:040}"))],
            Condition::ignore(),
        )
        .unwrap();
        let after = snaps(&dir);
        drop(g);
        // A commit that replaced the full checkpoint folded inline: the old
        // one is gone when it returns. (The fold thread writes its new
        // checkpoint without the lock, so a new file may appear during a
        // commit; it deletes the old one only under the lock, in
        // `finish_fold`. The very first full checkpoint replaces nothing.)
        if before.iter().any(|s| !after.contains(s)) {
            inline += 1;
        }
        k += 1;
        if k % 50 == 0 {
            // Let the fold thread take the lock between bursts.
            std::thread::sleep(Duration::from_millis(30));
            let now = snaps(&dir);
            if now != after {
                folded += 1;
            }
        }
    }
    assert!(
        folded >= 3,
        "the server's fold thread installed {folded} folds"
    );
    assert_eq!(inline, 0, "commits folded the chain themselves");
    assert!(!handle.stop());
    let want = db.lock().unwrap().export_snapshot().unwrap();
    db.lock().unwrap().close().unwrap();
    let back = Database::open(&dir, DatabaseOptions::new("served").rows_in_memory()).unwrap();
    assert_eq!(back.export_snapshot().unwrap(), want);
}
