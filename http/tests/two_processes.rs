//! An HTTP sync round trip between two processes: this test binary re-runs
//! itself as a server hosting a durable region on 127.0.0.1.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use tablesync::sync::{SyncConfig, SyncDirection, SyncMode};
use tablesync::*;
use tablesync_http::{serve, sync_url, HttpRemote, ServerConfig};

const CHILD_ENV: &str = "TABLESYNC_HTTP_TEST_SERVER_DIR";

fn schema() -> TableSchema {
    TableSchema::new("orders", vec![PkColumn::new("id", PkType::Integer)])
}

/// In the child: open the region, serve it, print the URL, run until killed.
/// Not a test of its own: ignored, so it never counts as a pass, and run
/// explicitly by the parent with `--ignored --exact server_process`.
#[test]
#[ignore = "child-process entry point of sync_with_a_server_in_another_process; run by it"]
fn server_process() {
    let dir = std::env::var(CHILD_ENV).unwrap_or_else(|_| {
        panic!("server_process is started by sync_with_a_server_in_another_process (needs {CHILD_ENV})")
    });
    let mut db = Database::open(&dir, DatabaseOptions::new("server")).unwrap();
    if db.list_tables().unwrap().is_empty() {
        db.create_table(schema()).unwrap();
        for i in 0..100 {
            db.put_row(
                "orders",
                PrimaryKey::new([("id", i)]),
                vec![Column::new("who", "server")],
                Condition::ignore(),
            )
            .unwrap();
        }
    }
    let cfg = ServerConfig {
        token: "s3cret".into(),
        ..ServerConfig::default()
    };
    let handle = serve(Arc::new(Mutex::new(db)), cfg).unwrap();
    println!("LISTENING {}", handle.url());
    handle.join();
}

#[test]
fn sync_with_a_server_in_another_process() {
    if std::env::var(CHILD_ENV).is_ok() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--ignored",
            "--exact",
            "server_process",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, dir.path())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let url = loop {
        let line = lines.next().expect("server printed its URL").unwrap();
        // The harness may print "test server_process ... " on the same line.
        if let Some((_, u)) = line.split_once("LISTENING ") {
            break u.trim().to_string();
        }
    };
    let result = std::panic::catch_unwind(|| {
        let mut local = Database::memory(DatabaseOptions::new("laptop")).unwrap();
        local.create_table(schema()).unwrap();
        local
            .put_row(
                "orders",
                PrimaryKey::new([("id", 500)]),
                vec![Column::new("who", "laptop")],
                Condition::ignore(),
            )
            .unwrap();

        // A wrong token is refused and nothing moves.
        let bad = HttpRemote::new(&url, "wrong").unwrap();
        let err = sync_url(&mut local, &bad, SyncConfig::default()).unwrap_err();
        assert!(err.message().contains("401"), "{err}");
        assert_eq!(local.describe_table("orders").unwrap().row_count, 1);

        let remote = HttpRemote::new(&url, "s3cret").unwrap();
        let report = sync_url(
            &mut local,
            &remote,
            SyncConfig::new(SyncMode::Auto, SyncDirection::Both),
        )
        .unwrap();
        assert!(report.verified, "{report:?}");
        assert_eq!(report.round_trips, 2, "{report:?}");
        assert_eq!(local.describe_table("orders").unwrap().row_count, 101);
        // Verify again: identical replicas, one small round trip.
        let again = sync_url(
            &mut local,
            &remote,
            SyncConfig::new(SyncMode::Verify, SyncDirection::Both),
        )
        .unwrap();
        assert!(again.verified && again.round_trips == 1, "{again:?}");
        assert!(again.bytes_sent + again.bytes_received < 1024, "{again:?}");
        // Garbage instead of a frame is answered with an error, not a crash.
        let err = remote.round_trip(b"not a frame", 1 << 20).unwrap_err();
        assert_eq!(err.code(), "CorruptData");
    });
    child.kill().unwrap();
    child.wait().unwrap();
    if let Err(e) = result {
        std::panic::resume_unwind(e);
    }
    // The server's directory holds the laptop's row after the kill.
    let db = Database::open(dir.path(), DatabaseOptions::new("server")).unwrap();
    assert!(db
        .get_row(
            "orders",
            &PrimaryKey::new([("id", 500)]),
            &GetOptions::default()
        )
        .unwrap()
        .is_some());
}
