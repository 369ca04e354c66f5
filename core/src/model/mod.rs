//! The data model: values, primary keys, schemas, limits, conditions,
//! errors, stamps, row states, rows, read options and change records.

pub mod condition;
pub mod error;
pub mod limits;
pub mod primary_key;
pub mod range_bound;
pub mod read_options;
pub mod record;
pub mod row;
pub mod row_state;
pub mod schema;
pub mod stamp;
pub mod value;
