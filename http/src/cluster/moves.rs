//! A region's side of a rebalance (docs/CLUSTER.md, "Moving partitions"):
//! installing a map with the partitions it gains marked pending, copying
//! a partition's row states from its source, serving such copies, and
//! releasing the pending partitions. The protocol is
//! `tablesync::cluster::rebalance`; this file does its I/O.

use super::node::{ClusterNode, NodeError};
use super::peer::CallError;
use std::collections::BTreeSet;
use std::path::Path;
use std::sync::PoisonError;
use tablesync::cluster::rebalance::{MoveMsg, MoveRefusal, RegionMoves};
use tablesync::cluster::wire::ClusterMsg;
use tablesync::{Error, Result};

/// The pending partitions' file inside the cluster directory: one
/// `partition<TAB>table` line each.
pub const PENDING_FILE: &str = "moves.pending";
/// Bytes of row states asked per page.
const PAGE_BYTES: u64 = 1 << 20;

/// Read the pending partitions (none if the file is absent).
pub fn load_pending(dir: &Path) -> Result<BTreeSet<(String, u32)>> {
    let p = dir.join(PENDING_FILE);
    let text = match std::fs::read_to_string(&p) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeSet::new()),
        Err(e) => return Err(Error::io_msg(format!("reading {}: {e}", p.display()))),
    };
    let mut out = BTreeSet::new();
    for line in text.lines().filter(|l| !l.is_empty()) {
        let (n, t) = line
            .split_once('\t')
            .ok_or_else(|| Error::Corrupt(format!("{}: bad line {line:?}", p.display())))?;
        let n: u32 = n
            .parse()
            .map_err(|_| Error::Corrupt(format!("{}: bad partition {n:?}", p.display())))?;
        out.insert((t.to_string(), n));
    }
    Ok(out)
}

