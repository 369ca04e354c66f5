//! The command line, as clap derives it.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Wide-column tables with a change log, digests and durable storage.
#[derive(Debug, Parser)]
#[command(name = "tablesync", version, about, long_about = None)]
pub struct Cli {
    /// Region name of the database directory. A directory keeps the region it
    /// was created with (in its MANIFEST); a new one without --region gets
    /// `<directory name>-<8 random hex digits>`.
    #[arg(long, global = true)]
    pub region: Option<String>,
    /// When writes are fsynced: always, batch (group commit) or never.
    /// Default: always, except `import`, `demo`, `sync` and `copy-table`, which use batch.
    #[arg(long, global = true, value_enum)]
    pub sync: Option<SyncArg>,
    /// The page cache of a durable directory (e.g. `256MiB`, `64M`,
    /// `1048576`; default 256 MiB): its rows live on disk in a page store
    /// and at most about this much of them in memory. A directory made by
    /// an older version is converted to pages on open.
    #[arg(long = "cache-bytes", global = true, value_name = "BYTES", value_parser = parse_size)]
    pub cache_bytes: Option<u64>,
    /// Keep every row of a directory that is not paged yet in memory
    /// (directory format 4, whole checkpoints) instead of in a page store.
    #[arg(long = "rows-in-memory", global = true, conflicts_with = "cache_bytes")]
    pub rows_in_memory: bool,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Fsync policy of the durable directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SyncArg {
    /// fsync before every write returns.
    Always,
    /// Group commit: fsync every few entries or milliseconds, and on close.
    Batch,
    /// Leave flushing to the operating system.
    Never,
}

/// File format of `import` / `export`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// CSV with a typed `name:TYPE` header.
    Csv,
    /// One JSON object per line.
    Jsonl,
}

