//! The native driver: links between in-process regions and to an HTTP
//! server, on real time (short waits; each test well under a second).

use std::sync::{Arc, Mutex};
use std::time::Duration;
use tablesync::replication::{LinkConfig, LinkState, Trigger};
use tablesync::sync::SyncDirection;
use tablesync::*;
use tablesync_replicate::{DriverOptions, LinkHandle, Peer};

fn region(name: &str) -> Arc<Mutex<Database>> {
    let mut db = Database::memory(DatabaseOptions::new(name)).unwrap();
    db.create_table(TableSchema::new(
        "t",
        vec![PkColumn::new("k", PkType::Integer)],
    ))
    .unwrap();
    Arc::new(Mutex::new(db))
}

fn put(db: &Arc<Mutex<Database>>, k: i64) {
    db.lock()
        .unwrap()
        .put_row(
            "t",
            PrimaryKey::new([("k", k)]),
            vec![Column::new("v", k)],
            Condition::ignore(),
        )
        .unwrap();
}

fn digest(db: &Arc<Mutex<Database>>) -> Digest {
    db.lock().unwrap().table_digest("t").unwrap()
}

const WAIT: Duration = Duration::from_secs(10);

#[test]
fn realtime_both_ways_between_two_regions_in_process() {
    let (a, b) = (region("a"), region("b"));
    let link = LinkHandle::spawn(
        a.clone(),
        Peer::Local(b.clone()),
        LinkConfig::new("ab", "b").direction(SyncDirection::Both),
        DriverOptions::default(),
    )
    .unwrap();
    for k in 0..200 {
        put(&a, k);
        put(&b, 1000 + k);
    }
    assert!(link.wait_idle(WAIT));
    // Pulls are polled: give the peer's last writes one poll period.
    let deadline = std::time::Instant::now() + WAIT;
    while digest(&a) != digest(&b) && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(digest(&a), digest(&b));
    let s = link.stop().unwrap();
    assert_eq!(s.state, LinkState::Stopped);
    // Exact: every record is counted once, however it travelled.
    assert_eq!(s.records_shipped, 400, "{s:?}");
}

#[test]
fn pause_resume_and_manual_trigger() {
    let (a, b) = (region("a"), region("b"));
    let link = LinkHandle::spawn(
        a.clone(),
        Peer::Local(b.clone()),
        LinkConfig::new("ab", "b").trigger(Trigger::Manual),
        DriverOptions::default(),
    )
    .unwrap();
    put(&a, 1);
    std::thread::sleep(Duration::from_millis(50));
    let s = link.status();
    assert_eq!(
        (s.pending, s.bytes_shipped),
        (1, 0),
        "manual: nothing moves"
    );
    link.trigger().unwrap();
    assert!(link.wait_idle(WAIT));
    assert_eq!(digest(&a), digest(&b));
    link.pause().unwrap();
    put(&a, 2);
    assert!(link.trigger().is_err(), "a paused link is not triggered");
    link.resume().unwrap();
    link.trigger().unwrap();
    assert!(link.wait_idle(WAIT));
    assert_eq!(digest(&a), digest(&b));
    let samples = link.samples();
    assert!(!samples.is_empty());
}

#[test]
fn a_link_saved_in_a_directory_resumes_from_its_cursor() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (region("a"), region("b"));
    let opts = DriverOptions {
        state_dir: Some(dir.path().to_path_buf()),
        ..DriverOptions::default()
    };
    let cfg = LinkConfig::new("ab", "b");
    let link =
        LinkHandle::spawn(a.clone(), Peer::Local(b.clone()), cfg.clone(), opts.clone()).unwrap();
    for k in 0..50 {
        put(&a, k);
    }
    assert!(link.wait_idle(WAIT));
    let before = link.stop().unwrap();
    assert!(dir.path().join("links/ab.link").exists());
    let again = LinkHandle::spawn(a.clone(), Peer::Local(b.clone()), cfg, opts).unwrap();
    let s = again.status();
    assert_eq!(
        s.pending, 0,
        "the saved cursor says b holds everything: {s:?}"
    );
    assert!(s.records_shipped >= before.records_shipped.min(50));
    again.stop().unwrap();
}

#[test]
fn realtime_push_to_an_http_server() {
    let (a, b) = (region("a"), region("b"));
    // Count the server's write operations by kind.
    let ops = Arc::new(Mutex::new(std::collections::BTreeMap::<String, u64>::new()));
    let o2 = ops.clone();
    let cfg = tablesync_http::ServerConfig {
        token: "t0ken".into(),
        fault_hook: Some(tablesync_http::FaultHook(Arc::new(move |op: &str| {
            *o2.lock().unwrap().entry(op.to_string()).or_default() += 1;
        }))),
        ..tablesync_http::ServerConfig::default()
    };
    let server = tablesync_http::serve(b.clone(), cfg).unwrap();
    let remote = tablesync_http::HttpRemote::new(&server.url(), "t0ken").unwrap();
    for k in 0..20 {
        put(&a, k);
    }
    let link = LinkHandle::spawn(
        a.clone(),
        Peer::Http(remote),
        LinkConfig::new("ab", "b"),
        DriverOptions::default(),
    )
    .unwrap();
    assert!(link.wait_idle(WAIT));
    let after_first_contact = ops.lock().unwrap().clone();
    assert!(after_first_contact.get("sync").copied().unwrap_or(0) >= 1);
    for k in 20..100 {
        put(&a, k);
        std::thread::sleep(Duration::from_millis(1));
    }
    assert!(link.wait_idle(WAIT));
    assert_eq!(digest(&a), digest(&b));
    let s = link.stop().unwrap();
    assert!(s.bytes_shipped > 0 && s.last_error.is_none(), "{s:?}");
    assert_eq!(s.records_shipped, 100, "{s:?}");
    let ops = ops.lock().unwrap().clone();
    // Live commits went through POST /v1/replicate, one frame per batch;
    // sync sessions ran only for catch-up (at most one a second).
    let pushes = ops.get("replicate").copied().unwrap_or(0);
    assert!((1..=80).contains(&pushes), "{ops:?}");
    let syncs = ops.get("sync").copied().unwrap_or(0) - after_first_contact["sync"];
    assert!(syncs <= 6 * 4, "catch-up sessions only: {ops:?}");
    server.stop();
}
