//! Options of a row read: which columns, how many versions, which time
//! range and which filter (`get_row`, `batch_get`, and each row of a range).

use super::condition::ColumnCondition;
use super::row::TimeRange;
use serde::{Deserialize, Serialize};

/// Options of `get_row` and `batch_get`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GetOptions {
    /// Attribute columns to return (`None`: all).
    pub columns: Option<Vec<String>>,
    /// Versions per column to return (≥ 1).
    pub max_versions: u32,
    /// Only versions in this range.
    pub time_range: Option<TimeRange>,
    /// Return the row only if this filter holds.
    pub filter: Option<ColumnCondition>,
}

impl Default for GetOptions {
    fn default() -> Self {
        GetOptions {
            columns: None,
            max_versions: 1,
            time_range: None,
            filter: None,
        }
    }
}
