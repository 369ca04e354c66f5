//! The full backup's history check: replay the retained change log into
//! empty tables and compare their digests with the region's. The records
//! go straight into the engine's tables ([`Table::apply`], the path a
//! region takes when it replays its own log on open), so the check costs
//! one merge per record and none of a scratch region's logging, commit
//! and validation (the records are the region's own, validated when they
//! were logged).

use crate::codec::key::encode_key;
use crate::digest::Digest;
use crate::log::hlc::{region_id, Stamp};
use crate::log::record::ChangeRecord;
use crate::model::error::Result;
use crate::model::schema::TableSchema;
use crate::table::Table;
use std::collections::{BTreeMap, HashMap, HashSet};

/// Tables rebuilt from records alone.
pub(crate) struct HistoryReplay {
    tables: BTreeMap<String, Table>,
    origins: HashMap<String, u64>,
    /// `(origin id, seq)` of the records applied: a repeated one is skipped,
    /// as a region skips a record it already holds.
    seen: HashSet<(u64, u64)>,
}

impl HistoryReplay {
    /// Empty tables of these schemas.
    pub(crate) fn new(schemas: &[TableSchema]) -> Self {
        HistoryReplay {
            tables: schemas
                .iter()
                .map(|s| (s.name.clone(), Table::new(s.clone())))
                .collect(),
            origins: HashMap::new(),
            seen: HashSet::new(),
        }
    }

    /// Merge one record (records of other tables are ignored).
    pub(crate) fn apply(&mut self, rec: &ChangeRecord) -> Result<()> {
        let Some(t) = self.tables.get_mut(&rec.table) else {
            return Ok(());
        };
        let origin = match self.origins.get(&rec.origin) {
            Some(id) => *id,
            None => {
                let id = region_id(&rec.origin);
                self.origins.insert(rec.origin.clone(), id);
                id
            }
        };
        if !self.seen.insert((origin, rec.seq)) {
            return Ok(());
        }
        let key = encode_key(&t.schema, &rec.primary_key)?;
        t.apply(&key, Stamp::new(rec.stamp, origin), rec.kind, &rec.columns)
    }

    /// A rebuilt table's digest and existing row count.
    pub(crate) fn table_digest(&self, table: &str) -> Option<(Digest, u64)> {
        self.tables.get(table).map(|t| (t.digest(), t.row_count()))
    }
}
