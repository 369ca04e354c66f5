//! The page store's values (FORMAT.md §12 "Page store"): leaf pages
//! (version 1, and version 2 with its LZ4 block and claimed length), row
//! entries, log chunks and block lists (a map opened over a decoded list
//! refuses a bad one or reads its blocks back, never panics). Each is tried as given (the CRC refuses nearly
//! everything) and with its CRC made right, so the checks behind the CRC
//! see arbitrary bytes: no panic, no allocation beyond what the bytes can
//! hold, and what decodes encodes back to what decodes the same.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::sync::Arc;
use tablesync::engine::page_codec::{decode_leaf, decode_row_entry, encode_leaf};
use tablesync::engine::pages::{page_rows, IndexShape, PageMap, PageSource};
use tablesync::storage::kv::layout::{
    blocks_key, chunk_key, decode_blocks, encode_blocks, encode_chunk, LogChunk,
};

/// A page store with nothing in it: every page and index block read fails.
#[derive(Debug)]
struct Empty;

impl PageSource for Empty {
    fn load(&self, id: u64) -> tablesync::Result<Vec<u8>> {
        Err(tablesync::Error::corrupt(format!("no page {id}")))
    }
}

fn with_crc(prefix: &[u8], body: &[u8]) -> Vec<u8> {
    let mut h = crc32fast::Hasher::new();
    h.update(prefix);
    h.update(body);
    let mut out = body.to_vec();
    out.extend_from_slice(&h.finalize().to_le_bytes());
    out
}

fuzz_target!(|data: &[u8]| {
    for page in [data.to_vec(), with_crc(&[], data)] {
        if let Ok(leaf) = decode_leaf(&page) {
            let again = decode_leaf(&encode_leaf(&leaf)).expect("a page this build wrote");
            assert!(page_rows(&leaf)
                .zip(page_rows(&again))
                .all(|((ka, a), (kb, b))| ka == kb
                    && a.state == b.state
                    && a.digest == b.digest
                    && a.state_id == b.state_id));
            assert_eq!(leaf.len(), again.len());
        }
    }
    let (key, body) = data.split_at(
        data.len()
            .min(usize::from(data.first().copied().unwrap_or(0) % 16)),
    );
    for entry in [body.to_vec(), with_crc(key, body)] {
        let _ = decode_row_entry(key, &entry);
    }
    let first = 1024 * u64::from(data.first().copied().unwrap_or(0));
    let ck = chunk_key(first);
    for chunk in [body.to_vec(), with_crc(&ck, body)] {
        if let Ok(c) = LogChunk::decode(&ck, &chunk) {
            let again = encode_chunk(c.first, c.records.iter().copied());
            let back = LogChunk::decode(&ck, &again).expect("a chunk this build wrote");
            assert_eq!(back.records, c.records);
        }
    }
    let bk = blocks_key(7);
    for list in [data.to_vec(), with_crc(&bk, data)] {
        if let Ok((next_id, blocks)) = decode_blocks(&bk, &list) {
            let again = encode_blocks(&bk, next_id, &blocks);
            let back = decode_blocks(&bk, &again).expect("a list this build wrote");
            assert_eq!(back, (next_id, blocks.clone()));
            let shape = IndexShape { next_id, blocks };
            if let Ok(map) = PageMap::attach_shape(Arc::new(Empty), &shape, 0) {
                // Its blocks cannot be read back: the read says so.
                let mark = map.fault_mark();
                assert!(map.get(b"k").is_none());
                assert!(
                    shape.blocks.iter().all(|(_, n)| *n == 0) || map.faults_since(mark).is_err()
                );
            }
        }
    }
});
