//! Paged regions (issue 11): a durable region whose rows live in its page
//! store (`storage::kv`) behind a bounded cache. Open reads the region's
//! head, its tables' page indexes and its change log from the store, not
//! the rows: a page is read back when a read first needs it. A checkpoint
//! writes the pages changed since the last one, the head, the tables and
//! the log records appended since, in one durable commit, then evicts
//! clean pages down to the cache. Layout: docs/FORMAT.md §12 "Page store".

use super::database::Database;
use super::snapshot::read_region_head;
use crate::codec::buf::{put_varint, Reader};
use crate::codec::schema::{put_schema, read_schema};
use crate::digest::{Accumulator, TableBook};
use crate::engine::pages::{IndexEntries, IndexShape, PageMap, PageSource, RowEntries};
use crate::log::cold::{LogSource, RecordVisitor};
use crate::log::vv_codec::read_vv;
use crate::log::ChangeLog;
use crate::model::error::{Error, Result};
use crate::storage::kv::{layout, KvBatch, KvSnapshot, KvStore, Space};
use crate::storage::PagedRecovery;
use crate::table::Table;
use std::collections::BTreeMap;
use std::ops::ControlFlow;
use std::sync::{Arc, PoisonError, RwLock};

/// Meta key of the region head (as snapshots begin, FORMAT.md §11).
const META_HEAD: &[u8] = b"head";
/// Meta key of the table list.
const META_TABLES: &[u8] = b"tables";
/// Meta key of the cursor of the oldest record in the store (the next
/// cursor when it holds none), so an open need not read the first log
/// chunk to learn it.
const META_LOG_FIRST: &[u8] = b"log-first";

/// Reads of a page store, on its newest committed state.
pub(crate) struct StoreReader {
    store: Arc<dyn KvStore>,
    snapshot: RwLock<Arc<dyn KvSnapshot>>,
}

impl std::fmt::Debug for StoreReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StoreReader")
    }
}

impl StoreReader {
    fn current(&self) -> Arc<dyn KvSnapshot> {
        self.snapshot
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Read from the newest commit on.
    fn refresh(&self) -> Result<()> {
        let snap = self.store.snapshot()?;
        *self
            .snapshot
            .write()
            .unwrap_or_else(PoisonError::into_inner) = snap;
        Ok(())
    }
}

/// One table's pages in the store (the table's [`PageSource`]).
#[derive(Debug)]
struct TablePages {
    reader: Arc<StoreReader>,
    table: u32,
}

impl PageSource for TablePages {
    fn load(&self, id: u64) -> Result<Vec<u8>> {
        load_page(&*self.reader.current(), self.table, id)
    }

    fn read(&self, id: u64, f: &mut dyn FnMut(&[u8]) -> Result<()>) -> Result<()> {
        read_page(&*self.reader.current(), self.table, id, f)
    }

    fn pinned(&self) -> Option<Arc<dyn PageSource>> {
        Some(Arc::new(PinnedPages {
            snapshot: self.reader.current(),
            table: self.table,
        }))
    }

    fn rows(&self, id: u64, f: RowEntries<'_>) -> Result<()> {
        read_rows(&*self.reader.current(), self.table, id, f)
    }

    fn index(&self, from: &[u8], to: Option<&[u8]>, f: IndexEntries<'_>) -> Result<()> {
        read_index(&*self.reader.current(), self.table, from, to, f)
    }
}

/// One table's pages as one commit of the store holds them (what a read
/// view's map reads once the writer's copy diverged).
struct PinnedPages {
    snapshot: Arc<dyn KvSnapshot>,
    table: u32,
}

impl std::fmt::Debug for PinnedPages {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PinnedPages(table {})", self.table)
    }
}

impl PageSource for PinnedPages {
    fn load(&self, id: u64) -> Result<Vec<u8>> {
        load_page(&*self.snapshot, self.table, id)
    }

    fn read(&self, id: u64, f: &mut dyn FnMut(&[u8]) -> Result<()>) -> Result<()> {
        read_page(&*self.snapshot, self.table, id, f)
    }

    fn rows(&self, id: u64, f: RowEntries<'_>) -> Result<()> {
        read_rows(&*self.snapshot, self.table, id, f)
    }

    fn index(&self, from: &[u8], to: Option<&[u8]>, f: IndexEntries<'_>) -> Result<()> {
        read_index(&*self.snapshot, self.table, from, to, f)
    }
}

