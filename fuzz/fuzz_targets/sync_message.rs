//! A sync message payload in a valid frame: every request and reply body
//! decoder. A request that decodes must re-encode and decode to itself; a
//! decoded request is then answered by a real responder (which must refuse
//! garbage with an error, never a panic).
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::sync::Arc;
use tablesync::codec::frame::encode_frame_version;
use tablesync::sync::message::{
    decode_reply, decode_request, encode_request, MAGIC_SYNC, SYNC_FRAME_VERSION,
};
use tablesync::sync::respond;
use tablesync::{Database, DatabaseOptions, ManualClock, PkColumn, PkType, TableSchema};

const CAP: usize = 1 << 20;

fuzz_target!(|data: &[u8]| {
    let frame = encode_frame_version(
        MAGIC_SYNC,
        SYNC_FRAME_VERSION,
        data,
        data.first().is_some_and(|b| b & 1 == 1),
    );
    if let Ok((session, index, req)) = decode_request(&frame, CAP) {
        let again = encode_request(session, index, &req, CAP).expect("re-encodes");
        let (_, _, back) = decode_request(&again, CAP).expect("decodes again");
        assert_eq!(back, req);
        let clock = Arc::new(ManualClock::new(1_700_000_000_000));
        let mut db = Database::memory(DatabaseOptions::with_clock("r", clock)).unwrap();
        db.create_table(TableSchema::new(
            "t",
            vec![PkColumn::new("k", PkType::Integer)],
        ))
        .unwrap();
        let _ = respond(&mut db, &frame, CAP);
    }
    if data.len() >= 12 {
        let session = u64::from_le_bytes(data[..8].try_into().unwrap());
        let index = u32::from_le_bytes(data[8..12].try_into().unwrap());
        let _ = decode_reply(&frame, CAP, session, index);
    }
});
