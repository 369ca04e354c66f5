//! When a link moves data: realtime, delayed, periodic or manual.

use crate::model::error::{Error, Result};

/// What makes a link start a session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Trigger {
    /// Every commit is shipped as soon as it lands; commits made while a
    /// session is in flight go together in the next one. Pulls poll every
    /// [`LinkConfig::poll_ms`](super::LinkConfig::poll_ms).
    Realtime,
    /// A record becomes visible at the target no earlier than this many
    /// milliseconds after its commit (push only): stop the link before
    /// then and the target never sees it.
    Delayed(i64),
    /// One session every this many milliseconds.
    Periodic(i64),
    /// Nothing moves until [`Link::trigger`](super::Link::trigger).
    Manual,
    /// One session at each fire time of this cron expression (UTC; 5
    /// fields, or 6 with seconds first; see [`super::cron`]).
    Cron(String),
}

/// Parse a duration such as `300ms`, `10s`, `1.5s`, `5m`, `2h` or `1d` (a
/// bare number is milliseconds) into milliseconds. A fraction must come to
/// a whole number of milliseconds (`1.5s` yes, `0.0001s` no).
pub fn parse_duration_ms(s: &str) -> Result<i64> {
    let s = s.trim();
    let split = s
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let (whole, frac) = num.split_once('.').unwrap_or((num, ""));
    let bad_number = || Error::invalid(format!("duration {s:?} must start with a number"));
    if whole.is_empty() || (num.contains('.') && frac.is_empty()) || frac.contains('.') {
        return Err(bad_number());
    }
    let n: i64 = whole.parse().map_err(|_| bad_number())?;
    let mult: i64 = match unit {
        "" | "ms" => 1,
        "s" => 1_000,
        "m" | "min" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => {
            return Err(Error::invalid(format!(
                "duration unit {unit:?} is not one of ms, s, m, h, d"
            )))
        }
    };
    let too_long = || Error::invalid(format!("duration {s:?} is longer than a year"));
    // The fraction in units of 10^-len: whole milliseconds only.
    let frac_ms = if frac.is_empty() {
        0
    } else {
        let digits = u32::try_from(frac.len())
            .ok()
            .filter(|d| *d <= 9)
            .ok_or_else(bad_number)?;
        let f: i64 = frac.parse().map_err(|_| bad_number())?;
        let scaled = f * mult;
        let den = 10_i64.pow(digits);
        if scaled % den != 0 {
            return Err(Error::invalid(format!(
                "duration {s:?} is not a whole number of milliseconds"
            )));
        }
        scaled / den
    };
    n.checked_mul(mult)
        .and_then(|v| v.checked_add(frac_ms))
        .filter(|v| *v <= 365 * 86_400_000)
        .ok_or_else(too_long)
}

impl Trigger {
    /// Parse `realtime`, `delayed:300ms`, `periodic:10s` or `manual`.
    ///
    /// `cron:<expression>` takes 5 or 6 fields (`cron:*/5 * * * * *`).
    pub fn parse(s: &str) -> Result<Trigger> {
        let s = s.trim();
        let (kind, arg) = match s.split_once(':') {
            Some((k, a)) => (k, Some(a)),
            None => (s, None),
        };
        match (kind.to_ascii_lowercase().as_str(), arg) {
            ("realtime", None) => Ok(Trigger::Realtime),
            ("manual", None) => Ok(Trigger::Manual),
            ("delayed", Some(d)) => {
                let ms = parse_duration_ms(d)?;
                if ms <= 0 {
                    return Err(Error::invalid("a delayed trigger needs a positive delay"));
                }
                Ok(Trigger::Delayed(ms))
            }
            ("periodic", Some(p)) => {
                let ms = parse_duration_ms(p)?;
                if ms <= 0 {
                    return Err(Error::invalid("a periodic trigger needs a positive period"));
                }
                Ok(Trigger::Periodic(ms))
            }
            ("cron", Some(e)) => {
                super::cron::parse_cron(e)?;
                Ok(Trigger::Cron(e.trim().to_string()))
            }
            _ => Err(Error::invalid(format!(
                "trigger {s:?} is not realtime, delayed:<d>, periodic:<d>, cron:<expr> or manual"
            ))),
        }
    }

    /// The string [`Trigger::parse`] reads back.
    pub fn name(&self) -> String {
        match self {
            Trigger::Realtime => "realtime".into(),
            Trigger::Manual => "manual".into(),
            Trigger::Delayed(ms) => format!("delayed:{ms}ms"),
            Trigger::Periodic(ms) => format!("periodic:{ms}ms"),
            Trigger::Cron(e) => format!("cron:{e}"),
        }
    }

    pub(crate) fn byte(&self) -> (u8, i64) {
        match self {
            Trigger::Realtime => (1, 0),
            Trigger::Delayed(ms) => (2, *ms),
            Trigger::Periodic(ms) => (3, *ms),
            Trigger::Manual => (4, 0),
            Trigger::Cron(_) => (5, 0),
        }
    }

    pub(crate) fn from_byte(b: u8, ms: i64) -> Option<Trigger> {
        Some(match b {
            1 => Trigger::Realtime,
            2 if ms > 0 => Trigger::Delayed(ms),
            3 if ms > 0 => Trigger::Periodic(ms),
            4 => Trigger::Manual,
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_form_and_round_trips() {
        assert_eq!(Trigger::parse("realtime").unwrap(), Trigger::Realtime);
        assert_eq!(Trigger::parse("manual").unwrap(), Trigger::Manual);
        assert_eq!(
            Trigger::parse("delayed:300ms").unwrap(),
            Trigger::Delayed(300)
        );
        assert_eq!(
            Trigger::parse("periodic:10s").unwrap(),
            Trigger::Periodic(10_000)
        );
        assert_eq!(
            Trigger::parse("delayed:2m").unwrap(),
            Trigger::Delayed(120_000)
        );
        assert_eq!(
            Trigger::parse("cron:*/5 * * * * *").unwrap(),
            Trigger::Cron("*/5 * * * * *".into())
        );
        for t in [
            "realtime",
            "manual",
            "delayed:5s",
            "periodic:250ms",
            "cron:0 */2 * * *",
        ] {
            let p = Trigger::parse(t).unwrap();
            assert_eq!(Trigger::parse(&p.name()).unwrap(), p);
        }
        for bad in [
            "",
            "delayed",
            "delayed:0s",
            "periodic:-1s",
            "periodic:10y",
            "soon",
            "cron:61 * * * *",
            "cron:",
            "delayed:999999999d",
        ] {
            assert_eq!(
                Trigger::parse(bad).unwrap_err().code(),
                "OTSParameterInvalid",
                "{bad}"
            );
        }
    }

    #[test]
    fn durations_take_whole_millisecond_fractions() {
        for (text, ms) in [
            ("1.5s", 1_500),
            ("0.25s", 250),
            ("1.5m", 90_000),
            ("2.0h", 7_200_000),
            ("300", 300),
            (" 10ms ", 10),
            ("0.001s", 1),
        ] {
            assert_eq!(parse_duration_ms(text).unwrap(), ms, "{text}");
        }
        for bad in [
            "0.0001s",
            "1.5ms",
            ".5s",
            "1.s",
            "1..5s",
            "1.2.3s",
            "s",
            "1.5x",
            "1.0000000001h",
        ] {
            assert_eq!(
                parse_duration_ms(bad).unwrap_err().code(),
                "OTSParameterInvalid",
                "{bad}"
            );
        }
    }
}
