//! CreateTable, ListTable, DescribeTable, UpdateTable, DeleteTable and
//! ComputeSplitPointsBySize.

use super::{consumed, schema};
use crate::error::{OtsError, OtsResult};
use crate::pb;
use tablesync::{Database, PkColumn, PkType, TableOptions, TableSchema};

/// The cell-version deviation the service reports by default (one day).
const DEVIATION_SECS: i64 = 86_400;

fn pb_options(o: &TableOptions) -> pb::TableOptions {
    pb::TableOptions {
        time_to_live: Some(o.time_to_live.clamp(i32::MIN as i64, i32::MAX as i64) as i32),
        max_versions: Some(o.max_versions.min(i32::MAX as u32) as i32),
        deviation_cell_version_in_sec: Some(DEVIATION_SECS),
        allow_update: Some(true),
    }
}

fn reserved_details() -> pb::ReservedThroughputDetails {
    pb::ReservedThroughputDetails {
        capacity_unit: pb::CapacityUnit {
            read: Some(0),
            write: Some(0),
        },
        last_increase_time: 0,
        last_decrease_time: None,
    }
}

fn pk_schema(s: &TableSchema) -> Vec<pb::PrimaryKeySchema> {
    s.primary_key
        .iter()
        .map(|c| pb::PrimaryKeySchema {
            name: c.name.clone(),
            r#type: match c.pk_type {
                PkType::Integer => pb::PrimaryKeyType::Integer,
                PkType::String => pb::PrimaryKeyType::String,
                PkType::Binary => pb::PrimaryKeyType::Binary,
            } as i32,
            option: c
                .auto_increment
                .then_some(pb::PrimaryKeyOption::AutoIncrement as i32),
        })
        .collect()
}

fn options_from(o: Option<&pb::TableOptions>, base: TableOptions) -> OtsResult<TableOptions> {
    let mut out = base;
    if let Some(o) = o {
        if let Some(ttl) = o.time_to_live {
            out.time_to_live = ttl as i64;
        }
        if let Some(mv) = o.max_versions {
            if mv < 1 {
                return Err(OtsError::invalid(format!(
                    "Invalid max_versions: {mv}, it must be positive."
                )));
            }
            out.max_versions = mv as u32;
        }
    }
    out.validate().map_err(OtsError::from)?;
    Ok(out)
}

pub fn create_table(
    db: &mut Database,
    req: pb::CreateTableRequest,
) -> OtsResult<pb::CreateTableResponse> {
    if !req.index_metas.is_empty() {
        return Err(OtsError::unsupported(
            "Secondary indexes are not supported by tablesync.",
        ));
    }
    let meta = req.table_meta;
    let mut pk = Vec::with_capacity(meta.primary_key.len());
    for c in &meta.primary_key {
        let t = match pb::PrimaryKeyType::try_from(c.r#type) {
            Ok(pb::PrimaryKeyType::Integer) => PkType::Integer,
            Ok(pb::PrimaryKeyType::String) => PkType::String,
            Ok(pb::PrimaryKeyType::Binary) => PkType::Binary,
            _ => {
                return Err(OtsError::invalid(format!(
                    "Invalid primary key type of column {}: {}.",
                    c.name, c.r#type
                )))
            }
        };
        let auto = match c.option {
            None => false,
            Some(o) if o == pb::PrimaryKeyOption::AutoIncrement as i32 => true,
            Some(o) => {
                return Err(OtsError::invalid(format!(
                    "Invalid primary key option of column {}: {o}.",
                    c.name
                )))
            }
        };
        if auto && t != PkType::Integer {
            return Err(OtsError::invalid(format!(
                "The auto-increment primary key column {} must be INTEGER.",
                c.name
            )));
        }
        pk.push(PkColumn {
            name: c.name.clone(),
            pk_type: t,
            auto_increment: auto,
        });
    }
    let options = options_from(req.table_options.as_ref(), TableOptions::default())?;
    if db.list_tables()?.contains(&meta.table_name) {
        return Err(OtsError::new(
            409,
            "OTSObjectAlreadyExist",
            "Requested table already exists.",
        ));
    }
    db.create_table(TableSchema::new(meta.table_name, pk).with_options(options))?;
    Ok(pb::CreateTableResponse {})
}

pub fn list_table(db: &Database, _req: pb::ListTableRequest) -> OtsResult<pb::ListTableResponse> {
    Ok(pb::ListTableResponse {
        table_names: db.list_tables()?,
    })
}

pub fn describe_table(
    db: &Database,
    req: pb::DescribeTableRequest,
) -> OtsResult<pb::DescribeTableResponse> {
    let s = schema(db, &req.table_name)?;
    Ok(pb::DescribeTableResponse {
        table_meta: pb::TableMeta {
            table_name: s.name.clone(),
            primary_key: pk_schema(&s),
            defined_column: Vec::new(),
        },
        reserved_throughput_details: reserved_details(),
        table_options: pb_options(&s.options),
        table_status: Some(pb::TableStatus::Active as i32),
        stream_details: Some(pb::StreamDetails {
            enable_stream: false,
            stream_id: None,
            expiration_time: None,
            last_enable_time: None,
        }),
        shard_splits: Vec::new(),
        sse_details: Some(pb::SseDetails {
            enable: false,
            key_type: None,
            key_id: None,
            role_arn: None,
        }),
        index_metas: Vec::new(),
    })
}

pub fn update_table(
    db: &mut Database,
    req: pb::UpdateTableRequest,
) -> OtsResult<pb::UpdateTableResponse> {
    let s = schema(db, &req.table_name)?;
    if req.stream_spec.as_ref().is_some_and(|s| s.enable_stream) {
        return Err(OtsError::unsupported(
            "Streams are not supported by tablesync (its change log replicates instead).",
        ));
    }
    let options = options_from(req.table_options.as_ref(), s.options)?;
    if options != s.options {
        db.update_table(&req.table_name, options)?;
    }
    Ok(pb::UpdateTableResponse {
        reserved_throughput_details: reserved_details(),
        table_options: pb_options(&options),
        stream_details: None,
    })
}

pub fn delete_table(
    db: &mut Database,
    req: pb::DeleteTableRequest,
) -> OtsResult<pb::DeleteTableResponse> {
    db.delete_table(&req.table_name)?;
    Ok(pb::DeleteTableResponse {})
}

/// One split covering the whole table (a region is one partition).
pub fn compute_split_points(
    db: &Database,
    req: pb::ComputeSplitPointsBySizeRequest,
) -> OtsResult<pb::ComputeSplitPointsBySizeResponse> {
    let s = schema(db, &req.table_name)?;
    if req.split_size <= 0 {
        return Err(OtsError::invalid("The split size must be positive."));
    }
    Ok(pb::ComputeSplitPointsBySizeResponse {
        consumed: consumed(1, 0),
        schema: pk_schema(&s),
        split_points: Vec::new(),
        locations: vec![pb::compute_split_points_by_size_response::SplitLocation {
            location: String::new(),
            repeat: 1,
        }],
    })
}
