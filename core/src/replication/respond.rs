//! The peer's side of a link: one frame in, one frame out, no state.

use super::push_frame::{decode_push, encode_ack, has_magic, PushAck, MAGIC_PUSH};
use crate::client::Database;
use crate::model::error::Result;
use crate::sync::message::MAGIC_SYNC;

/// Answer one frame a link sent: sync frames go to
/// [`crate::sync::respond`], record pushes (delayed links, and realtime
/// links once they have a cursor) are merged with the checks of a sync
/// push (all or nothing) and acknowledged with this region's new version
/// vector.
/// A frame that cannot be decoded is an error (there is no one to answer).
pub fn respond(db: &mut Database, frame: &[u8], max_frame_bytes: usize) -> Result<Vec<u8>> {
    if has_magic(frame, MAGIC_SYNC) {
        return crate::sync::respond(db, frame, max_frame_bytes);
    }
    if frame.len() > max_frame_bytes.saturating_add(64) {
        return Err(crate::model::error::Error::corrupt(format!(
            "frame of {} bytes exceeds the cap of {max_frame_bytes}",
            frame.len()
        )));
    }
    if !has_magic(frame, MAGIC_PUSH) {
        return Err(crate::model::error::Error::corrupt(
            "not a replication frame (expected TSSY or TSRP)",
        ));
    }
    db.check_open()?;
    let batch = decode_push(frame, max_frame_bytes).inspect_err(|e| db.note_peer_error(e))?;
    // The same validated path as a sync push (claims on this region's own
    // sequence numbers, clock drift, all or nothing).
    let (outcome, vv) = match db.apply_peer_changes(batch.records) {
        Ok(s) => (Ok((s.applied, s.skipped)), Some(db.version_vector_full()?)),
        Err(e) => {
            db.note_peer_error(&e);
            (Err((e.code().to_string(), e.message())), None)
        }
    };
    Ok(encode_ack(&PushAck {
        session: batch.session,
        batch: batch.batch,
        outcome,
        vv,
    }))
}
