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
