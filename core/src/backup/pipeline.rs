//! Chunk writing across threads: the backup's reader (rows and records,
//! chunk building) stays on the calling thread while compression, hashing,
//! encryption and the store's writes run on worker threads, a bounded
//! queue between them. Chunk ids come back in submission order, and every
//! object is a pure function of its payload and the repository's keys
//! (content ids, derived nonces), so the repository is byte-identical to a
//! one-thread run. On `wasm32` (no threads) everything runs inline.

use super::manifest::ObjectId;
use super::repo::Repository;
use crate::model::error::Result;

#[cfg(not(target_arch = "wasm32"))]
/// Payloads waiting per worker before the reader blocks (bounds memory to
/// about `workers × QUEUE_PER_WORKER` chunks).
const QUEUE_PER_WORKER: usize = 2;

#[cfg(not(target_arch = "wasm32"))]
/// Most worker threads.
const MAX_WORKERS: usize = 8;

/// Worker threads to use: one per available core beyond the reader's,
/// at least one when there are two or more cores; 0 (inline) otherwise.
pub(crate) fn default_workers() -> usize {
    #[cfg(target_arch = "wasm32")]
    {
        0
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let n = std::thread::available_parallelism().map_or(1, |n| n.get());
        if n < 2 {
            0
        } else {
            n.min(MAX_WORKERS)
        }
    }
}

/// One chunk written: its id, payload length and stored bytes written.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Written {
    pub id: ObjectId,
    pub payload_len: u64,
    pub new_bytes: u64,
    pub items: u64,
}

/// Where chunk payloads go: inline, or to the workers of a scope.
pub(crate) struct Pipeline<'r> {
    repo: &'r Repository,
    #[cfg(not(target_arch = "wasm32"))]
    threads: Option<Threads>,
    submitted: usize,
    /// Results by submission index (filled as they arrive).
    done: Vec<Option<Written>>,
    error: Option<crate::model::error::Error>,
}

#[cfg(not(target_arch = "wasm32"))]
struct Threads {
    tx: Option<std::sync::mpsc::SyncSender<(usize, Vec<u8>, u64)>>,
    rx: std::sync::mpsc::Receiver<(usize, Result<Written>)>,
}

impl<'r> Pipeline<'r> {
    /// Run `body` with a pipeline of `workers` threads (0: inline).
    pub(crate) fn run<T>(
        repo: &'r Repository,
        workers: usize,
        body: impl FnOnce(&mut Pipeline<'r>) -> Result<T>,
    ) -> Result<T> {
        #[cfg(target_arch = "wasm32")]
        {
            let _ = workers;
            let mut p = Pipeline {
                repo,
                submitted: 0,
                done: Vec::new(),
                error: None,
            };
            return body(&mut p);
        }
        #[cfg(not(target_arch = "wasm32"))]
        {
            if workers == 0 {
                let mut p = Pipeline {
                    repo,
                    threads: None,
                    submitted: 0,
                    done: Vec::new(),
                    error: None,
                };
                return body(&mut p);
            }
            use std::sync::{mpsc, Arc, Mutex};
            let (tx, work_rx) =
                mpsc::sync_channel::<(usize, Vec<u8>, u64)>(workers * QUEUE_PER_WORKER);
            let (res_tx, rx) = mpsc::channel::<(usize, Result<Written>)>();
            let work_rx = Arc::new(Mutex::new(work_rx));
            std::thread::scope(|s| {
                for _ in 0..workers {
                    let work_rx = work_rx.clone();
                    let res_tx = res_tx.clone();
                    s.spawn(move || loop {
                        let job = match work_rx.lock() {
                            Ok(g) => g.recv(),
                            Err(_) => return,
                        };
                        let Ok((i, payload, items)) = job else { return };
                        let r = repo.stage_chunk(&payload).map(|(id, new_bytes)| Written {
                            id,
                            payload_len: payload.len() as u64,
                            new_bytes,
                            items,
                        });
                        if res_tx.send((i, r)).is_err() {
                            return;
                        }
                    });
                }
                drop(res_tx);
                let mut p = Pipeline {
                    repo,
                    threads: Some(Threads { tx: Some(tx), rx }),
                    submitted: 0,
                    done: Vec::new(),
                    error: None,
                };
                let out = body(&mut p);
                // Stop the workers (they drain what is queued, then end).
                if let Some(t) = p.threads.as_mut() {
                    t.tx = None;
                }
                out
            })
        }
    }

    /// Hand a chunk payload over; returns its submission index. Results
    /// that arrived meanwhile go to `on_done`.
    pub(crate) fn submit(
        &mut self,
        payload: Vec<u8>,
        items: u64,
        on_done: &mut dyn FnMut(&Written),
    ) -> Result<usize> {
        let i = self.submitted;
        self.submitted += 1;
        self.done.push(None);
        #[cfg(not(target_arch = "wasm32"))]
        if let Some(t) = &self.threads {
            let sent = t.tx.as_ref().map(|tx| tx.send((i, payload, items)));
            if !matches!(sent, Some(Ok(()))) {
                return Err(crate::model::error::Error::io_msg(
                    "the backup's chunk writers stopped",
                ));
            }
            self.collect(false, on_done)?;
            return Ok(i);
        }
        let (id, new_bytes) = self.repo.stage_chunk(&payload)?;
        let w = Written {
            id,
            payload_len: payload.len() as u64,
            new_bytes,
            items,
        };
        on_done(&w);
        self.done[i] = Some(w);
        Ok(i)
    }

    /// Take finished results (all outstanding ones when `all`).
    #[cfg_attr(target_arch = "wasm32", allow(unused_variables))]
    fn collect(&mut self, all: bool, on_done: &mut dyn FnMut(&Written)) -> Result<()> {
        #[cfg(not(target_arch = "wasm32"))]
        if let Some(t) = &self.threads {
            loop {
                let outstanding = self.done.iter().any(Option::is_none);
                if !outstanding {
                    break;
                }
                let next = if all {
                    t.rx.recv().ok()
                } else {
                    t.rx.try_recv().ok()
                };
                let Some((i, r)) = next else {
                    if all {
                        return Err(crate::model::error::Error::io_msg(
                            "the backup's chunk writers stopped",
                        ));
                    }
                    break;
                };
                match r {
                    Ok(w) => {
                        on_done(&w);
                        self.done[i] = Some(w);
                    }
                    Err(e) => {
                        self.error.get_or_insert(e);
                    }
                }
                if self.error.is_some() {
                    break;
                }
            }
        }
        match self.error.take() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Wait for every submitted chunk; the ids of submissions `range`.
    pub(crate) fn ids(
        &mut self,
        range: std::ops::Range<usize>,
        on_done: &mut dyn FnMut(&Written),
    ) -> Result<Vec<ObjectId>> {
        self.collect(true, on_done)?;
        Ok(self.done[range]
            .iter()
            .map(|w| w.expect("collected").id)
            .collect())
    }

    /// Submissions so far.
    pub(crate) fn submitted(&self) -> usize {
        self.submitted
    }
}
