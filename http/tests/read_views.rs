//! Reads never wait for a commit in progress (issue 11 item 5): while a
//! writer holds the database lock inside its commit, gets, ranges, digests
//! and the change log are served from the read view it published, and a
//! read that begins after a write was acknowledged sees that write.

mod common;

use common::region;
use serde_json::json;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;
use tablesync::*;
use tablesync_http::{serve, ClientOptions, FaultHook, Region, RowClient, ServerConfig, SharedDb};

/// How long a test waits for something that must happen before it calls
/// the behaviour broken (never reached when it works).
const BOUND: Duration = Duration::from_secs(60);

fn pk(k: i64) -> PrimaryKey {
    PrimaryKey::new([("k", k)])
}

fn value(r: &Option<Row>) -> Option<Value> {
    r.as_ref().map(|r| r.cells[0].value.clone())
}

/// Blocks every local write until released, holding the writer inside its
/// commit (with the database's write lock held).
struct Gate {
    entered: Mutex<mpsc::Sender<()>>,
    release: Mutex<mpsc::Receiver<()>>,
}

impl WriteGuard for Gate {
    fn check(&self, _now_ms: i64) -> Result<()> {
        let _ = self.entered.lock().unwrap().send(());
        let _ = self.release.lock().unwrap().recv();
        Ok(())
    }
}

fn put(region: &Region, k: i64, v: i64) {
    region
        .write("put", |db| {
            db.put_row("t", pk(k), vec![Column::new("v", v)], Condition::ignore())
        })
        .unwrap();
}

#[test]
fn region_reads_complete_while_a_writer_is_held_inside_its_commit() {
    let mut db = region("server");
    db.put_row("t", pk(1), vec![Column::new("v", 1)], Condition::ignore())
        .unwrap();
    let (entered_tx, entered) = mpsc::channel();
    let (release, release_rx) = mpsc::channel();
    let gate = Arc::new(Gate {
        entered: Mutex::new(entered_tx),
        release: Mutex::new(release_rx),
    });
    let shared = Arc::new(RwLock::new(db));
    let region = Arc::new(Region::new(SharedDb::from(shared.clone()), None));
    // A read since the last commit: the next commit publishes a view.
    region
        .read_view("read:get", |r| {
            r.get_row("t", &pk(1), &GetOptions::default())
        })
        .unwrap();
    let writer = {
        let region = region.clone();
        std::thread::spawn(move || {
            region
                .write("put", |db| {
                    db.set_write_guard(Some(gate));
                    let r = db.put_row("t", pk(1), vec![Column::new("v", 2)], Condition::ignore());
                    db.set_write_guard(None);
                    r
                })
                .unwrap();
        })
    };
    entered.recv_timeout(BOUND).unwrap();
    assert!(shared.try_read().is_err(), "the writer holds the lock");
    let (tx, rx) = mpsc::channel();
    for _ in 0..3 {
        let (region, tx) = (region.clone(), tx.clone());
        std::thread::spawn(move || {
            let got = region.read_view("read:get", |r| {
                let row = r.get_row("t", &pk(1), &GetOptions::default())?;
                let s = r.describe_table("t")?.schema;
                let page = r.get_range(
                    "t",
                    &RangeBound::all(&s, PkBound::InfMin),
                    &RangeBound::all(&s, PkBound::InfMax),
                    &RangeOptions::default(),
                )?;
                let digest = r.table_digest("t")?;
                let changes = r.changes_since(0, 100)?;
                Ok((value(&row), page.rows.len(), digest, changes.records.len()))
            });
            let _ = tx.send(got.map_err(|e| format!("{e:?}")));
        });
    }
    for _ in 0..3 {
        // Bounded only so that a regression fails instead of hanging.
        let (v, rows, _, records) = rx.recv_timeout(BOUND).unwrap().unwrap();
        assert_eq!((v, rows, records), (Some(Value::Integer(1)), 1, 1));
    }
    assert!(
        !writer.is_finished(),
        "reads finished while the writer was held"
    );
    release.send(()).unwrap();
    writer.join().unwrap();
    // Acknowledged: every read from now on sees it.
    let v = region
        .read_view("read:get", |r| {
            r.get_row("t", &pk(1), &GetOptions::default())
        })
        .unwrap();
    assert_eq!(value(&v), Some(Value::Integer(2)));
}