/// Page `id` of table `table` in `snapshot`.
fn load_page(snapshot: &dyn KvSnapshot, table: u32, id: u64) -> Result<Vec<u8>> {
    snapshot
        .get(Space::Pages, &page_key(table, id))?
        .ok_or_else(|| Error::corrupt(format!("page store: table {table} has no page {id}")))
}

/// Page `id` of table `table` in `snapshot`, handed to `f` where the store
/// holds it.
fn read_page(
    snapshot: &dyn KvSnapshot,
    table: u32,
    id: u64,
    f: &mut dyn FnMut(&[u8]) -> Result<()>,
) -> Result<()> {
    if snapshot.get_with(Space::Pages, &page_key(table, id), f)? {
        Ok(())
    } else {
        Err(Error::corrupt(format!(
            "page store: table {table} has no page {id}"
        )))
    }
}

/// The row entries stored for page `id` of table `table` in `snapshot`
/// (`rows` space; keys: the page's key ‖ the row key), each handed to `f`
/// as (row key, entry).
fn read_rows(snapshot: &dyn KvSnapshot, table: u32, id: u64, f: RowEntries<'_>) -> Result<()> {
    let (from, to) = rows_range(table, id);
    snapshot.range(Space::Rows, &from, to.as_deref(), &mut |k, v| {
        f(&k[PAGE_KEY_LEN..], v)?;
        Ok(ControlFlow::Continue(()))
    })
}

/// Table `table`'s index entries with fences in `[from, to)` (`to`
/// `None`: to the table's last), each handed to `f` as (fence, page id).
fn read_index(
    snapshot: &dyn KvSnapshot,
    table: u32,
    from: &[u8],
    to: Option<&[u8]>,
    f: IndexEntries<'_>,
) -> Result<()> {
    let from = index_key(table, from);
    let to = match to {
        Some(t) => Some(index_key(table, t)),
        None => table.checked_add(1).map(|t| t.to_be_bytes().to_vec()),
    };
    scan(snapshot, Space::Index, &from, to.as_deref(), |k, v| {
        f(&k[4..], read_index_value(k, v)?)
    })
}

/// Bytes of a page's key (table number ‖ page id).
const PAGE_KEY_LEN: usize = 12;

/// The keys of page `id`'s row entries: from its page key to the next
/// page id's (`None`: past the last one).
fn rows_range(table: u32, id: u64) -> (Vec<u8>, Option<Vec<u8>>) {
    let from = page_key(table, id);
    let to = match id.checked_add(1) {
        Some(next) => Some(page_key(table, next)),
        None => table.checked_add(1).map(|t| t.to_be_bytes().to_vec()),
    };
    (from, to)
}

/// Remove every row entry stored for page `id` of table `table`.
fn remove_rows(snapshot: &dyn KvSnapshot, batch: &mut KvBatch, table: u32, id: u64) -> Result<()> {
    let (from, to) = rows_range(table, id);
    scan(snapshot, Space::Rows, &from, to.as_deref(), |k, _| {
        batch.remove(Space::Rows, k);
        Ok(())
    })
}

/// The page id an index entry's (sealed) value holds.
fn read_index_value(key: &[u8], sealed: &[u8]) -> Result<u64> {
    layout::unseal(Space::Index, key, sealed)?
        .try_into()
        .map(u64::from_be_bytes)
        .map_err(|_| Error::corrupt("page store: a damaged index entry"))
}

/// The change log's records as one commit of the store holds them.
struct StoreLog(Arc<dyn KvSnapshot>);

impl std::fmt::Debug for StoreLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StoreLog")
    }
}

impl LogSource for StoreLog {
    fn read(&self, from: u64, to: u64) -> Result<Vec<(u64, Vec<u8>)>> {
        let mut out = Vec::new();
        layout::visit_chunks(&*self.0, from, to, &mut |chunk| {
            out.extend(chunk.between(from, to).map(|(c, r)| (c, r.to_vec())));
            Ok(ControlFlow::Continue(()))
        })?;
        Ok(out)
    }