/// Write the pending partitions durably (temp file, fsync, rename).
pub fn store_pending(dir: &Path, pending: &BTreeSet<(String, u32)>) -> Result<()> {
    use std::io::Write;
    let p = dir.join(PENDING_FILE);
    let tmp = dir.join(format!("{PENDING_FILE}.tmp"));
    let err = |e: std::io::Error| Error::io_msg(format!("writing {}: {e}", p.display()));
    let mut text = String::new();
    for (t, n) in pending {
        text.push_str(&format!("{n}\t{t}\n"));
    }
    let mut f = std::fs::File::create(&tmp).map_err(err)?;
    f.write_all(text.as_bytes()).map_err(err)?;
    f.sync_all().map_err(err)?;
    std::fs::rename(&tmp, &p).map_err(err)?;
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

fn refusal(r: MoveRefusal) -> NodeError {
    NodeError::CatchingUp(match r {
        MoveRefusal::CatchingUp => "a moving partition is not released yet".to_string(),
        MoveRefusal::SourceBehind(e) => {
            format!("the source has map epoch {e}: it has not installed the new map yet")
        }
        MoveRefusal::InDoubt => "the source still has in-doubt transactions".to_string(),
    })
}

impl ClusterNode {
    /// Handle one rebalance message; the answer.
    pub(super) fn handle_move(&self, m: MoveMsg) -> std::result::Result<MoveMsg, NodeError> {
        match m {
            MoveMsg::Install { map } => {
                match self.install_map(map) {
                    Ok(_) | Err(Error::StaleClusterMap { .. }) => {}
                    Err(e) => return Err(e.into()),
                }
                Ok(MoveMsg::Installed {
                    epoch: self.map().map(|m| m.epoch).unwrap_or(0),
                })
            }
            MoveMsg::Rows {
                fence,
                table,
                filter,
                after,
                max_bytes,
            } => {
                let moves = RegionMoves::new(self.name(), self.map(), BTreeSet::new());
                let in_doubt = fence != 0 && self.in_doubt_in(&table, &filter);
                moves.check_source(fence, in_doubt).map_err(refusal)?;
                let (rows, next) = self.region.read("read:cluster-move", |db| {
                    db.partition_rows_page(
                        &table,
                        &filter,
                        &after,
                        max_bytes.min(16 << 20) as usize,
                    )
                })?;
                Ok(MoveMsg::RowsPage { rows, next })
            }
            MoveMsg::Copy {
                id,
                fence,
                epoch,
                table,
                filter,
                source,
            } => {
                if !self.copy_current(epoch) {
                    // A late copy of a finished change: merging it could
                    // bring back rows purged since.
                    return Ok(MoveMsg::Copied { id, fence, rows: 0 });
                }
                self.ensure_table(&table, &source)?;
                let mut after = Vec::new();
                let mut merged = 0u64;
                loop {
                    let ask = ClusterMsg::Move(MoveMsg::Rows {
                        fence,
                        table: table.clone(),
                        filter: filter.clone(),
                        after: after.clone(),
                        max_bytes: PAGE_BYTES,
                    });
                    let reply =
                        self.peers
                            .call(&source, &[ask])
                            .map_err(|CallError { code, error }| {
                                if code == "CatchingUp" {
                                    NodeError::CatchingUp(error.message())
                                } else {
                                    NodeError::Db(error)
                                }
                            })?;
                    let Some(ClusterMsg::Move(MoveMsg::RowsPage { rows, next })) =
                        reply.into_iter().next()
                    else {
                        return Err(Error::Sync("the source answered no row page".into()).into());
                    };
                    if !rows.is_empty() {
                        // Checked under the write lock a purge takes too.
                        let n = self.region.write("cluster_move", |db| {
                            if self.copy_current(epoch) {
                                db.merge_rows(&table, rows).map(Some)
                            } else {
                                Ok(None)
                            }
                        })?;
                        match n {
                            Some(n) => merged += n,
                            None => break, // the map moved past the change
                        }
                    }
                    if next.is_empty() {
                        break;
                    }
                    if next <= after {
                        return Err(
                            Error::Sync("the source's row pages do not advance".into()).into()
                        );
                    }
                    after = next;
                }
                Ok(MoveMsg::Copied {
                    id,
                    fence,
                    rows: merged,
                })
            }
            MoveMsg::Release {
                id,
                epoch,
                table,
                partitions,
            } => {
                self.release(epoch, &table, &partitions)?;
                Ok(MoveMsg::Released { id })
            }
            MoveMsg::SchemaGet { table } => {
                let schema = self
                    .region
                    .read("read:cluster-schema", |db| db.describe_table(&table))?
                    .schema;
                Ok(MoveMsg::Schema { schema })
            }
            MoveMsg::Purge {
                id,
                epoch,
                table,
                filter,
            } => {
                // The map is read under the database's write lock, so a
                // newer map that gives the rows back is never missed.
                let rows = self.region.write("cluster_purge", |db| {
                    let moves = RegionMoves::new(self.name(), self.map(), BTreeSet::new());
                    db.purge_lost_rows(&table, &filter, &moves, epoch)
                })?;
                if rows > 0 {
                    tracing::info!(%table, rows, epoch, "purged the rows of partitions this region no longer holds");
                }
                Ok(MoveMsg::Purged { id, rows })
            }
            other => Err(NodeError::Db(Error::invalid(format!(
                "a region does not take {other:?} as a request"
            )))),
        }
    }

    /// Create `table` from the source's schema if this region lacks it (a
    /// region of a new datacenter starts without the cluster's tables).
    fn ensure_table(&self, table: &str, source: &str) -> std::result::Result<(), NodeError> {
        let has = self.region.read("read:cluster-schema", |db| {
            Ok(db.list_tables()?.iter().any(|t| t == table))
        })?;
        if has {
            return Ok(());
        }
        let ask = ClusterMsg::Move(MoveMsg::SchemaGet {
            table: table.to_string(),
        });
        let reply = self
            .peers
            .call(source, &[ask])
            .map_err(|CallError { error, .. }| NodeError::Db(error))?;
        let Some(ClusterMsg::Move(MoveMsg::Schema { schema })) = reply.into_iter().next() else {
            return Err(Error::Sync("the source answered no schema".into()).into());
        };
        if schema.name != table {
            return Err(Error::Sync(format!(
                "the source answered the schema of '{}' for '{table}'",
                schema.name
            ))
            .into());
        }
        if self
            .region
            .write("cluster_schema", |db| db.ensure_table(schema))?
        {
            tracing::info!(%table, "created the table from the copy source's schema");
        }
        Ok(())
    }

    /// Whether a copy for the change to map `epoch` may still merge here.
    fn copy_current(&self, epoch: u64) -> bool {
        RegionMoves::new(self.name(), self.map(), BTreeSet::new()).copy_current(epoch)
    }

    /// Serve `partitions` of `table` (they are caught up), durably.
    fn release(&self, epoch: u64, table: &str, partitions: &[u32]) -> Result<()> {
        let map = self.map();
        let mut pending = self.pending.write().unwrap_or_else(PoisonError::into_inner);
        let mut moves = RegionMoves::new(self.name(), map, pending.clone());
        moves.release(epoch, table, partitions)?;
        if moves.pending != *pending {
            store_pending(&self.cfg.dir, &moves.pending)?;
            *pending = moves.pending;
        }
        Ok(())
    }
}
