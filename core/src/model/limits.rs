//! Tablestore's limits, enforced on every write and read request.

/// Fewest primary-key columns a table may have.
pub const MIN_PK_COLUMNS: usize = 1;
/// Most primary-key columns a table may have.
pub const MAX_PK_COLUMNS: usize = 4;
/// Longest table or column name, in bytes.
pub const MAX_NAME_LEN: usize = 255;
/// Largest STRING or BINARY primary-key value, in bytes.
pub const MAX_PK_VALUE_SIZE: usize = 1024;
/// Largest attribute cell value, in bytes.
pub const MAX_CELL_SIZE: usize = 2 * 1024 * 1024;
/// Most attribute columns one write may name.
pub const MAX_COLUMNS_PER_WRITE: usize = 1024;
/// Largest row one write may carry (key plus attribute names and values), in bytes.
pub const MAX_ROW_SIZE: usize = 4 * 1024 * 1024;
/// Most operations in one batch write.
pub const MAX_BATCH_WRITE_ROWS: usize = 200;
/// Most rows in one batch get.
pub const MAX_BATCH_GET_ROWS: usize = 100;
/// Most rows in one range page.
pub const MAX_RANGE_PAGE_ROWS: usize = 5000;
/// Largest `max_versions` a table may keep.
pub const MAX_VERSIONS_LIMIT: u32 = i32::MAX as u32;
/// Most rows a change-log page returns.
pub const MAX_CHANGE_PAGE: usize = 100_000;