/// Row condition of a write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum ConditionArg {
    /// Write whether or not the row exists.
    #[default]
    Ignore,
    /// Write only if the row exists.
    ExpectExist,
    /// Write only if the row does not exist.
    ExpectNotExist,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Walk through a durable region: load rows, read, update, delete, show
    /// the change log and digest, reopen and check the digest again; then
    /// sync it with a second region, incrementally and after a truncated log.
    Demo(DemoArgs),
    /// Create a table.
    CreateTable {
        /// Database directory (created if missing).
        dir: PathBuf,
        /// Table name.
        table: String,
        /// Primary-key column `name:TYPE` (INTEGER, STRING, BINARY), in order;
        /// `name:INTEGER:AUTO_INCREMENT` for an auto-increment column.
        #[arg(long = "pk", required = true, value_name = "NAME:TYPE")]
        pk: Vec<String>,
        /// Versions kept per column.
        #[arg(long)]
        max_versions: Option<u32>,
        /// Seconds a version stays visible (-1: forever; else ≥ 86400).
        #[arg(long)]
        ttl: Option<i64>,
    },
    /// List tables with their primary keys and row counts.
    Tables {
        /// Database directory.
        dir: PathBuf,
    },
    /// Write a row (replacing it).
    Put {
        /// Database directory.
        dir: PathBuf,
        /// Table name.
        table: String,
        /// Primary-key value `name=value`, typed by the schema.
        #[arg(long = "pk", required = true, value_name = "NAME=VALUE")]
        pk: Vec<String>,
        /// Attribute `name=<JSON scalar>` or `name:TYPE=<text>`.
        #[arg(long = "col", value_name = "NAME[:TYPE]=VALUE")]
        col: Vec<String>,
        /// Version timestamp (ms) for every column (default: now).
        #[arg(long)]
        timestamp: Option<i64>,
        /// Row condition.
        #[arg(long, value_enum, default_value_t)]
        condition: ConditionArg,
    },
    /// Read a row as one JSON line (`null` if it does not exist).
    Get {
        /// Database directory.
        dir: PathBuf,
        /// Table name.
        table: String,
        /// Primary-key value `name=value`.
        #[arg(long = "pk", required = true, value_name = "NAME=VALUE")]
        pk: Vec<String>,
        /// Versions per column to return.
        #[arg(long, default_value_t = 1)]
        max_versions: u32,
        /// Only these attribute columns.
        #[arg(long = "column", value_name = "NAME")]
        columns: Vec<String>,
    },
    /// Delete a row.
    Delete {
        /// Database directory.
        dir: PathBuf,
        /// Table name.
        table: String,
        /// Primary-key value `name=value`.
        #[arg(long = "pk", required = true, value_name = "NAME=VALUE")]
        pk: Vec<String>,
        /// Row condition.
        #[arg(long, value_enum, default_value_t)]
        condition: ConditionArg,
    },
    /// Print a key range as JSON Lines.
    Scan(ScanArgs),
    /// Load rows from a CSV or JSON Lines file.
    Import(ImportArgs),
    /// Write a table's rows to a CSV or JSON Lines file.
    Export(ExportArgs),
    /// Print a table's SHA-256 digest.
    Digest {
        /// Database directory.
        dir: PathBuf,
        /// Table name.
        table: String,
        /// Also rehash every row and check it against the maintained digest.
        #[arg(long)]
        verify: bool,
    },
    /// Print change-log records as JSON Lines.
    Log {
        /// Database directory.
        dir: PathBuf,
        /// First cursor to print (0: the oldest kept).
        #[arg(long, default_value_t = 0)]
        since: u64,
        /// Most records to print.
        #[arg(long, default_value_t = 100)]
        limit: usize,
    },
    /// Sync two regions: directories, or one directory and an http:// server.
    Sync(SyncArgs),
    /// Compare two regions' tables; exit 0 if all match, 1 if any differ.
    Verify(VerifyArgs),
    /// Copy a table's visible rows into a new table, in the same or another directory.
    CopyTable(CopyTableArgs),
    /// Serve a directory's region over HTTP for `sync` and `verify`.
    Serve(Box<ServeArgs>),
    /// Create, change and print a cluster map file (datacenters, placements, epochs).
    Cluster(crate::cluster_args::ClusterArgs),
    /// Run a replication link from a directory to a directory or server in
    /// the foreground, with a live lag line and an optional SVG plot.
    Replicate(ReplicateArgs),
    /// One screen about a region directory: tables, digests, version vector,
    /// saved links (lag, pending) and group role.
    Status(StatusArgs),
    /// Make a region the write-primary of its group under a new epoch
    /// (offline: every directory of the group, no process holding them).
    Failover(FailoverArgs),
    /// Resync a former primary with the current one until the digests
    /// match, then make it primary again under a new epoch.
    Failback(FailbackArgs),
    /// Back up, list, verify and prune backups.
    Backup(crate::backup_args::BackupArgs),
    /// Restore a backup (latest, named, or any point in time) into a directory.
    Restore(crate::backup_args::RestoreArgs),
    /// Check a database directory read-only: every checkpoint, every log
    /// segment, and every table's digest recomputed from its rows. Exit
    /// status 1 when damage is found.
    Check {
        /// Database directory.
        dir: PathBuf,
    },
    /// Repair what can be repaired without guessing: cut a damaged or torn
    /// log tail and move leftover temp files aside, keeping every removed
    /// byte (`*.torn-<offset>`, `repair-<n>/`); then check again.
    Repair {
        /// Database directory.
        dir: PathBuf,
    },
}

/// Options of `demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Directory to (re)create, holding the regions `db` and `db-b`; wiped
    /// first if it is empty or an earlier demo's.
    #[arg(long, default_value = "./tablesync-demo")]
    pub dir: PathBuf,
    /// Rows to load.
    #[arg(long, default_value_t = 100_000)]
    pub rows: u64,
    /// Instead: three local datacenters (child `serve` processes on
    /// loopback), hash- and range-placed tables, every write mode, 2PC, one
    /// datacenter killed, status and a per-partition digest check.
    #[arg(long)]
    pub cluster: bool,
}

/// Sync mode of `sync`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum ModeArg {
    /// Incremental while the sender's change log covers the receiver, else reconcile.
    #[default]
    Auto,
    /// The change records the receiver lacks (fails with LogGap once retention dropped them).
    Incremental,
    /// Every row of the selected tables.
    Full,
    /// The rows as of the start, then the records written meanwhile.
    Hybrid,
    /// Only the rows whose digests differ (found with coded symbols).
    Reconcile,
}

/// Direction of `sync`, seen from SRC (the initiator).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum DirectionArg {
    /// DST's changes into SRC.
    Pull,
    /// SRC's changes into DST.
    Push,
    /// Both ways.
    #[default]
    Both,
}

