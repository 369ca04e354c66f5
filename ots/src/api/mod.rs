//! The wide-column API: one function per request, run against the region
//! under its lock, so every condition, increment and batch is atomic.

mod batch;
mod range;
mod rows;
mod tables;

use crate::error::{OtsError, OtsResult};
use crate::pb;
use prost::Message;
use tablesync::{Database, TableSchema};

/// APIs the official SDKs know that this server does not implement: they get
/// `OTSUnsupportOperation` at once.
pub const UNSUPPORTED: &[&str] = &[
    "ListSearchIndex",
    "CreateSearchIndex",
    "UpdateSearchIndex",
    "DeleteSearchIndex",
    "DescribeSearchIndex",
    "Search",
    "ComputeSplits",
    "ParallelScan",
    "CreateIndex",
    "DropIndex",
    "StartLocalTransaction",
    "CommitTransaction",
    "AbortTransaction",
    "SQLQuery",
    "ListStream",
    "DescribeStream",
    "GetShardIterator",
    "GetStreamRecord",
    "PutTimeseriesData",
    "CreateTimeseriesTable",
    "ListTimeseriesTable",
    "DeleteTimeseriesTable",
    "DescribeTimeseriesTable",
    "UpdateTimeseriesTable",
    "QueryTimeseriesMeta",
    "GetTimeseriesData",
    "UpdateTimeseriesMeta",
    "DeleteTimeseriesMeta",
    "BulkImport",
    "BulkExport",
    "CreateTunnel",
    "ListTunnel",
    "DescribeTunnel",
    "DeleteTunnel",
];

/// Run one API call on its protobuf body; returns the response body.
pub fn dispatch(db: &mut Database, api: &str, body: &[u8]) -> OtsResult<Vec<u8>> {
    fn run<Req: Message + Default, Resp: Message>(
        db: &mut Database,
        body: &[u8],
        f: impl FnOnce(&mut Database, Req) -> OtsResult<Resp>,
    ) -> OtsResult<Vec<u8>> {
        let req = Req::decode(body)?;
        Ok(f(db, req)?.encode_to_vec())
    }
    match api {
        "CreateTable" => run(db, body, tables::create_table),
        "ListTable" => run(db, body, tables::list_table),
        "DescribeTable" => run(db, body, tables::describe_table),
        "UpdateTable" => run(db, body, tables::update_table),
        "DeleteTable" => run(db, body, tables::delete_table),
        "ComputeSplitPointsBySize" => run(db, body, tables::compute_split_points),
        "GetRow" => run(db, body, rows::get_row),
        "PutRow" => run(db, body, rows::put_row),
        "UpdateRow" => run(db, body, rows::update_row),
        "DeleteRow" => run(db, body, rows::delete_row),
        "BatchGetRow" => run(db, body, batch::batch_get_row),
        "BatchWriteRow" => run(db, body, batch::batch_write_row),
        "GetRange" => run(db, body, range::get_range),
        other if UNSUPPORTED.contains(&other) => Err(OtsError::unsupported(format!(
            "{other} is not supported by tablesync: only the wide-column table and row API is (see docs/tablestore.md)."
        ))),
        other => Err(OtsError::unsupported(format!(
            "Unsupported operation: '{other}'."
        ))),
    }
}

/// A table's schema, or the service's not-found error.
fn schema(db: &Database, table: &str) -> OtsResult<TableSchema> {
    db.describe_table(table)
        .map(|d| d.schema)
        .map_err(OtsError::from)
}

/// Consumed capacity of `read` and `write` units.
fn consumed(read: i32, write: i32) -> pb::ConsumedCapacity {
    pb::ConsumedCapacity {
        capacity_unit: pb::CapacityUnit {
            read: Some(read),
            write: Some(write),
        },
    }
}
