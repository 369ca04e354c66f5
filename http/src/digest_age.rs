//! When each table's digest last changed, for the `table_digest_age_seconds`
//! metric. Observed after every write the server commits and at every
//! scrape (writes made around the server, e.g. through the Tablestore
//! endpoint, are seen at the next scrape).

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};
use tablesync::digest::Digest;
use tablesync::Database;

/// Each table's last seen digest and when it was first seen.
#[derive(Debug, Default)]
pub struct DigestAges {
    seen: Mutex<HashMap<String, (Digest, Instant)>>,
}

impl DigestAges {
    /// Note the current digests of `db`'s tables; a table seen for the
    /// first time (or whose digest changed) starts at age 0. Dropped tables
    /// are forgotten.
    pub fn observe(&self, db: &Database) {
        let now = Instant::now();
        let Ok(tables) = db.list_tables() else {
            return;
        };
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        seen.retain(|t, _| tables.contains(t));
        for t in tables {
            let Ok(d) = db.table_digest(&t) else {
                continue;
            };
            match seen.get_mut(&t) {
                Some((old, _)) if *old == d => {}
                Some(entry) => *entry = (d, now),
                None => {
                    seen.insert(t, (d, now));
                }
            }
        }
    }

    /// Seconds since each known table's digest last changed.
    pub fn ages(&self) -> Vec<(String, Duration)> {
        let now = Instant::now();
        let seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        seen.iter()
            .map(|(t, (_, at))| (t.clone(), now.saturating_duration_since(*at)))
            .collect()
    }
}