    fn visit(&self, from: u64, to: u64, f: RecordVisitor<'_>) -> Result<ControlFlow<()>> {
        let mut flow = ControlFlow::Continue(());
        layout::visit_chunks(&*self.0, from, to, &mut |chunk| {
            for (cursor, bytes) in chunk.between(from, to) {
                if f(cursor, bytes)?.is_break() {
                    flow = ControlFlow::Break(());
                    return Ok(flow);
                }
            }
            Ok(ControlFlow::Continue(()))
        })?;
        Ok(flow)
    }
}

/// The cursor a `log` space key holds (u64 big-endian).
fn log_cursor(key: &[u8]) -> Result<u64> {
    key.try_into()
        .map(u64::from_be_bytes)
        .map_err(|_| Error::corrupt("page store: a damaged log key"))
}

/// The log records of `snapshot`, as a [`LogSource`].
fn store_log(snapshot: &Arc<dyn KvSnapshot>) -> Arc<dyn LogSource> {
    Arc::new(StoreLog(snapshot.clone()))
}

/// A page's key: table number (u32 BE) ‖ page id (u64 BE).
fn page_key(table: u32, id: u64) -> Vec<u8> {
    let mut k = table.to_be_bytes().to_vec();
    k.extend_from_slice(&id.to_be_bytes());
    k
}

/// An index entry's key: table number (u32 BE) ‖ the page's fence.
fn index_key(table: u32, fence: &[u8]) -> Vec<u8> {
    let mut k = table.to_be_bytes().to_vec();
    k.extend_from_slice(fence);
    k
}

/// A paged region's state between checkpoints.
pub(crate) struct Paged {
    reader: Arc<StoreReader>,
    /// Each table as last checkpointed: its number and page source (a
    /// table whose source is not this one was created since).
    tables: BTreeMap<String, (u32, Arc<dyn PageSource>)>,
    next_table: u32,
    /// Cursors of the log records in the store: `[log_first, log_next)`.
    log_first: u64,
    log_next: u64,
    cache_bytes: u64,
    /// Bytes of pages every table had faulted in when the cache was last
    /// trimmed.
    faulted_at_trim: usize,
    /// Pages and bytes the last checkpoint wrote.
    last_pages: usize,
    last_bytes: usize,
}

impl Paged {
    /// The state of a region over `rec`'s store before any table or
    /// record is read from it.
    fn new(rec: PagedRecovery, cache_bytes: u64) -> Paged {
        Paged {
            reader: Arc::new(StoreReader {
                store: rec.store,
                snapshot: RwLock::new(rec.snapshot),
            }),
            tables: BTreeMap::new(),
            next_table: 0,
            log_first: 1,
            log_next: 1,
            cache_bytes,
            faulted_at_trim: 0,
            last_pages: 0,
            last_bytes: 0,
        }
    }
}

/// What a paged region holds in memory and what its last checkpoint wrote
/// ([`Database::paged_stats`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PagedStats {
    /// The cache: bytes of clean pages kept resident.
    pub cache_bytes: u64,
    /// Bytes of row pages resident now (dirty ones included).
    pub resident_bytes: usize,
    /// Bytes of evicted pages' buffers kept for the next page faults.
    pub spare_bytes: usize,
    /// Bytes the page indexes take (estimated; always resident).
    pub index_bytes: usize,
    /// Of `cache_bytes`, what the rows' pages may keep resident after a
    /// trim: the rest goes to the index, the store's own cache and what
    /// reads fault in between trims (see [`Database::trim_cache`]).
    pub page_budget: usize,
    /// Pages read back from the store since open.
    pub page_loads: u64,
    /// Pages the last checkpoint wrote.
    pub checkpoint_pages: usize,
    /// Bytes (keys and values) the last checkpoint committed.
    pub checkpoint_bytes: usize,
    /// Change-log records held in memory (those since the last checkpoint).
    pub log_records_in_memory: usize,
    /// Change-log records kept in the store, read back by cursor.
    pub log_records_in_store: usize,
}

/// How a paged region splits `cache_bytes` (docs/ENGINE.md "Paged
/// regions"): the store's own cache, the page indexes, the slack reads
/// may fault in between two trims, and what is left for pages — at least
/// a quarter of the cache, so a tiny cache still holds pages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct CacheBudget {
    /// Bytes of pages a trim keeps resident.
    pub(crate) pages: usize,
    /// Bytes reads may fault in before the next trim is due (kept as spare
    /// buffers at a trim).
    pub(crate) slack: usize,
}

