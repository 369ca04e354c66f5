//! Reads run in parallel: a slow read in flight does not hold up other
//! reads (row gets, a pulling sync session), and a stream of slow writers
//! delays a reader by at most the commit in progress.

mod common;

use common::region;
use serde_json::json;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};
use tablesync::sync::{SyncConfig, SyncDirection, SyncMode};
use tablesync::Database;
use tablesync_http::{
    serve, sync_url, ClientOptions, FaultHook, HttpRemote, RowClient, ServerConfig,
};

const SLOW_READ: Duration = Duration::from_millis(2500);
const SLOW_COMMIT: Duration = Duration::from_millis(600);

fn served(hook: FaultHook) -> (tablesync_http::ServerHandle, RowClient, String) {
    let shared = Arc::new(RwLock::new(region("server")));
    let cfg = ServerConfig {
        token: "rw".into(),
        fault_hook: Some(hook),
        ..ServerConfig::default()
    };
    let handle = serve(shared, cfg).unwrap();
    let url = handle.url();
    let c = RowClient::new(&url, "rw", &ClientOptions::default()).unwrap();
    for k in 0..10 {
        c.put_row("t", json!({"k": k}), json!({"v": k}), "IGNORE")
            .unwrap();
    }
    (handle, c, url)
}

#[test]
fn gets_and_a_pull_complete_while_a_slow_read_holds_the_read_lock() {
    let armed = Arc::new(AtomicBool::new(false));
    let inside = Arc::new(AtomicBool::new(false));
    let (a, i) = (armed.clone(), inside.clone());
    let hook = FaultHook(Arc::new(move |op| {
        if op == "read:range" && a.load(Ordering::SeqCst) {
            i.store(true, Ordering::SeqCst);
            std::thread::sleep(SLOW_READ);
        }
    }));
    let (handle, c, url) = served(hook);
    armed.store(true, Ordering::SeqCst);
    let slow_url = url.clone();
    let slow = std::thread::spawn(move || {
        let c = RowClient::new(&slow_url, "rw", &ClientOptions::default()).unwrap();
        let t = Instant::now();
        c.call(
            "/v1/row/range",
            &json!({"table": "t", "start": {"k": {"$inf": "min"}}, "end": {"k": {"$inf": "max"}}}),
        )
        .unwrap();
        t.elapsed()
    });
    let t = Instant::now();
    while !inside.load(Ordering::SeqCst) {
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "slow read never started"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    // The slow read holds the read lock now; other reads go on.
    let t = Instant::now();
    for k in 0..10 {
        let row = c.get_row("t", json!({"k": k})).unwrap().unwrap();
        assert_eq!(row["columns"]["v"], json!(k), "{row}");
    }
    let mut local = Database::memory(tablesync::DatabaseOptions::new("laptop")).unwrap();
    let remote = HttpRemote::new(&url, "rw").unwrap();
    let report = sync_url(
        &mut local,
        &remote,
        SyncConfig::new(SyncMode::Auto, SyncDirection::Pull),
    )
    .unwrap();
    assert_eq!(
        local.describe_table("t").unwrap().row_count,
        10,
        "{report:?}"
    );
    let reads = t.elapsed();
    let slow_took = slow.join().unwrap();
    assert!(slow_took >= SLOW_READ, "{slow_took:?}");
    assert!(
        reads < SLOW_READ / 2,
        "10 gets and a pull took {reads:?} beside a {SLOW_READ:?} read: they waited for it"
    );
    armed.store(false, Ordering::SeqCst);
    handle.stop();
}

#[test]
fn queued_writers_delay_a_reader_by_at_most_the_commit_in_progress() {
    let armed = Arc::new(AtomicBool::new(false));
    let commits = Arc::new(AtomicUsize::new(0));
    let (a, n) = (armed.clone(), commits.clone());
    let hook = FaultHook(Arc::new(move |op| {
        if op == "put" && a.load(Ordering::SeqCst) {
            std::thread::sleep(SLOW_COMMIT);
            n.fetch_add(1, Ordering::SeqCst);
        }
    }));
    let (handle, c, url) = served(hook);
    armed.store(true, Ordering::SeqCst);
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let (url, stop) = (url.clone(), stop.clone());
            std::thread::spawn(move || {
                let c = RowClient::new(&url, "rw", &ClientOptions::default()).unwrap();
                let mut k = 100 + w * 1000;
                while !stop.load(Ordering::SeqCst) {
                    c.put_row("t", json!({"k": k}), json!({"v": k}), "IGNORE")
                        .unwrap();
                    k += 1;
                }
            })
        })
        .collect();
    // Let the writers queue up behind each other.
    std::thread::sleep(SLOW_COMMIT * 2);
    let mut worst = Duration::ZERO;
    for k in 0..8 {
        let t = Instant::now();
        assert!(c.get_row("t", json!({"k": k})).unwrap().is_some());
        worst = worst.max(t.elapsed());
        std::thread::sleep(Duration::from_millis(37));
    }
    stop.store(true, Ordering::SeqCst);
    for w in writers {
        w.join().unwrap();
    }
    assert!(
        commits.load(Ordering::SeqCst) >= 4,
        "the writers did not keep the lock busy"
    );
    // Four writers were queued; a reader waited for at most one of them.
    assert!(
        worst < SLOW_COMMIT * 2 - Duration::from_millis(50),
        "a get waited {worst:?} with {SLOW_COMMIT:?} commits queued"
    );
    armed.store(false, Ordering::SeqCst);
    handle.stop();
}