/// Options of `sync`.
#[derive(Debug, Args)]
pub struct SyncArgs {
    /// The initiating side: a database directory or an http:// URL.
    pub src: String,
    /// The other side: a database directory or an http:// URL (at most one side is a URL).
    pub dst: String,
    /// How data moves.
    #[arg(long, value_enum, default_value_t)]
    pub mode: ModeArg,
    /// Which way data moves, seen from SRC: pull (DST into SRC), push (SRC into DST) or both.
    #[arg(long, value_enum, default_value_t)]
    pub direction: DirectionArg,
    /// Only this table (repeatable; default: every table of both sides).
    #[arg(long = "table", value_name = "TABLE")]
    pub tables: Vec<String>,
    /// Bearer token of the server side.
    #[arg(long, env = "TABLESYNC_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// PEM file of the CA that signed an https:// server's certificate.
    #[arg(long, value_name = "PATH")]
    pub ca: Option<PathBuf>,
    /// Allow plain http:// to a server that is not on loopback.
    #[arg(long)]
    pub insecure_http: bool,
}

/// Options of `verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// One side: a database directory or an http:// URL.
    pub src: String,
    /// The other side: a database directory or an http:// URL (at most one side is a URL).
    pub dst: String,
    /// Only this table (repeatable; default: every table of both sides).
    #[arg(long = "table", value_name = "TABLE")]
    pub tables: Vec<String>,
    /// Most differing keys to print per table.
    #[arg(long, default_value_t = 10)]
    pub keys: usize,
    /// Bearer token of the server side.
    #[arg(long, env = "TABLESYNC_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// PEM file of the CA that signed an https:// server's certificate.
    #[arg(long, value_name = "PATH")]
    pub ca: Option<PathBuf>,
    /// Allow plain http:// to a server that is not on loopback.
    #[arg(long)]
    pub insecure_http: bool,
}

/// Options of `copy-table`.
#[derive(Debug, Args)]
pub struct CopyTableArgs {
    /// Database directory holding the source table.
    pub src_dir: PathBuf,
    /// Table to copy.
    pub source_table: String,
    /// Database directory to copy into (the same directory, or another; created if missing).
    pub dst_dir: PathBuf,
    /// Name of the new table (must not exist there).
    pub target_table: String,
}

/// Options of `serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Database directory to serve (created if missing).
    pub dir: PathBuf,
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:7070", value_name = "HOST:PORT")]
    pub listen: String,
    /// Read-write bearer token on the command line (visible to other users
    /// in the process list: prefer TABLESYNC_TOKEN or --token-file).
    #[arg(long)]
    pub token: Option<String>,
    /// File whose first line is the read-write bearer token.
    #[arg(long, value_name = "PATH")]
    pub token_file: Option<PathBuf>,
    /// File of read-only bearer tokens, one per line.
    #[arg(long, value_name = "PATH")]
    pub read_token_file: Option<PathBuf>,
    /// Largest request body accepted, and the frame cap, in bytes.
    #[arg(long = "max-body", value_name = "BYTES", default_value_t = tablesync::sync::DEFAULT_MAX_FRAME_BYTES)]
    pub max_body: usize,
    /// PEM certificate chain: serve https:// (with --tls-key).
    #[arg(long, value_name = "PATH", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert.
    #[arg(long, value_name = "PATH", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Allow plain http:// on an address that is not loopback.
    #[arg(long)]
    pub insecure_http: bool,
    /// Requests handled at once; more are answered 503 with Retry-After.
    #[arg(long, value_name = "N", default_value_t = 64)]
    pub max_in_flight: usize,
    /// Seconds a stop waits for requests in flight.
    #[arg(long, value_name = "SECONDS", default_value_t = 10)]
    pub shutdown_grace: u64,
    /// Log format on stderr: text or json.
    #[arg(long, value_name = "FORMAT", default_value = "text")]
    pub log_format: String,
    /// Also speak Tablestore's wire protocol here: the official SDKs connect
    /// with endpoint `http://HOST:PORT` (see docs/tablestore.md).
    #[arg(long = "tablestore-listen", value_name = "HOST:PORT")]
    pub tablestore_listen: Option<String>,
    /// Instance name the Tablestore SDKs must give (with --tablestore-listen).
    #[arg(long, default_value = "tablesync", value_name = "NAME")]
    pub instance: String,
    /// File of `ACCESS_KEY_ID:ACCESS_KEY_SECRET` lines the Tablestore endpoint
    /// accepts (required with --tablestore-listen).
    #[arg(long = "access-key-file", value_name = "FILE")]
    pub access_key_file: Option<PathBuf>,
    /// Take part in a cluster as this region (its name in the map): serve
    /// `/v1/cluster/*`, keeping the map and 2PC records in DIR/cluster.
    #[arg(long)]
    pub cluster: bool,
    /// Host a replication link and heartbeats to this peer region
    /// (repeatable; NAME must be the peer's region name; it gets this
    /// server's token).
    #[arg(long = "peer", value_name = "NAME=URL")]
    pub peers: Vec<String>,
    /// Trigger of the hosted links: realtime, delayed:30s (with the push
    /// direction), periodic:10s, cron:EXPR or manual.
    #[arg(long, default_value = "realtime", value_name = "TRIGGER")]
    pub link_trigger: String,
    /// Which way the hosted links move data, seen from this region.
    #[arg(long, value_enum, default_value_t = DirectionArg::Push)]
    pub link_direction: DirectionArg,
    /// Heartbeat period to each peer (e.g. 100ms, 1s).
    #[arg(long, default_value = "100ms", value_name = "DURATION")]
    pub heartbeat: String,
    /// Phi at which a peer is considered down.
    #[arg(long, default_value_t = 8.0, value_name = "PHI")]
    pub phi_threshold: f64,
    /// Voting groups (three regions or more): the primary's write lease
    /// (e.g. 500ms, 1s; default ten heartbeats, at least 1s). A new
    /// primary writes no earlier than one lease after its voters last
    /// acknowledged the old one, so a shorter lease means a shorter
    /// failover.
    #[arg(long, value_name = "DURATION")]
    pub lease: Option<String>,
    /// Voting groups: a standby stands for election once the primary has
    /// been silent this long, even if phi has not crossed --phi-threshold
    /// (default 1.5 leases); detection starts the election earlier.
    #[arg(long, value_name = "DURATION")]
    pub grace: Option<String>,
    /// Voting groups: a standby stands on its detector's word only once
    /// the primary has also been silent this long (default 0: at once).
    /// E.g. `1200ms` rides out process stalls of up to 1 s (100 ms
    /// heartbeats) without a failover; a killed primary is then replaced
    /// about 0.2 s later than with 0.
    #[arg(long, value_name = "DURATION")]
    pub min_silence: Option<String>,
    /// Write-primary of epoch 1 when DIR holds no group state yet (without
    /// it every region writes, last writer wins, until a failover).
    #[arg(long, value_name = "REGION")]
    pub group_primary: Option<String>,
    /// PEM file of the private CA that signed the https peers'
    /// certificates (links and heartbeats trust it instead of the public
    /// web roots).
    #[arg(long = "ca", value_name = "FILE")]
    pub peer_ca: Option<PathBuf>,
}

