//! What reads see of a row state: TTL, `max_versions` and time ranges applied.

use super::row_state::RowState;
use crate::model::row::TimeRange;
use crate::model::schema::TableOptions;
use crate::model::value::Value;

/// The visible versions of each column (newest first), columns in name order.
pub struct Visible<'a> {
    /// `(column, versions)` for columns with at least one visible version.
    pub columns: Vec<(&'a str, Vec<(i64, &'a Value)>)>,
}

impl<'a> Visible<'a> {
    /// The versions a read sees: the newest `options.max_versions` live
    /// versions, minus those expired at `now_ms`, minus those outside `range`.
    pub fn of(
        state: &'a RowState,
        options: &TableOptions,
        now_ms: i64,
        range: Option<&TimeRange>,
    ) -> Visible<'a> {
        let expired_before = if options.time_to_live < 0 {
            i64::MIN
        } else {
            now_ms.saturating_sub(options.time_to_live.saturating_mul(1000))
        };
        let mut columns = Vec::new();
        for col in &state.columns {
            let vs: Vec<(i64, &Value)> = RowState::live_versions(col, options.max_versions)
                .filter(|(ts, _)| *ts > expired_before)
                .filter(|(ts, _)| range.is_none_or(|r| *ts >= r.start && *ts < r.end))
                .collect();
            if !vs.is_empty() {
                columns.push((col.name.as_str(), vs));
            }
        }
        Visible { columns }
    }

    /// Versions of one column.
    pub fn get(&self, name: &str) -> Option<&[(i64, &'a Value)]> {
        self.columns
            .binary_search_by(|(n, _)| (*n).cmp(name))
            .ok()
            .map(|i| self.columns[i].1.as_slice())
    }
}

/// Whether a row is visible to reads: it exists, and it has a visible
/// version or has no live version among any column's newest `max_versions`
/// (a key-only row).
pub fn row_visible(state: &RowState, options: &TableOptions, now_ms: i64) -> bool {
    if !state.exists() {
        return false;
    }
    let has_live = state.columns.iter().any(|c| {
        RowState::live_versions(c, options.max_versions)
            .next()
            .is_some()
    });
    !has_live || !Visible::of(state, options, now_ms, None).columns.is_empty()
}