/// `cache_bytes` split for a region whose page indexes take `index` bytes.
pub(crate) fn cache_budget(cache_bytes: u64, index: usize) -> CacheBudget {
    let cache = usize::try_from(cache_bytes).unwrap_or(usize::MAX);
    let store = usize::try_from(crate::storage::fs::store_cache(cache_bytes)).unwrap_or(usize::MAX);
    let slack = cache / 16;
    let pages = cache
        .saturating_sub(store)
        .saturating_sub(index)
        .saturating_sub(slack)
        .max(cache / 4);
    CacheBudget { pages, slack }
}

/// Whether `map` reads its pages back from `source` (the same table as
/// last checkpointed, not one created since under the same name).
fn same_source(map: &PageMap, source: &Arc<dyn PageSource>) -> bool {
    map.source()
        .is_some_and(|s| std::ptr::addr_eq(Arc::as_ptr(s), Arc::as_ptr(source)))
}

/// Every entry of `space` from `from` (before `to`), in key order.
fn scan(
    snap: &dyn KvSnapshot,
    space: Space,
    from: &[u8],
    to: Option<&[u8]>,
    mut f: impl FnMut(&[u8], &[u8]) -> Result<()>,
) -> Result<()> {
    snap.range(space, from, to, &mut |k, v| {
        f(k, v)?;
        Ok(ControlFlow::Continue(()))
    })
}

impl Database {
    /// Start keeping this region's rows in `rec`'s (empty) page store: the
    /// next page checkpoint writes every table and record.
    pub(crate) fn start_paged(&mut self, rec: PagedRecovery, cache_bytes: u64) {
        self.paged = Some(Box::new(Paged::new(rec, cache_bytes)));
    }

    /// Rebuild a paged region from its page store (the rows stay there).
    pub(crate) fn restore_paged(&mut self, rec: PagedRecovery, cache_bytes: u64) -> Result<()> {
        let mut paged = Paged::new(rec, cache_bytes);
        let reader = paged.reader.clone();
        let snap = reader.current();
        let Some(head) = snap.get(Space::Meta, META_HEAD)? else {
            // Nothing checkpointed yet: the log holds everything.
            self.paged = Some(Box::new(paged));
            return Ok(());
        };
        let head = layout::unseal(Space::Meta, META_HEAD, &head)?;
        let mut r = Reader::new(head, "page store head");
        let head = read_region_head(&mut r, read_vv)?;
        r.finish()?;
        if head.region != self.region {
            return Err(Error::RegionMismatch(format!(
                "the page store holds region '{}', not '{}'",
                head.region, self.region
            )));
        }
        let tables = snap
            .get(Space::Meta, META_TABLES)?
            .ok_or_else(|| Error::corrupt("page store: a head without a table list"))?;
        let tables = layout::unseal(Space::Meta, META_TABLES, &tables)?;
        let mut r = Reader::new(tables, "page store tables");
        paged.next_table = u32::try_from(r.varint()?).map_err(|_| r.error("table number"))?;
        for _ in 0..r.count()? {
            let number = u32::try_from(r.varint()?).map_err(|_| r.error("table number"))?;
            if number >= paged.next_table {
                return Err(r.error("a table number not below the next one"));
            }
            let schema = read_schema(&mut r)?;
            let rows = usize::try_from(r.varint()?).map_err(|_| r.error("row count"))?;
            let count = r.u64_le()?;
            let sum: [u8; 32] = r.take(32)?.try_into().unwrap_or_default();
            let state_sum = r.u64_le()?;
            let source: Arc<dyn PageSource> = Arc::new(TablePages {
                reader: reader.clone(),
                table: number,
            });
            // The index is read block by block as lookups need it; a
            // table that has no block list yet (no pages) is read whole.
            let blocks_key = layout::blocks_key(number);
            let map = match snap.get(Space::Meta, &blocks_key)? {
                Some(v) => {
                    let (next_id, blocks) = layout::decode_blocks(&blocks_key, &v)?;
                    let shape = IndexShape { next_id, blocks };
                    PageMap::attach_shape(source.clone(), &shape, rows)?
                }
                None => {
                    let mut index = Vec::new();
                    read_index(&*snap, number, &[], None, &mut |fence, id| {
                        index.push((fence.into(), id));
                        Ok(())
                    })?;
                    PageMap::attach(source.clone(), index, rows)?
                }
            };
            let book = TableBook::restored(Accumulator { count, sum }, state_sum);
            let name = schema.name.clone();
            let table = Table::from_parts(schema, map, book);
            if self.tables.insert(name.clone(), table).is_some() {
                return Err(r.error("a table twice"));
            }
            paged.tables.insert(name, (number, source));
        }
        r.finish()?;
        // The log stays in the store: only where it starts is read (a
        // store whose checkpoints predate `log-first` has its first chunk
        // read for it).
        let first = match snap.get(Space::Meta, META_LOG_FIRST)? {
            Some(v) => layout::unseal(Space::Meta, META_LOG_FIRST, &v)?
                .try_into()
                .map(u64::from_le_bytes)
                .map_err(|_| Error::corrupt("page store: a damaged log-first value"))?,
            None => {
                let mut first = None;
                snap.range(Space::Log, &[], None, &mut |k, _| {
                    let cursor = log_cursor(k)?;
                    first = Some(cursor);
                    Ok(ControlFlow::Break(()))
                })?;
                first.unwrap_or(head.next_cursor)
            }
        };
        if first > head.next_cursor {
            return Err(Error::corrupt(
                "page store: log records past the head's next cursor",
            ));
        }
        paged.log_first = first;
        paged.log_next = head.next_cursor;
        self.log = ChangeLog::restore(
            Vec::new(),
            head.next_cursor,
            head.local_seq,
            head.hlc_last,
            head.vv,
            head.dropped,
        );
        self.log.move_to_store(store_log(&snap), head.next_cursor);
        // `move_to_store` starts the stored range at the log's first
        // cursor, which an empty log puts at the next one.
        self.log.set_store_start(first);
        self.checkpointed_cursor = head.next_cursor;
        self.paged = Some(Box::new(paged));
        Ok(())
    }

