//! Cron schedules of `cron:` triggers, sans-IO: parse an expression, and
//! compute the next fire time after a given instant (UTC, milliseconds).
//! The clock is the caller's; `croner` does the calendar arithmetic.

use crate::model::error::{Error, Result};
use chrono::{DateTime, Utc};
use croner::parser::{CronParser, Seconds};
use croner::Cron;

/// Longest cron expression accepted (bytes).
const MAX_EXPR: usize = 256;

/// Parse a cron expression: 5 fields (minute first) or 6 (seconds first),
/// `@hourly`-style nicknames, UTC.
pub fn parse_cron(expr: &str) -> Result<Cron> {
    if expr.trim().is_empty() || expr.len() > MAX_EXPR {
        return Err(Error::invalid(format!(
            "a cron expression is 1–{MAX_EXPR} bytes"
        )));
    }
    CronParser::builder()
        .seconds(Seconds::Optional)
        .build()
        .parse(expr)
        .map_err(|e| Error::invalid(format!("cron expression {expr:?}: {e}")))
}

/// The first fire time strictly after `after_ms` (UTC ms), or `None` when
/// the schedule never fires again (or `after_ms` is out of range).
pub fn next_fire_ms(cron: &Cron, after_ms: i64) -> Option<i64> {
    let t: DateTime<Utc> = DateTime::from_timestamp_millis(after_ms)?;
    cron.find_next_occurrence(&t, false)
        .ok()
        .map(|n| n.timestamp_millis())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_fires_of_five_and_six_field_expressions() {
        // 2026-12-02T07:00:00.250Z
        let t = 1_764_658_800_250;
        let every5s = parse_cron("*/5 * * * * *").unwrap();
        assert_eq!(next_fire_ms(&every5s, t), Some(1_764_658_805_000));
        let hourly = parse_cron("0 * * * *").unwrap();
        assert_eq!(
            next_fire_ms(&hourly, t),
            Some(1_764_658_800_000 + 3_600_000)
        );
        assert_eq!(
            next_fire_ms(&hourly, t - 250),
            Some(1_764_658_800_000 + 3_600_000)
        );
        let nick = parse_cron("@daily").unwrap();
        assert_eq!(next_fire_ms(&nick, t), Some(1_764_720_000_000));
        for bad in ["", "61 * * * *", "* * *", "nonsense"] {
            assert_eq!(
                parse_cron(bad).unwrap_err().code(),
                "OTSParameterInvalid",
                "{bad}"
            );
        }
    }
}
