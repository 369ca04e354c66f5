//! In-memory tables: row states and their merge rule, reads, conditions,
//! filters and write validation.

pub mod condition;
pub mod fresh_put;
pub mod page_codec;
pub mod page_index;
pub mod pages;
pub mod read;
pub mod row_state;
pub mod table;
pub mod visible;
pub mod write;
