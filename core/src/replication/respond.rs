//! The peer's side of a link: one frame in, one frame out, no state.

use super::push_frame::{decode_push, encode_ack, has_magic, PushAck, MAGIC_PUSH};
use crate::client::Database;
use crate::model::error::Result;
use crate::sync::message::MAGIC_SYNC;

/// Answer one frame a link sent: sync frames go to
/// [`crate::sync::respond`], record pushes (delayed links) are merged with
/// [`Database::apply_changes_owned`] (all or nothing) and acknowledged.
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
    let batch = decode_push(frame, max_frame_bytes)?;
    let outcome = match db.apply_changes_owned(batch.records) {
        Ok(s) => Ok((s.applied, s.skipped)),
        Err(e) => Err((e.code().to_string(), e.message())),
    };
    Ok(encode_ack(&PushAck {
        session: batch.session,
        batch: batch.batch,
        outcome,
    }))
}
