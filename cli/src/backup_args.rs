//! Arguments of `tablesync backup …` and `tablesync restore`.

use clap::{Args, Subcommand};
use std::path::PathBuf;

/// How to open an encrypted repository (or encrypt a new one).
#[derive(Debug, Args, Clone, Default)]
pub struct KeyArgs {
    /// File holding the passphrase (one line; the trailing newline is ignored).
    #[arg(long, value_name = "FILE", conflicts_with = "key_file")]
    pub passphrase_file: Option<PathBuf>,
    /// Key file (its bytes are the key; use at least 32 random bytes).
    #[arg(long, value_name = "FILE")]
    pub key_file: Option<PathBuf>,
    /// Endpoint of an S3-compatible server for an `s3://` or `oss://` REPO
    /// (default: TABLESYNC_S3_ENDPOINT, else AWS_ENDPOINT_URL, else AWS);
    /// plain http:// only on a loopback address.
    #[arg(long, value_name = "URL")]
    pub s3_endpoint: Option<String>,
}

/// `tablesync backup …`.
#[derive(Debug, Args)]
pub struct BackupArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: BackupCommand,
}

/// The backup subcommands.
#[derive(Debug, Subcommand)]
pub enum BackupCommand {
    /// Back a database directory, or the region a `tablesync serve` at an
    /// http(s):// URL holds, up into REPO (created and initialised if
    /// missing): incremental when an earlier backup of the same region and
    /// tables can be continued, else full.
    Create(BackupCreateArgs),
    /// List the backups in REPO, oldest first.
    List(BackupRepoArgs),
    /// Check every object of REPO without restoring; exit 0 only if all pass.
    Verify(BackupVerifyArgs),
    /// Remove backups outside the retention policy, then unreferenced chunks.
    Prune(BackupPruneArgs),
    /// Re-wrap the data key under a new passphrase or key file (no data is rewritten).
    Rekey(BackupRekeyArgs),
}

/// Options of `backup create`.
#[derive(Debug, Args)]
pub struct BackupCreateArgs {
    /// Database directory, or the http(s):// URL of a running `tablesync
    /// serve` (backed up from its consistent snapshot, GET /v1/snapshot).
    pub dir: PathBuf,
    /// Repository: a directory, or a URL (s3://bucket/prefix, oss://…, gs://…, az://…).
    pub repo: String,
    /// Bearer token of the server (when DIR is a URL; a read-only token is enough).
    #[arg(long, env = "TABLESYNC_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// PEM file of the CA that signed an https:// server's certificate.
    #[arg(long, value_name = "PATH")]
    pub ca: Option<PathBuf>,
    /// Allow plain http:// to a server that is not on loopback.
    #[arg(long)]
    pub insecure_http: bool,
    /// Only this table (repeatable; default: every table).
    #[arg(long = "table", value_name = "TABLE")]
    pub tables: Vec<String>,
    /// Always take a full backup.
    #[arg(long)]
    pub full: bool,
    /// Keep shipping the change log every --interval (Litestream's model).
    #[arg(long)]
    pub continuous: bool,
    /// Interval of --continuous (e.g. 1s, 500ms, 2m).
    #[arg(long, default_value = "1s")]
    pub interval: String,
    /// Stop --continuous after this many rounds (default: until Ctrl-C).
    #[arg(long)]
    pub rounds: Option<u64>,
    /// Keys.
    #[command(flatten)]
    pub key: KeyArgs,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Options of `backup list`.
#[derive(Debug, Args)]
pub struct BackupRepoArgs {
    /// Repository: a directory, or a URL (s3://bucket/prefix, oss://…, gs://…, az://…).
    pub repo: String,
    /// Keys.
    #[command(flatten)]
    pub key: KeyArgs,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Options of `backup verify`.
#[derive(Debug, Args)]
pub struct BackupVerifyArgs {
    /// Repository: a directory, or a URL (s3://bucket/prefix, oss://…, gs://…, az://…).
    pub repo: String,
    /// Also replay every chain in memory and compare digests.
    #[arg(long)]
    pub deep: bool,
    /// Read only chunk subset n of t (`--sample 2/7`); t runs with n = 1…t cover everything.
    #[arg(long, value_name = "N/T")]
    pub sample: Option<String>,
    /// Keys.
    #[command(flatten)]
    pub key: KeyArgs,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Options of `backup prune`.
#[derive(Debug, Args)]
pub struct BackupPruneArgs {
    /// Repository: a directory, or a URL (s3://bucket/prefix, oss://…, gs://…, az://…).
    pub repo: String,
    /// Keep the newest N backups (and their chains).
    #[arg(long)]
    pub keep_last: Option<u32>,
    /// Keep the newest backup of each of the last N days that have one (UTC).
    #[arg(long)]
    pub keep_daily: Option<u32>,
    /// Show what would go; remove nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Keys.
    #[command(flatten)]
    pub key: KeyArgs,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Options of `backup rekey`.
#[derive(Debug, Args)]
pub struct BackupRekeyArgs {
    /// Repository: a directory, or a URL (s3://bucket/prefix, oss://…, gs://…, az://…).
    pub repo: String,
    /// The current key.
    #[command(flatten)]
    pub key: KeyArgs,
    /// New passphrase file.
    #[arg(long, value_name = "FILE", conflicts_with = "new_key_file")]
    pub new_passphrase_file: Option<PathBuf>,
    /// New key file.
    #[arg(long, value_name = "FILE")]
    pub new_key_file: Option<PathBuf>,
}

/// Options of `restore`.
#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// Repository: a directory, or a URL (s3://bucket/prefix, oss://…, gs://…, az://…).
    pub repo: String,
    /// Destination: a new database directory, or (with --table and --as) an existing one.
    pub dest: PathBuf,
    /// Restore this backup (id or unique prefix of at least 4 hex digits).
    #[arg(long, conflicts_with_all = ["at", "at_stamp"])]
    pub backup: Option<String>,
    /// Restore the state as of this UTC time (RFC 3339, e.g. 2026-12-01T10:00:00Z).
    #[arg(long, conflicts_with = "at_stamp")]
    pub at: Option<String>,
    /// Restore the state as of this HLC stamp.
    #[arg(long)]
    pub at_stamp: Option<u64>,
    /// Only this table (repeatable).
    #[arg(long = "table", value_name = "TABLE")]
    pub tables: Vec<String>,
    /// Restore the one --table under this name.
    #[arg(long = "as", value_name = "NAME", requires = "tables")]
    pub as_name: Option<String>,
    /// Keys.
    #[command(flatten)]
    pub key: KeyArgs,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}