/// Read-your-writes under contention: each client writes its own key, then
/// reads it back through `read_view` while other writers keep the lock
/// busy; the read always sees the acknowledged write (from the database or
/// from a view published after it).
#[test]
fn a_read_after_an_acknowledged_write_sees_it_while_others_commit() {
    let region = Arc::new(Region::new(SharedDb::from(region("server")), None));
    let stop = Arc::new(AtomicBool::new(false));
    let busy: Vec<_> = (0..2)
        .map(|w| {
            let (region, stop) = (region.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut n = 0;
                while !stop.load(Ordering::SeqCst) {
                    put(&region, 1_000_000 + w * 1000 + n % 1000, n);
                    n += 1;
                }
            })
        })
        .collect();
    let clients: Vec<_> = (0..3)
        .map(|c| {
            let region = region.clone();
            std::thread::spawn(move || {
                for v in 0..300 {
                    put(&region, c, v);
                    let got = region
                        .read_view("read:get", |r| {
                            r.get_row("t", &pk(c), &GetOptions::default())
                        })
                        .unwrap();
                    assert_eq!(value(&got), Some(Value::Integer(v)), "client {c}");
                    let digest_ok = region
                        .read_view("read:digest", |r| {
                            let s = r.describe_table("t")?.schema;
                            let all = r.range_digest(
                                "t",
                                &RangeBound::all(&s, PkBound::InfMin),
                                &RangeBound::all(&s, PkBound::InfMax),
                            )?;
                            Ok(all.digest == r.table_digest("t")?)
                        })
                        .unwrap();
                    assert!(digest_ok, "a torn digest");
                }
            })
        })
        .collect();
    for c in clients {
        c.join().unwrap();
    }
    stop.store(true, Ordering::SeqCst);
    for b in busy {
        b.join().unwrap();
    }
}

#[test]
fn http_reads_return_while_a_write_is_held_mid_commit() {
    let armed = Arc::new(AtomicBool::new(false));
    let (entered_tx, entered) = mpsc::channel::<()>();
    let (release, release_rx) = mpsc::channel::<()>();
    let (entered_tx, release_rx) = (Mutex::new(entered_tx), Mutex::new(release_rx));
    let a = armed.clone();
    let hook = FaultHook(Arc::new(move |op| {
        if op == "put" && a.swap(false, Ordering::SeqCst) {
            let _ = entered_tx.lock().unwrap().send(());
            let _ = release_rx.lock().unwrap().recv();
        }
    }));
    let shared = Arc::new(RwLock::new(region("server")));
    let cfg = ServerConfig {
        token: "rw".into(),
        fault_hook: Some(hook),
        ..ServerConfig::default()
    };
    let handle = serve(shared.clone(), cfg).unwrap();
    // Dropped before the server on a failure, so the held put goes on and
    // the server can stop.
    let release = release;
    let url = handle.url();
    let c = RowClient::new(&url, "rw", &ClientOptions::default()).unwrap();
    for k in 0..5 {
        c.put_row("t", json!({"k": k}), json!({"v": k}), "IGNORE")
            .unwrap();
    }
    assert!(c.get_row("t", json!({"k": 0})).unwrap().is_some());
    armed.store(true, Ordering::SeqCst);
    let writer = {
        let url = url.clone();
        std::thread::spawn(move || {
            let c = RowClient::new(&url, "rw", &ClientOptions::default()).unwrap();
            c.put_row("t", json!({"k": 0}), json!({"v": 100}), "IGNORE")
                .unwrap();
        })
    };
    entered.recv_timeout(BOUND).unwrap();
    assert!(shared.try_read().is_err(), "the put holds the lock");
    let (tx, rx) = mpsc::channel();
    {
        let url = url.clone();
        std::thread::spawn(move || {
            let c = RowClient::new(&url, "rw", &ClientOptions::default()).unwrap();
            let row = c.get_row("t", json!({"k": 0})).unwrap();
            let range = c
                .call(
                    "/v1/row/range",
                    &json!({"table": "t", "start": {"k": {"$inf": "min"}}, "end": {"k": {"$inf": "max"}}}),
                )
                .unwrap();
            let (records, _) = c.changes(0, Duration::ZERO).unwrap();
            let _ = tx.send((row, range, records.len()));
        });
    }
    // Bounded only so that a regression fails instead of hanging.
    let (row, range, records) = rx.recv_timeout(BOUND).unwrap();
    assert!(
        !writer.is_finished(),
        "the reads returned while the put was held"
    );
    assert_eq!(row.unwrap()["columns"]["v"], json!(0));
    assert_eq!(range["rows"].as_array().unwrap().len(), 5, "{range}");
    assert_eq!(records, 5);
    release.send(()).unwrap();
    writer.join().unwrap();
    let row = c.get_row("t", json!({"k": 0})).unwrap().unwrap();
    assert_eq!(row["columns"]["v"], json!(100));
    handle.stop();
}
