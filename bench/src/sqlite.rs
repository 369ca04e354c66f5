//! The SQLite reference, through rusqlite (bundled SQLite).

use crate::data::{self, Rec};
use rusqlite::{params, Connection};
use std::path::Path;

/// Where the SQLite database lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// `:memory:`.
    Memory,
    /// A file in WAL mode with `synchronous=NORMAL` (fsync at checkpoints only).
    WalNormal,
    /// A file in WAL mode with `synchronous=FULL` (fsync every commit).
    WalFull,
}

impl Mode {
    /// Short label for reports.
    pub fn label(self) -> &'static str {
        match self {
            Mode::Memory => "SQLite in-memory",
            Mode::WalNormal => "SQLite WAL/NORMAL",
            Mode::WalFull => "SQLite WAL/FULL",
        }
    }
}

/// Open a fresh database with the `users` table.
pub fn open(mode: Mode, dir: &Path) -> rusqlite::Result<Connection> {
    let conn = match mode {
        Mode::Memory => Connection::open_in_memory()?,
        Mode::WalNormal | Mode::WalFull => {
            let path = dir.join(format!("sqlite-{mode:?}.db"));
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
            }
            let c = Connection::open(&path)?;
            c.pragma_update(None, "journal_mode", "WAL")?;
            let sync = if mode == Mode::WalFull {
                "FULL"
            } else {
                "NORMAL"
            };
            c.pragma_update(None, "synchronous", sync)?;
            c
        }
    };
    conn.execute_batch(
        "CREATE TABLE users (uid INTEGER PRIMARY KEY, name TEXT, email TEXT, age INTEGER,
         score REAL, active INTEGER, visits INTEGER, token BLOB)",
    )?;
    Ok(conn)
}

const INSERT: &str = "INSERT OR REPLACE INTO users VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";

fn insert(stmt: &mut rusqlite::CachedStatement<'_>, r: &Rec) -> rusqlite::Result<()> {
    stmt.execute(params![
        r.uid, r.name, r.email, r.age, r.score, r.active, r.visits, r.token
    ])?;
    Ok(())
}

/// Insert in transactions of 200 rows.
pub fn insert_batched(conn: &mut Connection, recs: &[Rec]) -> rusqlite::Result<()> {
    for chunk in recs.chunks(200) {
        let tx = conn.transaction()?;
        {
            let mut stmt = tx.prepare_cached(INSERT)?;
            for r in chunk {
                insert(&mut stmt, r)?;
            }
        }
        tx.commit()?;
    }
    Ok(())
}

/// Insert one row per (autocommit) transaction.
pub fn insert_single(conn: &mut Connection, recs: &[Rec]) -> rusqlite::Result<()> {
    let mut stmt = conn.prepare_cached(INSERT)?;
    for r in recs {
        insert(&mut stmt, r)?;
    }
    Ok(())
}

/// Point selects; returns how many rows were found.
pub fn point_get(conn: &Connection, uids: &[i64]) -> rusqlite::Result<u64> {
    let mut stmt = conn.prepare_cached("SELECT * FROM users WHERE uid = ?1")?;
    let mut found = 0;
    for uid in uids {
        let mut rows = stmt.query(params![uid])?;
        if let Some(row) = rows.next()? {
            std::hint::black_box(data::rec_from_sqlite(row)?);
            found += 1;
        }
    }
    Ok(found)
}

/// Range reads of `page` rows from each start; returns rows read.
pub fn range_scan(conn: &Connection, starts: &[i64], page: usize) -> rusqlite::Result<u64> {
    let mut stmt =
        conn.prepare_cached("SELECT * FROM users WHERE uid >= ?1 ORDER BY uid LIMIT ?2")?;
    let mut n = 0;
    for s in starts {
        let mut rows = stmt.query(params![s, page as i64])?;
        while let Some(row) = rows.next()? {
            std::hint::black_box(data::rec_from_sqlite(row)?);
            n += 1;
        }
    }
    Ok(n)
}