/// Options of `scan`.
#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Database directory.
    pub dir: PathBuf,
    /// Table name.
    pub table: String,
    /// Start bound (inclusive) `name=value` per key column, or `name=INF_MIN|INF_MAX`;
    /// key columns left out are the range's open end.
    #[arg(long, value_name = "NAME=VALUE")]
    pub start: Vec<String>,
    /// End bound (exclusive), same form as `--start`.
    #[arg(long, value_name = "NAME=VALUE")]
    pub end: Vec<String>,
    /// Most rows to print.
    #[arg(long)]
    pub limit: Option<usize>,
    /// Descending key order (start is then the upper bound).
    #[arg(long)]
    pub backward: bool,
    /// Versions per column to return.
    #[arg(long, default_value_t = 1)]
    pub max_versions: u32,
}

/// Options of `import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Database directory (created if missing).
    pub dir: PathBuf,
    /// Table name.
    pub table: String,
    /// Input file.
    pub file: PathBuf,
    /// File format (default: from the extension: .csv, .jsonl/.ndjson/.json).
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Create the table with this primary key (`name:TYPE`) if it does not exist.
    #[arg(long = "pk", value_name = "NAME:TYPE")]
    pub pk: Vec<String>,
}

/// Options of `export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Database directory, or a backup repository (a directory or an
    /// s3://, oss://, gs://, az:// URL): then the table as of the latest
    /// backup, --backup, --at or --at-stamp.
    pub dir: PathBuf,
    /// Table name.
    pub table: String,
    /// Output file (`-`: standard output).
    pub file: PathBuf,
    /// File format (default: from the extension).
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Leave out version timestamps (an import then stamps values anew, so the digest changes).
    #[arg(long)]
    pub no_timestamps: bool,
    /// From a repository: the table as of this time (RFC 3339).
    #[arg(long, conflicts_with_all = ["at_stamp", "backup"])]
    pub at: Option<String>,
    /// From a repository: the table as of this HLC stamp.
    #[arg(long, conflicts_with = "backup")]
    pub at_stamp: Option<u64>,
    /// From a repository: the table as of this backup (id or unique prefix).
    #[arg(long)]
    pub backup: Option<String>,
    /// Keys and endpoint of a repository.
    #[command(flatten)]
    pub key: crate::backup_args::KeyArgs,
}

