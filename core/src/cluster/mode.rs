//! Write modes, write consistency levels and read levels.

/// How many acknowledgements a synchronous write waits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Consistency {
    /// One replica (any datacenter).
    One,
    /// A majority of all replicas.
    Quorum,
    /// A majority of the replicas in the coordinator's datacenter.
    LocalQuorum,
    /// A majority of the replicas in every datacenter that holds one.
    EachQuorum,
    /// Every replica.
    All,
    /// At least one replica in each of `n` distinct datacenters ("N of M").
    Datacenters(u8),
}

impl Consistency {
    /// The upper-case name (`QUORUM`, `DCS(2)`…).
    pub fn name(self) -> String {
        match self {
            Consistency::One => "ONE".into(),
            Consistency::Quorum => "QUORUM".into(),
            Consistency::LocalQuorum => "LOCAL_QUORUM".into(),
            Consistency::EachQuorum => "EACH_QUORUM".into(),
            Consistency::All => "ALL".into(),
            Consistency::Datacenters(n) => format!("DCS({n})"),
        }
    }

    /// Parse a name as [`Consistency::name`] prints it (case-insensitive;
    /// `DCS(n)`, `DCS:n` and a bare number `n` all mean n datacenters).
    pub fn parse(s: &str) -> Option<Self> {
        let u = s.trim().to_ascii_uppercase();
        Some(match u.as_str() {
            "ONE" => Consistency::One,
            "QUORUM" => Consistency::Quorum,
            "LOCAL_QUORUM" => Consistency::LocalQuorum,
            "EACH_QUORUM" => Consistency::EachQuorum,
            "ALL" => Consistency::All,
            _ => {
                let n = u
                    .strip_prefix("DCS(")
                    .and_then(|r| r.strip_suffix(')'))
                    .or_else(|| u.strip_prefix("DCS:"))
                    .unwrap_or(&u);
                let n: u8 = n.parse().ok()?;
                if n == 0 {
                    return None;
                }
                Consistency::Datacenters(n)
            }
        })
    }
}

/// When a write is acknowledged to the client.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WriteMode {
    /// After the home region commits; replicas follow through replication.
    Async,
    /// After the home region and at least one other datacenter; after
    /// `timeout_ms` without a second datacenter the table degrades to async
    /// until a replica has caught up again.
    SemiSync {
        /// Milliseconds to wait for a second datacenter before degrading.
        timeout_ms: u64,
    },
    /// After the replicas a consistency level names.
    Sync(Consistency),
}

impl WriteMode {
    /// The name (`async`, `semi-sync(500ms)`, `sync(QUORUM)`).
    pub fn name(self) -> String {
        match self {
            WriteMode::Async => "async".into(),
            WriteMode::SemiSync { timeout_ms } => format!("semi-sync({timeout_ms}ms)"),
            WriteMode::Sync(c) => format!("sync({})", c.name()),
        }
    }

    /// Parse a write mode as the Python and JS `Cluster` take it:
    /// `"async"`, `"semi-sync:MS"`, `"sync:LEVEL"` or a bare level
    /// (`"QUORUM"`, `"ALL"`, `"LOCAL_QUORUM"`, `"EACH_QUORUM"`, `"ONE"`, or a
    /// number of datacenters), case-insensitive. Anything else is
    /// `OTSParameterInvalid`.
    pub fn parse_arg(s: &str) -> crate::Result<WriteMode> {
        let bad = || {
            crate::Error::ParameterInvalid(format!(
                "write mode {s:?}: expected async, semi-sync:MS, sync:LEVEL or a consistency level"
            ))
        };
        let lower = s.trim().to_ascii_lowercase();
        if lower == "async" {
            return Ok(WriteMode::Async);
        }
        if let Some(ms) = lower.strip_prefix("semi-sync:") {
            return Ok(WriteMode::SemiSync {
                timeout_ms: ms.parse().map_err(|_| bad())?,
            });
        }
        let level = lower.strip_prefix("sync:").unwrap_or(&lower);
        Consistency::parse(level)
            .map(WriteMode::Sync)
            .ok_or_else(bad)
    }
}

/// Which replicas a read asks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReadLevel {
    /// The nearest healthy replica (load-balanced).
    One,
    /// A majority of replicas; the newest answer wins and is written back.
    Quorum,
    /// The partition's home region.
    Leader,
}

impl ReadLevel {
    /// Parse `ONE`, `QUORUM` or `LEADER` (any case); anything else is
    /// `OTSParameterInvalid`.
    pub fn parse_arg(s: &str) -> crate::Result<ReadLevel> {
        match s.trim().to_ascii_uppercase().as_str() {
            "ONE" => Ok(ReadLevel::One),
            "QUORUM" => Ok(ReadLevel::Quorum),
            "LEADER" => Ok(ReadLevel::Leader),
            _ => Err(crate::Error::ParameterInvalid(format!(
                "read level {s:?}: expected ONE, QUORUM or LEADER"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_and_levels_parse_as_the_bindings_take_them() {
        assert_eq!(WriteMode::parse_arg(" ASYNC ").unwrap(), WriteMode::Async);
        assert_eq!(
            WriteMode::parse_arg("semi-sync:250").unwrap(),
            WriteMode::SemiSync { timeout_ms: 250 }
        );
        assert_eq!(
            WriteMode::parse_arg("sync:each_quorum").unwrap(),
            WriteMode::Sync(Consistency::EachQuorum)
        );
        assert_eq!(
            WriteMode::parse_arg("2").unwrap(),
            WriteMode::Sync(Consistency::Datacenters(2))
        );
        for bad in ["", "semi-sync:x", "sync:most", "0"] {
            assert_eq!(
                WriteMode::parse_arg(bad).unwrap_err().code(),
                "OTSParameterInvalid"
            );
        }
        assert_eq!(ReadLevel::parse_arg("leader").unwrap(), ReadLevel::Leader);
        assert_eq!(
            ReadLevel::parse_arg("ALL").unwrap_err().code(),
            "OTSParameterInvalid"
        );
    }
}
