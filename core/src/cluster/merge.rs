//! Merging the pages of several partitions' sub-ranges back into one range
//! in key order, with paging: ask for pages, feed them in, take rows out.
//! Forward order (ascending keys).

use crate::model::error::{Error, Result};
use std::collections::VecDeque;

/// A page the merge needs: stream `stream`'s keys in `[start, end)`
/// (empty `end` = unbounded), at most `limit` rows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PageRequest {
    /// Index of the sub-range (as given to [`RangeMerge::new`]).
    pub stream: usize,
    /// Inclusive start key (encoded).
    pub start: Vec<u8>,
    /// Exclusive end key (encoded; empty = unbounded).
    pub end: Vec<u8>,
    /// Most rows wanted.
    pub limit: usize,
}

/// What the merge needs or has.
#[derive(Clone, Debug, PartialEq)]
pub enum MergeStep<R> {
    /// Fetch these pages and feed them to [`RangeMerge::on_page`].
    Fetch(Vec<PageRequest>),
    /// A page of rows in key order; `next_start` is the key of the next row
    /// (resume a new merge there), `None` when the range is exhausted.
    Page {
        /// Rows: (encoded key, row).
        rows: Vec<(Vec<u8>, R)>,
        /// The first key not returned, if any remains.
        next_start: Option<Vec<u8>>,
    },
}

#[derive(Clone, Debug)]
struct Stream<R> {
    next: Vec<u8>,
    end: Vec<u8>,
    buf: VecDeque<(Vec<u8>, R)>,
    done: bool,
    in_flight: bool,
}

/// The merge of sub-ranges `[start_i, end_i)`, which must not overlap.
#[derive(Clone, Debug)]
pub struct RangeMerge<R> {
    streams: Vec<Stream<R>>,
    fetch_limit: usize,
    out: Vec<(Vec<u8>, R)>,
}

impl<R> RangeMerge<R> {
    /// Merge `ranges` (start, end) fetching at most `fetch_limit` rows per page.
    pub fn new(ranges: Vec<(Vec<u8>, Vec<u8>)>, fetch_limit: usize) -> Self {
        RangeMerge {
            streams: ranges
                .into_iter()
                .map(|(s, e)| Stream {
                    done: !e.is_empty() && s >= e,
                    next: s,
                    end: e,
                    buf: VecDeque::new(),
                    in_flight: false,
                })
                .collect(),
            fetch_limit: fetch_limit.max(1),
            out: Vec::new(),
        }
    }

    /// Feed the answer to a [`PageRequest`] of `stream`: rows in ascending
    /// key order inside the requested range (already filtered to the rows
    /// the stream owns), and `more` = where the stream continues (`None`
    /// when it is exhausted). A page out of order or out of range is
    /// `CorruptData` and changes nothing.
    pub fn on_page(
        &mut self,
        stream: usize,
        rows: Vec<(Vec<u8>, R)>,
        more: Option<Vec<u8>>,
    ) -> Result<()> {
        let s = self
            .streams
            .get(stream)
            .ok_or_else(|| Error::invalid(format!("no merge stream {stream}")))?;
        let mut prev: Option<&[u8]> = None;
        for (k, _) in &rows {
            let in_range = k.as_slice() >= s.next.as_slice() && (s.end.is_empty() || k < &s.end);
            if !in_range || prev.is_some_and(|p| p >= k.as_slice()) {
                return Err(Error::corrupt(format!(
                    "range page of stream {stream} is out of order or range"
                )));
            }
            prev = Some(k);
        }
        if let (Some(m), Some(p)) = (&more, prev) {
            if m.as_slice() <= p {
                return Err(Error::corrupt("range page continues before its last row"));
            }
        }
        let s = &mut self.streams[stream];
        s.in_flight = false;
        s.buf.extend(rows);
        match more {
            Some(m) if s.end.is_empty() || m < s.end => s.next = m,
            _ => s.done = true,
        }
        Ok(())
    }

    /// The stream holding the smallest buffered key, if every live stream
    /// has a row buffered; `Err(())` when some live stream needs a page.
    fn min_stream(&self) -> std::result::Result<Option<usize>, ()> {
        let mut best: Option<usize> = None;
        for (i, s) in self.streams.iter().enumerate() {
            match s.buf.front() {
                Some((k, _)) if best.is_none_or(|b| k < &self.streams[b].buf[0].0) => {
                    best = Some(i);
                }
                Some(_) => {}
                None if !s.done => return Err(()),
                None => {}
            }
        }
        Ok(best)
    }

    fn fetches(&mut self) -> Vec<PageRequest> {
        let mut out = Vec::new();
        for (i, s) in self.streams.iter_mut().enumerate() {
            if s.buf.is_empty() && !s.done && !s.in_flight {
                s.in_flight = true;
                out.push(PageRequest {
                    stream: i,
                    start: s.next.clone(),
                    end: s.end.clone(),
                    limit: 0,
                });
            }
        }
        for r in &mut out {
            r.limit = self.fetch_limit;
        }
        out
    }

    /// Move rows out in key order until `page_size` rows are ready (then
    /// return them with the next row's key), the range ends, or a page must
    /// be fetched first. Call again after feeding the fetched pages.
    pub fn poll(&mut self, page_size: usize) -> MergeStep<R> {
        loop {
            match self.min_stream() {
                Err(()) => return MergeStep::Fetch(self.fetches()),
                Ok(None) => {
                    return MergeStep::Page {
                        rows: std::mem::take(&mut self.out),
                        next_start: None,
                    }
                }
                Ok(Some(i)) => {
                    if self.out.len() >= page_size.max(1) {
                        return MergeStep::Page {
                            rows: std::mem::take(&mut self.out),
                            next_start: Some(self.streams[i].buf[0].0.clone()),
                        };
                    }
                    let row = self.streams[i].buf.pop_front().expect("min has a row");
                    self.out.push(row);
                }
            }
        }
    }
}
