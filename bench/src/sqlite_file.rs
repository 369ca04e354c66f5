//! The SQLite file database the storage benches compare against: WAL,
//! `synchronous=NORMAL` (fsync at WAL checkpoints only), a page cache of
//! `cache_mib`, and the `users` table keyed by `uid INTEGER PRIMARY KEY`.

use crate::data;
use rusqlite::{params, Connection};
use std::path::Path;

/// Open (or create) the file with the benches' pragmas.
pub fn open(path: &Path, cache_mib: u64) -> rusqlite::Result<Connection> {
    let c = Connection::open(path)?;
    c.pragma_update(None, "journal_mode", "WAL")?;
    c.pragma_update(None, "synchronous", "NORMAL")?;
    c.pragma_update(None, "cache_size", -((cache_mib * 1024) as i64))?;
    Ok(c)
}

/// Create the `users` table.
pub fn create_table(c: &Connection) -> rusqlite::Result<()> {
    c.execute_batch(
        "CREATE TABLE users (uid INTEGER PRIMARY KEY, name TEXT, email TEXT, age INTEGER,
         score REAL, active INTEGER, visits INTEGER, token BLOB)",
    )
}

const INSERT: &str = "INSERT OR REPLACE INTO users VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";

/// Insert or replace one row inside `tx`.
pub fn put(tx: &rusqlite::Transaction<'_>, r: &data::Rec) -> rusqlite::Result<()> {
    tx.prepare_cached(INSERT)?.execute(params![
        r.uid, r.name, r.email, r.age, r.score, r.active, r.visits, r.token
    ])?;
    Ok(())
}