    /// Whether this region keeps its rows in a page store behind a cache.
    pub fn is_paged(&self) -> bool {
        self.paged.is_some()
    }

    /// A paged region's cache and checkpoint figures (`None` unless paged).
    pub fn paged_stats(&self) -> Option<PagedStats> {
        let p = self.paged.as_deref()?;
        Some(PagedStats {
            cache_bytes: p.cache_bytes,
            resident_bytes: self.resident_page_bytes(),
            spare_bytes: self
                .tables
                .values()
                .map(|t| t.page_map().spare_bytes())
                .sum(),
            index_bytes: self.index_bytes(),
            page_budget: cache_budget(p.cache_bytes, self.index_bytes()).pages,
            page_loads: self.tables.values().map(|t| t.page_map().loads()).sum(),
            checkpoint_pages: p.last_pages,
            checkpoint_bytes: p.last_bytes,
            log_records_in_memory: self.log.len() - self.log.len_in_store(),
            log_records_in_store: self.log.len_in_store(),
        })
    }

    /// Bytes of row pages in memory now (all of them unless paged).
    pub fn resident_page_bytes(&self) -> usize {
        self.tables
            .values()
            .map(|t| t.page_map().resident_bytes())
            .sum()
    }

    /// A paged region's checkpoint: the pages changed since the last one,
    /// the head, the table list and the log records appended since (and
    /// the removal of what left: dropped pages and tables, truncated
    /// records), in one durable commit; then clean pages are evicted down
    /// to the cache.
    pub(crate) fn checkpoint_paged(&mut self) -> Result<()> {
        if self.paged.is_none() {
            return Err(Error::invalid("not a paged region"));
        }
        // A table not stored yet keeps its index in one block: it is
        // stored in blocks, so an open reads it block by block.
        for t in self.tables.values_mut() {
            if t.page_map().source().is_none() {
                t.page_map_mut().split_index_for_store();
            }
        }
        let Some(paged) = self.paged.as_deref() else {
            return Err(Error::invalid("not a paged region"));
        };
        let snap = paged.reader.current();
        let mut batch = KvBatch::default();
        let mut next_table = paged.next_table;
        let mut numbers: BTreeMap<String, (u32, Arc<dyn PageSource>)> = BTreeMap::new();
        let mut gone: Vec<u32> = Vec::new();
        for (name, (number, source)) in &paged.tables {
            let kept = self
                .tables
                .get(name)
                .is_some_and(|t| same_source(t.page_map(), source));
            if !kept {
                gone.push(*number);
            }
        }
        for number in gone {
            let to = (u64::from(number) + 1).to_be_bytes();
            let to = (number < u32::MAX).then_some(&to[4..]);
            for space in [Space::Index, Space::Pages, Space::Rows] {
                scan(&*snap, space, &number.to_be_bytes(), to, |k, _| {
                    batch.remove(space, k);
                    Ok(())
                })?;
            }
            batch.remove(Space::Meta, layout::blocks_key(number));
        }
        let mut list = Vec::new();
        let mut count = 0u64;
        for (name, t) in &self.tables {
            let (number, source) = match paged.tables.get(name) {
                Some((n, s)) if same_source(t.page_map(), s) => (*n, s.clone()),
                _ => {
                    let n = next_table;
                    next_table = next_table
                        .checked_add(1)
                        .ok_or_else(|| Error::invalid("table numbers exhausted"))?;
                    let s: Arc<dyn PageSource> = Arc::new(TablePages {
                        reader: paged.reader.clone(),
                        table: n,
                    });
                    (n, s)
                }
            };
            let flush = t.page_map().flush();
            for (fence, id) in &flush.dropped {
                batch.remove(Space::Pages, page_key(number, *id));
                remove_rows(&*snap, &mut batch, number, *id)?;
                batch.remove(Space::Index, index_key(number, fence));
            }
            for id in &flush.cleared {
                remove_rows(&*snap, &mut batch, number, *id)?;
            }
            for (fence, id, bytes) in flush.pages {
                batch.put(Space::Pages, page_key(number, id), bytes);
                let key = index_key(number, &fence);
                let value = layout::seal(&key, &id.to_be_bytes());
                batch.put(Space::Index, key, value);
            }
            if let Some(shape) = &flush.shape {
                let key = layout::blocks_key(number);
                let value = layout::encode_blocks(&key, shape.next_id, &shape.blocks);
                batch.put(Space::Meta, key, value);
            }
            // Pages that changed only in some rows: those rows' entries
            // (the page and its index entry stay as stored).
            for page in flush.rows {
                for (row_key, entry) in page.rows {
                    let mut key = page_key(number, page.id);
                    key.extend_from_slice(&row_key);
                    batch.put(Space::Rows, key, entry);
                }
            }
            put_varint(&mut list, u64::from(number));
            put_schema(&mut list, &t.schema);
            put_varint(&mut list, t.page_map().len() as u64);
            let acc = t.accumulator();
            list.extend_from_slice(&acc.count.to_le_bytes());
            list.extend_from_slice(&acc.sum);
            list.extend_from_slice(&t.state_sum().to_le_bytes());
            count += 1;
            numbers.insert(name.clone(), (number, source));
        }
        // The list's header: the next table number and the count.
        let mut tables = Vec::new();
        put_varint(&mut tables, u64::from(next_table));
        put_varint(&mut tables, count);
        tables.extend_from_slice(&list);
        batch.put(Space::Meta, META_TABLES, layout::seal(META_TABLES, &tables));
        let mut head = Vec::new();
        self.put_region_head(&mut head);
        batch.put(Space::Meta, META_HEAD, layout::seal(META_HEAD, &head));
        // Records retention dropped leave the store; those appended since
        // the last checkpoint go in, in chunks.
        let first = self.log.first_cursor();
        if first > paged.log_first {
            layout::drop_chunks_before(&*snap, &mut batch, first.min(paged.log_next))?;
        }
        {
            let mut new = self
                .log
                .entries()
                .filter(|e| e.cursor >= paged.log_next)
                .peekable();
            if let Some(start) = new.peek().map(|e| e.cursor) {
                layout::put_chunks(&mut batch, start, new.map(|e| &*e.bytes));
            }
        }
        // The store now holds the records `[first, next)`.
        batch.put(
            Space::Meta,
            META_LOG_FIRST,
            layout::seal(META_LOG_FIRST, &first.to_le_bytes()),
        );
        let written = (
            batch
                .ops
                .iter()
                .filter(|(s, _, v)| *s == Space::Pages && v.is_some())
                .count(),
            batch.bytes(),
        );
        self.storage.checkpoint_pages(batch)?;
        // Stored: the pages are clean, new tables read back from the store.
        let Some(paged) = self.paged.as_mut() else {
            return Ok(());
        };
        (paged.last_pages, paged.last_bytes) = written;
        paged.reader.refresh()?;
        // The records are in the store now: read back from there.
        let next = self.log.next_cursor();
        self.log
            .move_to_store(store_log(&paged.reader.current()), next);
        for (name, t) in &mut self.tables {
            let map = t.page_map_mut();
            map.flushed();
            if let Some((_, source)) = numbers.get(name) {
                if !same_source(map, source) {
                    map.set_source(source.clone());
                }
            }
        }
        paged.tables = numbers;
        paged.next_table = next_table;
        paged.log_first = first;
        paged.log_next = self.log.next_cursor();
        self.checkpointed_cursor = self.log.next_cursor();
        self.trim_cache();
        Ok(())
    }

