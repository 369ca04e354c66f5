//! The data model: values, primary keys, schemas, limits, conditions and errors.

pub mod condition;
pub mod error;
pub mod limits;
pub mod primary_key;
pub mod schema;
pub mod value;
