//! The rows every benchmark uses: about 100 bytes each, the same for
//! tablesync and SQLite.

use tablesync::codec::key::encode_key_values;
use tablesync::{Column, Condition, PkColumn, PkType, PkValue, PrimaryKey, TableSchema, WriteOp};

/// Table name used everywhere.
pub const TABLE: &str = "users";

/// splitmix64: a deterministic stream without a dependency.
pub fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// Every column of a `SELECT *` row of SQLite's `users` table, as the row
/// it was written from: what a read on our side returns too (every column,
/// owned), so neither side skips decoding columns the other decodes.
pub fn rec_from_sqlite(row: &rusqlite::Row<'_>) -> rusqlite::Result<Rec> {
    Ok(Rec {
        uid: row.get(0)?,
        name: row.get(1)?,
        email: row.get(2)?,
        age: row.get(3)?,
        score: row.get(4)?,
        active: row.get(5)?,
        visits: row.get(6)?,
        token: row.get(7)?,
    })
}

/// One generated row, in plain fields (what SQLite binds).
#[derive(Clone, Debug)]
pub struct Rec {
    /// Primary key.
    pub uid: i64,
    /// STRING, 11 bytes.
    pub name: String,
    /// STRING, ~20 bytes.
    pub email: String,
    /// INTEGER.
    pub age: i64,
    /// DOUBLE.
    pub score: f64,
    /// BOOLEAN.
    pub active: bool,
    /// INTEGER.
    pub visits: i64,
    /// BINARY, 8 bytes.
    pub token: Vec<u8>,
}

/// Row `uid`.
pub fn rec(uid: i64) -> Rec {
    let r = mix(uid as u64);
    Rec {
        uid,
        name: format!("user-{uid:06}"),
        email: format!("user{uid}@example.com"),
        age: 18 + (r % 60) as i64,
        score: (r >> 8) as f64 / (1u64 << 56) as f64 * 100.0,
        active: !r.is_multiple_of(3),
        visits: (r >> 20) as i64 % 1000,
        token: mix(r).to_le_bytes().to_vec(),
    }
}

impl Rec {
    /// The key.
    pub fn key(&self) -> PrimaryKey {
        PrimaryKey::new([("uid", self.uid)])
    }
    /// The attribute columns.
    pub fn columns(&self) -> Vec<Column> {
        vec![
            Column::new("name", self.name.as_str()),
            Column::new("email", self.email.as_str()),
            Column::new("age", self.age),
            Column::new("score", self.score),
            Column::new("active", self.active),
            Column::new("visits", self.visits),
            Column::new("token", self.token.clone()),
        ]
    }
    /// A put of this row.
    pub fn put(&self) -> WriteOp {
        WriteOp::Put {
            table: TABLE.into(),
            primary_key: self.key(),
            columns: self.columns(),
            condition: Condition::ignore(),
        }
    }
    /// Raw bytes of the row: encoded key, column names and value sizes.
    pub fn raw_bytes(&self) -> usize {
        let key = encode_key_values([&PkValue::Integer(self.uid)]).len();
        let cols: usize = self
            .columns()
            .iter()
            .map(|c| c.name.len() + c.value.size())
            .sum();
        key + cols
    }
}

/// The table's schema.
pub fn schema() -> TableSchema {
    TableSchema::new(TABLE, vec![PkColumn::new("uid", PkType::Integer)])
}

/// `n` rows with uid 1..=n.
pub fn recs(n: u64) -> Vec<Rec> {
    (1..=n as i64).map(rec).collect()
}

/// Batches of at most 200 puts.
pub fn batches(recs: &[Rec]) -> Vec<Vec<WriteOp>> {
    recs.chunks(200)
        .map(|c| c.iter().map(Rec::put).collect())
        .collect()
}

/// `n` uids in 1..=max in a scrambled but repeatable order.
pub fn probe_uids(n: u64, max: u64) -> Vec<i64> {
    (0..n).map(|i| (mix(i ^ 0xABCD) % max) as i64 + 1).collect()
}