    /// Bytes the tables' page indexes take (estimated).
    fn index_bytes(&self) -> usize {
        self.tables
            .values()
            .map(|t| t.page_map().index_bytes())
            .sum()
    }

    /// Bytes of pages every table faulted in so far.
    fn faulted_bytes(&self) -> usize {
        self.tables
            .values()
            .map(|t| t.page_map().faulted_bytes())
            .sum()
    }

    /// Evict clean pages until the resident ones fit their share of the
    /// cache (a paged region; nothing otherwise): `cache_bytes` bounds the
    /// whole footprint — the store's own cache, the page indexes, and what
    /// reads fault in until the next trim come out of it first
    /// ([`cache_budget`]). Each table keeps a share in proportion to what
    /// it holds resident, and keeps its share of the slack as spare
    /// buffers the next faults decode into. Reads fault pages in and never
    /// evict (they borrow); commits and checkpoints call this, and so can
    /// a reader that holds the region exclusively between reads. O(pages
    /// evicted), not O(pages).
    pub fn trim_cache(&mut self) {
        let index = self.index_bytes();
        let faulted = self.faulted_bytes();
        let Some(paged) = self.paged.as_mut() else {
            return;
        };
        paged.faulted_at_trim = faulted;
        self.log.clear_store_cache();
        let budget = cache_budget(paged.cache_bytes, index);
        let resident: Vec<usize> = self
            .tables
            .values()
            .map(|t| t.page_map().resident_bytes())
            .collect();
        let total: usize = resident.iter().sum::<usize>().max(1);
        for (t, r) in self.tables.values_mut().zip(resident) {
            let share = |bytes: usize| (r as u128 * bytes as u128 / total as u128) as usize;
            let keep = if total > budget.pages {
                share(budget.pages)
            } else {
                r
            };
            t.page_map_mut().evict_keeping(keep, share(budget.slack));
        }
    }

