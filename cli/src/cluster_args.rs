//! Arguments of `tablesync cluster …` (the cluster map file commands).

use clap::{Args, Subcommand, ValueEnum};
use std::path::PathBuf;

/// `tablesync cluster <command>`.
#[derive(Debug, Args)]
pub struct ClusterArgs {
    /// What to do with the map.
    #[command(subcommand)]
    pub command: ClusterCommand,
}

/// Type of the partition-key values given on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum KeyType {
    /// 64-bit integers.
    #[default]
    Integer,
    /// UTF-8 strings.
    String,
    /// Hex-encoded bytes.
    Binary,
}

/// Cluster map commands. Each changes the map file (a `TSCM` frame,
/// docs/FORMAT.md §16) to a new epoch, or prints it.
#[derive(Debug, Subcommand)]
pub enum ClusterCommand {
    /// Create a map file with its datacenters (epoch 1).
    Init {
        /// The map file to create (refused if it exists).
        file: PathBuf,
        /// A datacenter: `NAME=REGION@ENDPOINT[,REGION@ENDPOINT…]`; repeat per datacenter.
        #[arg(long = "dc", required = true, value_name = "NAME=REGION@ENDPOINT,…")]
        dc: Vec<String>,
    },
    /// Print the map as JSON.
    Show {
        /// The map file.
        file: PathBuf,
    },
    /// Add a datacenter (hash-placed partitions it wins move to it).
    AddDc {
        /// The map file.
        file: PathBuf,
        /// `NAME=REGION@ENDPOINT[,REGION@ENDPOINT…]`.
        dc: String,
        /// Change the running regions too, moving the data (the map
        /// file's regions must hold the file's map).
        #[command(flatten)]
        online: Online,
    },
    /// Remove a datacenter (its range partitions go to the next by rendezvous).
    RemoveDc {
        /// The map file.
        file: PathBuf,
        /// Its name.
        name: String,
        /// With `--online`: the datacenter is down for good. Its regions are
        /// not contacted; each partition it was home of is copied from its
        /// surviving replicas (writes acknowledged in `sync`/`semi-sync`
        /// modes reached one). Never restart those regions with their old
        /// directories: they would still take writes as old homes.
        #[arg(long)]
        down: bool,
        /// Change the running regions too, moving the data (the map
        /// file's regions must hold the file's map).
        #[command(flatten)]
        online: Online,
    },
    /// Place a table: `--hash BUCKETS` or `--split VALUE…` (range).
    AddTable {
        /// The map file.
        file: PathBuf,
        /// Table name.
        table: String,
        /// Hash placement with this many buckets.
        #[arg(long, conflicts_with = "split")]
        hash: Option<u32>,
        /// Range placement: a split point (first primary-key column); repeatable.
        #[arg(long = "split", value_name = "VALUE")]
        split: Vec<String>,
        /// Type of the split values.
        #[arg(long, value_enum, default_value_t)]
        key_type: KeyType,
        /// Datacenters per partition.
        #[arg(long, default_value_t = 1)]
        rf: u8,
        /// Write mode: `async`, `semi-sync:MS`, `sync:LEVEL` (ONE, QUORUM,
        /// LOCAL_QUORUM, EACH_QUORUM, ALL, or a number of datacenters).
        #[arg(long, default_value = "async")]
        mode: String,
    },
    /// Split range partition ID of TABLE at VALUE.
    Split {
        /// The map file.
        file: PathBuf,
        /// Table name.
        table: String,
        /// Partition id.
        partition: u32,
        /// Split point (first primary-key column).
        at: String,
        /// Type of the split value.
        #[arg(long, value_enum, default_value_t)]
        key_type: KeyType,
        /// Change the running regions too, moving the data (the map
        /// file's regions must hold the file's map).
        #[command(flatten)]
        online: Online,
    },
    /// Move range partition ID of TABLE to datacenters (home first, comma-separated).
    Move {
        /// The map file.
        file: PathBuf,
        /// Table name.
        table: String,
        /// Partition id.
        partition: u32,
        /// Datacenters, home first: `dc1,dc2`.
        datacenters: String,
        /// Change the running regions too, moving the data (the map
        /// file's regions must hold the file's map).
        #[command(flatten)]
        online: Online,
    },
    /// Set a table's default write mode.
    SetMode {
        /// The map file.
        file: PathBuf,
        /// Table name.
        table: String,
        /// `async`, `semi-sync:MS` or `sync:LEVEL`.
        mode: String,
    },
    /// Print where a key lives: partition and replicas (home first).
    Route {
        /// The map file.
        file: PathBuf,
        /// Table name.
        table: String,
        /// The partition-key value (first primary-key column).
        key: String,
        /// Its type.
        #[arg(long, value_enum, default_value_t)]
        key_type: KeyType,
    },
    /// Push the map file to every region in it (each installs it if newer).
    Push {
        /// The map file.
        file: PathBuf,
        /// Bearer token of the regions (or TABLESYNC_TOKEN).
        #[arg(long, env = "TABLESYNC_TOKEN", hide_env_values = true)]
        token: String,
    },
    /// Per-datacenter health, forwarding lag and per-partition digests, asked
    /// of every region in the map held by the region at URL.
    Status {
        /// Any region of the cluster: `http://HOST:PORT`.
        url: String,
        /// Bearer token of the regions (or TABLESYNC_TOKEN).
        #[arg(long, env = "TABLESYNC_TOKEN", hide_env_values = true)]
        token: String,
    },
}

/// `--online`: apply a map change to the running regions with data movement.
#[derive(Debug, Args, Clone)]
pub struct Online {
    /// Install the new map on the regions and move the partitions whose
    /// replicas change (copy, fence, catch up, release); the file is
    /// written only once every region serves the new map.
    #[arg(long)]
    pub online: bool,
    /// Bearer token of the regions (or TABLESYNC_TOKEN); needed with `--online`.
    #[arg(long, env = "TABLESYNC_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Give up (resumable) after this many seconds without finishing.
    #[arg(long, default_value_t = 300)]
    pub timeout_secs: u64,
}
