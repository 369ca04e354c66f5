//! A link's persisted state: its configuration and cursors as one frame
//! (`TSLK`, docs/FORMAT.md "Replication frames"), so a durable region
//! remembers its links across restarts.

use super::config::{LinkConfig, LinkState};
use super::link::Link;
use super::trigger::Trigger;
use crate::codec::buf::{put_bytes, put_varint, put_zigzag, Reader};
use crate::codec::frame::{decode_frame, encode_frame};
use crate::model::error::Result;
use crate::sync::SyncDirection;

/// Magic of a persisted link.
pub const MAGIC_LINK: [u8; 4] = *b"TSLK";

impl Link {
    /// The link's configuration, state and cursors as bytes (in-flight
    /// sessions are not kept: a restored link starts a fresh one).
    pub fn encode_state(&self) -> Vec<u8> {
        let c = &self.config;
        let mut p = Vec::with_capacity(128);
        put_bytes(&mut p, c.name.as_bytes());
        put_bytes(&mut p, c.peer.as_bytes());
        p.push(c.direction.byte());
        match &c.tables {
            None => p.push(0),
            Some(t) => {
                p.push(1);
                put_varint(&mut p, t.len() as u64);
                for n in t {
                    put_bytes(&mut p, n.as_bytes());
                }
            }
        }
        let (kind, ms) = c.trigger.byte();
        p.push(kind);
        put_zigzag(&mut p, ms);
        if let Trigger::Cron(e) = &c.trigger {
            put_bytes(&mut p, e.as_bytes());
        }
        put_zigzag(&mut p, c.poll_ms);
        put_zigzag(&mut p, c.timeout_ms);
        put_zigzag(&mut p, c.max_backoff_ms);
        put_varint(&mut p, c.max_frame_bytes as u64);
        p.push(self.state.byte());
        put_varint(&mut p, self.acked_cursor);
        put_varint(&mut p, self.records_shipped);
        put_varint(&mut p, self.bytes_shipped);
        put_zigzag(&mut p, self.last_success_ms.unwrap_or(i64::MIN));
        put_varint(&mut p, self.sessions_ok);
        put_varint(&mut p, self.sessions_failed);
        encode_frame(MAGIC_LINK, &p, false)
    }

    /// Rebuild a link from [`encode_state`](Self::encode_state); a running
    /// link catches up on its first tick.
    pub fn decode_state(bytes: &[u8], seed: u64) -> Result<Link> {
        let p = decode_frame(MAGIC_LINK, bytes, 1 << 20)?;
        let mut r = Reader::new(&p, "link state");
        let name = r.string()?.to_string();
        let peer = r.string()?.to_string();
        let direction =
            SyncDirection::from_byte(r.u8()?).ok_or_else(|| r.error("unknown direction"))?;
        let tables = match r.u8()? {
            0 => None,
            1 => Some(r.read_vec(1, |r| Ok(r.string()?.to_string()))?),
            _ => return Err(r.error("bad table-selection flag")),
        };
        let kind = r.u8()?;
        let ms = r.zigzag()?;
        let trigger = if kind == 5 {
            Trigger::Cron(r.string()?.to_string())
        } else {
            Trigger::from_byte(kind, ms).ok_or_else(|| r.error("unknown trigger"))?
        };
        let mut config = LinkConfig::new(name, peer)
            .direction(direction)
            .tables(tables)
            .trigger(trigger);
        config.poll_ms = r.zigzag()?;
        config.timeout_ms = r.zigzag()?;
        config.max_backoff_ms = r.zigzag()?;
        config.max_frame_bytes =
            usize::try_from(r.varint()?).map_err(|_| r.error("frame cap does not fit"))?;
        let state = LinkState::from_byte(r.u8()?).ok_or_else(|| r.error("unknown link state"))?;
        let mut link = Link::new(config, seed)?;
        link.state = state;
        link.acked_cursor = r.varint()?;
        link.records_shipped = r.varint()?;
        link.bytes_shipped = r.varint()?;
        let last = r.zigzag()?;
        link.last_success_ms = (last != i64::MIN).then_some(last);
        link.sessions_ok = r.varint()?;
        link.sessions_failed = r.varint()?;
        r.finish()?;
        link.after_restore();
        Ok(link)
    }
}

/// Save and load link states as files `links/<name>.link` in a region
/// directory, written atomically (temporary file, fsync, rename).
#[cfg(feature = "fs")]
pub mod files {
    use super::Link;
    use crate::model::error::Result;
    use std::io::Write;
    use std::path::{Path, PathBuf};

    fn dir_of(region_dir: &Path) -> PathBuf {
        region_dir.join("links")
    }

    /// Write one link's state.
    pub fn save(region_dir: &Path, link: &Link) -> Result<()> {
        let name = format!("{}.link", link.config().name);
        write_atomic(&dir_of(region_dir), &name, &link.encode_state())
    }

    /// Remove a link's state file (after `stop`, if the link is forgotten).
    pub fn remove(region_dir: &Path, name: &str) -> Result<()> {
        match std::fs::remove_file(dir_of(region_dir).join(format!("{name}.link"))) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
            _ => Ok(()),
        }
    }

    fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> Result<()> {
        std::fs::create_dir_all(dir)?;
        let tmp = dir.join(format!(".{name}.tmp"));
        {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(bytes)?;
            f.sync_all()?;
        }
        std::fs::rename(&tmp, dir.join(name))?;
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    }

    /// File of a region's group state in its directory.
    pub const GROUP_FILE: &str = "group.state";

    /// Write a region's group state (`group.state`, frame `TSGS`) atomically.
    pub fn save_group(region_dir: &Path, state: &crate::replication::GroupState) -> Result<()> {
        write_atomic(region_dir, GROUP_FILE, &state.encode())
    }

    /// A region's group state, `None` if it never joined a group.
    pub fn load_group(region_dir: &Path) -> Result<Option<crate::replication::GroupState>> {
        match std::fs::read(region_dir.join(GROUP_FILE)) {
            Ok(b) => crate::replication::GroupState::decode(&b).map(Some),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Every saved link, in name order; `seed` feeds their session ids.
    pub fn load_all(region_dir: &Path, seed: u64) -> Result<Vec<Link>> {
        let dir = dir_of(region_dir);
        let mut names = Vec::new();
        match std::fs::read_dir(&dir) {
            Ok(rd) => {
                for e in rd {
                    let p = e?.path();
                    if p.extension().is_some_and(|x| x == "link")
                        && !p
                            .file_name()
                            .is_some_and(|n| n.to_string_lossy().starts_with('.'))
                    {
                        names.push(p);
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e.into()),
        }
        names.sort();
        names
            .iter()
            .enumerate()
            .map(|(i, p)| Link::decode_state(&std::fs::read(p)?, seed.wrapping_add(i as u64)))
            .collect()
    }
}