    /// Whether reads faulted in more than the cache's slack (a sixteenth)
    /// since it was last trimmed, so [`trim_cache`](Self::trim_cache) is
    /// due. O(tables).
    pub fn cache_trim_due(&self) -> bool {
        let Some(p) = self.paged.as_deref() else {
            return false;
        };
        let slack = cache_budget(p.cache_bytes, 0).slack;
        // A table dropped since the last trim takes its count with it:
        // trim then too (it resets the reading).
        let now = self.faulted_bytes();
        now < p.faulted_at_trim || now - p.faulted_at_trim > slack
    }

    /// [`trim_cache`](Self::trim_cache) when [`cache_trim_due`](Self::cache_trim_due):
    /// called after every commit, and by hosts after reads they run with
    /// the region held exclusively (the Python binding, the server).
    pub fn maybe_trim_cache(&mut self) {
        if self.cache_trim_due() {
            self.trim_cache();
        }
    }

    /// Page reads that failed so far, over every table (0 unless paged):
    /// taken before a read that walks rows, checked after it by
    /// [`faults_since`](Self::faults_since).
    pub(crate) fn fault_mark(&self) -> u64 {
        if self.paged.is_none() {
            return 0;
        }
        self.tables
            .values()
            .map(|t| t.page_map().fault_mark())
            .sum()
    }

    /// The error of a page read that failed since `mark` (a read that met
    /// one saw the page as empty: its result must not be used).
    pub(crate) fn faults_since(&self, mark: u64) -> Result<()> {
        if self.paged.is_none() || self.fault_mark() == mark {
            return Ok(());
        }
        let mut first = Ok(());
        for t in self.tables.values() {
            if let Err(e) = t.page_map().faults_since(0) {
                first = Err(e);
            }
        }
        first
    }
}
