//! The background thread that drives one link.

use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use tablesync::replication::push_frame::MAGIC_PUSH;
use tablesync::replication::{respond, Link, LinkAction, LinkConfig, LinkStatus};
use tablesync::{Database, Error, Result};
use tablesync_http::HttpRemote;

/// Where a link's peer lives.
#[derive(Clone)]
pub enum Peer {
    /// Another region in this process.
    Local(Arc<Mutex<Database>>),
    /// A `tablesync serve` server.
    Http(HttpRemote),
}

/// Driver settings.
#[derive(Clone, Debug)]
pub struct DriverOptions {
    /// Save the link's state to `<dir>/links/<name>.link` (a durable
    /// region's directory) every second and on pause/resume/stop.
    pub state_dir: Option<PathBuf>,
    /// How often the source's log is checked for new commits (ms).
    pub commit_poll_ms: u64,
    /// Keep a status sample this often (ms) for plots; 0 keeps none.
    pub sample_every_ms: u64,
    /// Seed of the link's session ids (`None`: from the time).
    pub seed: Option<u64>,
    /// Resume a link already in `state_dir` instead of starting a new one.
    pub resume_saved: bool,
}

impl Default for DriverOptions {
    fn default() -> Self {
        DriverOptions {
            state_dir: None,
            commit_poll_ms: 2,
            sample_every_ms: 100,
            seed: None,
            resume_saved: true,
        }
    }
}

/// One status sample.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sample {
    /// Milliseconds since the driver started.
    pub t_ms: u64,
    /// Lag at that moment.
    pub lag_ms: i64,
    /// Pending records.
    pub pending: u64,
    /// Records shipped so far.
    pub records_shipped: u64,
    /// Bytes shipped so far.
    pub bytes_shipped: u64,
}

const MAX_SAMPLES: usize = 200_000;

struct Inner {
    link: Link,
    stop: bool,
    samples: Vec<Sample>,
    /// Sessions started and finished counters, for `wait_idle`.
    busy: bool,
}

struct Shared {
    inner: Mutex<Inner>,
    wake: Condvar,
    idle: Condvar,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A running link. Dropping it stops the thread.
pub struct LinkHandle {
    shared: Arc<Shared>,
    src: Arc<Mutex<Database>>,
    state_dir: Option<PathBuf>,
    thread: Option<JoinHandle<()>>,
}

impl LinkHandle {
    /// Start `config` from `src` to `peer` on a new thread.
    pub fn spawn(
        src: Arc<Mutex<Database>>,
        peer: Peer,
        config: LinkConfig,
        opts: DriverOptions,
    ) -> Result<LinkHandle> {
        let seed = opts.seed.unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(1)
        });
        let saved = match (&opts.state_dir, opts.resume_saved) {
            (Some(dir), true) => tablesync::replication::files::load_all(dir, seed)?
                .into_iter()
                .find(|l| l.config().name == config.name),
            _ => None,
        };
        let now = lock(&src).now_ms();
        let link = match saved {
            // The saved cursors, the configuration given now.
            Some(mut old) if old.config() == &config => {
                // A paused link stays paused; a stopped one starts again
                // from its cursors.
                if old.state() != tablesync::replication::LinkState::Paused {
                    old.start(now)?;
                }
                old
            }
            _ => {
                let mut l = Link::new(config, seed)?;
                l.start(now)?;
                l
            }
        };
        let shared = Arc::new(Shared {
            inner: Mutex::new(Inner {
                link,
                stop: false,
                samples: Vec::new(),
                busy: false,
            }),
            wake: Condvar::new(),
            idle: Condvar::new(),
        });
        let state_dir = opts.state_dir.clone();
        let (s2, src2, dir2) = (shared.clone(), src.clone(), opts.state_dir.clone());
        let thread = std::thread::Builder::new()
            .name("tablesync-link".into())
            .spawn(move || run(s2, src2, peer, opts, dir2))
            .map_err(|e| Error::io_msg(format!("starting the link thread: {e}")))?;
        Ok(LinkHandle {
            shared,
            src,
            state_dir,
            thread: Some(thread),
        })
    }

    fn with_link<T>(&self, f: impl FnOnce(&mut Link, i64) -> Result<T>) -> Result<T> {
        let mut inner = lock(&self.shared.inner);
        let now = lock(&self.src).now_ms();
        let r = f(&mut inner.link, now);
        if let Some(dir) = &self.state_dir {
            tablesync::replication::files::save(dir, &inner.link)?;
        }
        self.shared.wake.notify_all();
        r
    }

    /// Pause (keeps cursors).
    pub fn pause(&self) -> Result<()> {
        self.with_link(|l, _| l.pause())
    }

    /// Resume after a pause.
    pub fn resume(&self) -> Result<()> {
        self.with_link(|l, now| l.resume(now))
    }

    /// Run one session now (what moves a manual link).
    pub fn trigger(&self) -> Result<()> {
        self.with_link(|l, _| l.trigger())
    }

    /// Status now.
    pub fn status(&self) -> LinkStatus {
        let inner = lock(&self.shared.inner);
        let db = lock(&self.src);
        inner.link.status(&db, db.now_ms())
    }

    /// Status samples kept so far.
    pub fn samples(&self) -> Vec<Sample> {
        lock(&self.shared.inner).samples.clone()
    }

    /// Wait until nothing is pending or in flight (or `timeout`); returns
    /// whether the link went idle.
    pub fn wait_idle(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            {
                let inner = lock(&self.shared.inner);
                let db = lock(&self.src);
                let s = inner.link.status(&db, db.now_ms());
                if !inner.busy && !s.in_flight && s.pending == 0 && s.last_success_ms.is_some() {
                    return true;
                }
            }
            if Instant::now() >= deadline {
                return false;
            }
            let inner = lock(&self.shared.inner);
            let _ = self
                .shared
                .idle
                .wait_timeout(inner, Duration::from_millis(5));
        }
    }

    /// Stop the link and its thread; returns the final status.
    pub fn stop(mut self) -> Result<LinkStatus> {
        let status = self.shutdown()?;
        Ok(status)
    }

    fn shutdown(&mut self) -> Result<LinkStatus> {
        {
            let mut inner = lock(&self.shared.inner);
            inner.stop = true;
            self.shared.wake.notify_all();
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        let mut inner = lock(&self.shared.inner);
        inner.link.stop();
        let db = lock(&self.src);
        Ok(inner.link.status(&db, db.now_ms()))
    }
}

