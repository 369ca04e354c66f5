//! The data model: values, primary keys, schemas, limits, conditions,
//! errors, stamps and row states.

pub mod condition;
pub mod error;
pub mod limits;
pub mod primary_key;
pub mod row_state;
pub mod schema;
pub mod stamp;
pub mod value;