/// Options of `replicate`.
#[derive(Debug, Args)]
pub struct ReplicateArgs {
    /// Source database directory (the link runs here).
    pub src: PathBuf,
    /// Peer: a database directory or an http:// URL.
    pub dst: String,
    /// realtime, delayed:30s, periodic:10s or manual.
    #[arg(long, default_value = "realtime")]
    pub trigger: String,
    /// Which way data moves, seen from SRC.
    #[arg(long, value_enum, default_value_t = DirectionArg::Push)]
    pub direction: DirectionArg,
    /// Only this table (repeatable; default: every table).
    #[arg(long = "table", value_name = "TABLE")]
    pub tables: Vec<String>,
    /// Bearer token of the server (when DST is a URL).
    #[arg(long, env = "TABLESYNC_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Stop after this long (e.g. 30s, 5m); default: until Ctrl-C.
    #[arg(long)]
    pub duration: Option<String>,
    /// Write an SVG plot of lag and throughput over the run here.
    #[arg(long, value_name = "FILE.svg")]
    pub plot: Option<PathBuf>,
    /// Also write this many rows per second into SRC's table `load`
    /// (created if missing), to watch the link under load, and print lag
    /// p50/p99 and throughput; `max` writes as fast as the link keeps its
    /// lag under 500 ms and compares with local writes without a link.
    #[arg(long, value_name = "ROWS_PER_SEC|max")]
    pub load: Option<String>,
    /// Bytes per generated row (with --load).
    #[arg(long, default_value_t = 1024)]
    pub load_bytes: usize,
    /// Link name (its state is kept in SRC/links/NAME.link).
    #[arg(long)]
    pub name: Option<String>,
    /// Write delta checkpoints and fold them inside commits, as before the
    /// background thread (for comparisons: writers and the link then pay
    /// for each).
    #[arg(long)]
    pub inline_folds: bool,
}

/// Options of `status`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// A database directory, or a server's URL (reads its GET /v1/links).
    pub target: String,
    /// Refresh every second until Ctrl-C.
    #[arg(long)]
    pub watch: bool,
    /// Bearer token of the server (when TARGET is a URL).
    #[arg(long, env = "TABLESYNC_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
}

/// Options of `failover`.
#[derive(Debug, Args)]
pub struct FailoverArgs {
    /// The group's directories, in promotion preference order; or the URL
    /// of the running `serve --peer` server to promote.
    #[arg(required = true)]
    pub dirs: Vec<PathBuf>,
    /// Region to promote.
    #[arg(long)]
    pub promote: String,
    /// Bearer token (read-write) of the server (when given a URL).
    #[arg(long, env = "TABLESYNC_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
}

/// Options of `failback`.
#[derive(Debug, Args)]
pub struct FailbackArgs {
    /// The former primary's directory (to resync and promote), or the URL
    /// of its running `serve --peer` server (which resyncs with the primary
    /// it knows).
    pub dir: PathBuf,
    /// The current primary's directory (with a directory).
    #[arg(long)]
    pub primary: Option<PathBuf>,
    /// Bearer token (read-write) of the server (when given a URL).
    #[arg(long, env = "TABLESYNC_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// The group's other directories (they learn the new epoch too).
    #[arg(long = "member", value_name = "DIR")]
    pub members: Vec<PathBuf>,
}

/// A byte size: a number with an optional unit (`K`/`KiB`, `M`/`MiB`,
/// `G`/`GiB`, powers of 1024; `B` or none for bytes).
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, unit) = t.split_at(split);
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("{s:?} is not a size (e.g. 256MiB, 64M, 1048576)"))?;
    let shift = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        u => {
            return Err(format!(
                "unknown size unit {u:?} (K, M or G, powers of 1024)"
            ))
        }
    };
    n.checked_mul(1 << shift)
        .ok_or_else(|| format!("{s:?} is too large"))
}

#[cfg(test)]
mod size_tests {
    use super::parse_size;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("1048576"), Ok(1 << 20));
        assert_eq!(parse_size("256MiB"), Ok(256 << 20));
        assert_eq!(parse_size("64M"), Ok(64 << 20));
        assert_eq!(parse_size("2g"), Ok(2 << 30));
        assert_eq!(parse_size("512 KiB"), Ok(512 << 10));
        assert!(parse_size("MiB").is_err());
        assert!(parse_size("12 parsecs").is_err());
        assert!(parse_size("99999999999999999999G").is_err());
    }
}