impl Drop for LinkHandle {
    fn drop(&mut self) {
        if self.thread.is_some() {
            let _ = self.shutdown();
        }
    }
}

fn carry(peer: &Peer, frame: &[u8], cap: usize) -> Result<Vec<u8>> {
    match peer {
        Peer::Local(db) => respond(&mut lock(db), frame, cap),
        Peer::Http(remote) if frame.starts_with(&MAGIC_PUSH) => remote.push_round_trip(frame, cap),
        Peer::Http(remote) => remote.round_trip(frame, cap),
    }
}

/// Keep a status sample when one is due.
fn sample(
    inner: &mut Inner,
    db: &Database,
    now: i64,
    opts: &DriverOptions,
    started: Instant,
    last_sample: &mut Option<Instant>,
) {
    if opts.sample_every_ms == 0
        || last_sample.is_some_and(|t| (t.elapsed().as_millis() as u64) < opts.sample_every_ms)
    {
        return;
    }
    *last_sample = Some(Instant::now());
    let s = inner.link.status(db, now);
    if inner.samples.len() < MAX_SAMPLES {
        inner.samples.push(Sample {
            t_ms: started.elapsed().as_millis() as u64,
            lag_ms: s.lag_ms,
            pending: s.pending,
            records_shipped: s.records_shipped,
            bytes_shipped: s.bytes_shipped,
        });
    }
}

fn run(
    shared: Arc<Shared>,
    src: Arc<Mutex<Database>>,
    peer: Peer,
    opts: DriverOptions,
    state_dir: Option<PathBuf>,
) {
    let started = Instant::now();
    let mut last_cursor = 0u64;
    let mut last_sample: Option<Instant> = None;
    let mut last_save = Instant::now();
    let cap = lock(&shared.inner).link.config().max_frame_bytes;
    loop {
        // Decide what to send, holding the link and the source region.
        let (mut actions, wake_at, now) = {
            let mut inner = lock(&shared.inner);
            if inner.stop {
                break;
            }
            let mut db = lock(&src);
            let now = db.now_ms();
            let cursor = db.next_cursor().unwrap_or(last_cursor);
            let acts = if cursor != last_cursor {
                last_cursor = cursor;
                inner.link.on_commit(&mut db, now)
            } else {
                inner.link.tick(&mut db, now)
            };
            sample(&mut inner, &db, now, &opts, started, &mut last_sample);
            if let Some(dir) = &state_dir {
                if last_save.elapsed() >= Duration::from_secs(1) {
                    last_save = Instant::now();
                    let _ = tablesync::replication::files::save(dir, &inner.link);
                }
            }
            inner.busy = acts.iter().any(|a| matches!(a, LinkAction::Send(_)));
            (acts, inner.link.next_wake(), now)
        };
        // Carry frames without holding the source (the peer may be a
        // region whose own link is sending to us).
        while let Some(pos) = actions
            .iter()
            .position(|a| matches!(a, LinkAction::Send(_)))
        {
            let LinkAction::Send(frame) = actions.remove(pos) else {
                unreachable!()
            };
            let reply = carry(&peer, &frame, cap);
            let mut inner = lock(&shared.inner);
            if inner.stop {
                break;
            }
            let mut db = lock(&src);
            let now = db.now_ms();
            match reply {
                Ok(bytes) => actions.extend(inner.link.on_reply(&mut db, &bytes, now)),
                Err(e) => inner.link.on_transport_error(now, e),
            }
            // Under steady load batches follow one another here: sample too.
            sample(&mut inner, &db, now, &opts, started, &mut last_sample);
        }
        {
            let mut inner = lock(&shared.inner);
            inner.busy = false;
            shared.idle.notify_all();
            if inner.stop {
                break;
            }
            let poll = Duration::from_millis(opts.commit_poll_ms.max(1));
            let until_wake = wake_at
                .map(|w| Duration::from_millis((w - now).clamp(0, 60_000) as u64))
                .unwrap_or(poll);
            let wait = until_wake.min(poll);
            if !wait.is_zero() {
                let _ = shared.wake.wait_timeout(inner, wait);
            }
        }
    }
    if let Some(dir) = &state_dir {
        let inner = lock(&shared.inner);
        let _ = tablesync::replication::files::save(dir, &inner.link);
    }
}
