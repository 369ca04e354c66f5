//! Which object names a native store accepts.

use tablesync::{Error, Result};

/// Suffix of files being written (ignored by `list`, removed by `open`).
pub(crate) const TMP_SUFFIX: &str = ".tmp";

/// Object names are relative `/`-separated paths of safe characters.
pub(crate) fn check_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && !name.starts_with('/')
        && !name.ends_with(TMP_SUFFIX)
        && name
            .split('/')
            .all(|p| !p.is_empty() && p != "." && p != "..")
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(format!("bad object name {name:?}")))
    }
}
