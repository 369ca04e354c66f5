//! The wide-column API: one function per request. Writes run against the
//! region under its write lock, so every condition, increment and batch is
//! atomic; reads run under the read lock, in parallel with each other.

mod batch;
mod range;
mod rows;
mod tables;
mod wide;

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

/// Whether `api` changes the database: it then runs on the region's write
/// path, under the write lock, so its conditions, increments and batches
/// are atomic. Every other call (reads, and the refusals of APIs this
/// server does not implement) runs on the read path, in parallel with
/// other reads.
pub fn is_write(api: &str) -> bool {
    matches!(
        api,
        "CreateTable"
            | "UpdateTable"
            | "DeleteTable"
            | "PutRow"
            | "UpdateRow"
            | "DeleteRow"
            | "BatchWriteRow"
    )
}

fn run<D, Req: Message + Default, Resp: Message>(
    db: D,
    body: &[u8],
    f: impl FnOnce(D, Req) -> OtsResult<Resp>,
) -> OtsResult<Vec<u8>> {
    let req = Req::decode(body)?;
    Ok(f(db, req)?.encode_to_vec())
}

/// Run one write API call ([`is_write`]) on its protobuf body; returns the
/// response body.
pub fn dispatch_write(db: &mut Database, api: &str, body: &[u8]) -> OtsResult<Vec<u8>> {
    match api {
        "CreateTable" => run(db, body, tables::create_table),
        "UpdateTable" => run(db, body, tables::update_table),
        "DeleteTable" => run(db, body, tables::delete_table),
        "PutRow" => run(db, body, rows::put_row),
        "UpdateRow" => run(db, body, rows::update_row),
        "DeleteRow" => run(db, body, rows::delete_row),
        "BatchWriteRow" => run(db, body, batch::batch_write_row),
        other => dispatch_read(db, other, body),
    }
}

/// Run one API call that changes nothing on its protobuf body; returns the
/// response body (a write API is refused: use [`dispatch_write`]).
pub fn dispatch_read(db: &Database, api: &str, body: &[u8]) -> OtsResult<Vec<u8>> {
    match api {
        "ListTable" => run(db, body, tables::list_table),
        "DescribeTable" => run(db, body, tables::describe_table),
        "ComputeSplitPointsBySize" => run(db, body, tables::compute_split_points),
        "GetRow" => run(db, body, rows::get_row),
        "BatchGetRow" => run(db, body, batch::batch_get_row),
        "GetRange" => run(db, body, range::get_range),
        other if is_write(other) => Err(OtsError::new(
            500,
            "OTSInternalServerError",
            format!("{other} was sent to the read path."),
        )),
        other if UNSUPPORTED.contains(&other) => Err(OtsError::unsupported(format!(
            "{other} is not supported by tablesync: only the wide-column table and row API is (see docs/tablestore.md)."
        ))),
        other => Err(OtsError::unsupported(format!(
            "Unsupported operation: '{other}'."
        ))),
    }
}

/// Run any API call with exclusive access (reads included).
pub fn dispatch(db: &mut Database, api: &str, body: &[u8]) -> OtsResult<Vec<u8>> {
    if is_write(api) {
        dispatch_write(db, api, body)
    } else {
        dispatch_read(db, api, body)
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
