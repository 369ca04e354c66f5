//! The two sides of `sync` and `verify`: directories or an HTTP server, who
//! initiates, and a session loop that shows its progress.

use crate::error::{CliError, CliResult};
use crate::open::{open_existing, open_or_create, random_u64};
use crate::progress;
use indicatif::HumanBytes;
use std::path::{Path, PathBuf};
use tablesync::sync::{respond, Initiator, SessionStep, SyncConfig, SyncDirection, SyncReport};
use tablesync::{Database, SyncPolicy};
use tablesync_http::{ClientOptions, HttpRemote};

/// One side as given on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Side {
    /// A database directory.
    Dir(PathBuf),
    /// The base URL of a `tablesync serve` server.
    Url(String),
}

impl Side {
    /// Read a command-line side: `http://…` is a server, anything else a directory.
    pub fn parse(s: &str) -> CliResult<Side> {
        let lower = s.to_ascii_lowercase();
        if let Some(scheme) = ["http://", "https://"]
            .into_iter()
            .find(|p| lower.starts_with(p))
        {
            if s.len() <= scheme.len() {
                return Err(CliError::arg(format!("{s:?} names no host")));
            }
            Ok(Side::Url(s.to_string()))
        } else if s.is_empty() {
            Err(CliError::arg(
                "an empty side: give a directory or an http:// URL",
            ))
        } else {
            Ok(Side::Dir(PathBuf::from(s)))
        }
    }
}

/// The responding side of a session.
pub enum Remote {
    /// Another directory, opened in this process.
    Dir(Box<Database>),
    /// A server.
    Http(HttpRemote),
}

/// Both sides opened, with the initiator chosen.
pub struct Opened {
    /// The initiating region (always a directory).
    pub initiator: Database,
    /// The other side.
    pub remote: Remote,
    /// True when DST initiates because SRC is a server.
    pub swapped: bool,
    /// Region of SRC, when it is a directory.
    pub src_region: Option<String>,
    /// Region of DST, when it is a directory.
    pub dst_region: Option<String>,
}

impl Opened {
    /// Flush and close every directory opened.
    pub fn close(mut self) -> CliResult<()> {
        self.initiator.close()?;
        if let Remote::Dir(db) = &mut self.remote {
            db.close()?;
        }
        Ok(())
    }
}

/// How to open a directory side.
#[derive(Clone, Copy)]
pub enum Create {
    /// The directory must exist.
    Never,
    /// A missing DST directory is created (a new replica).
    Dst,
}

fn same_dir(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

/// Open SRC and DST. `region` (`--region`) may only name the region of a
/// lone directory side.
pub fn open_sides(
    src: &Side,
    dst: &Side,
    token: Option<&str>,
    client: &ClientOptions,
    region: Option<&str>,
    sync: SyncPolicy,
    create: Create,
) -> CliResult<Opened> {
    let open_dst = |dir: &Path, region: Option<&str>| match create {
        Create::Never => open_existing(dir, region, sync),
        Create::Dst => open_or_create(dir, region, sync),
    };
    let http = |url: &str| -> CliResult<HttpRemote> {
        let token = token.filter(|t| !t.is_empty()).ok_or_else(|| {
            CliError::arg(format!(
                "{url} is a server: pass --token TOKEN or set TABLESYNC_TOKEN"
            ))
        })?;
        Ok(HttpRemote::with_options(url, token, client)?)
    };
    match (src, dst) {
        (Side::Url(_), Side::Url(_)) => Err(CliError::arg(
            "both sides are URLs: one side must be a directory (a server cannot initiate a session)",
        )),
        (Side::Dir(a), Side::Dir(b)) => {
            if region.is_some() {
                return Err(CliError::arg(
                    "--region names one directory's region; with two directories each keeps its own (recorded in its MANIFEST)",
                ));
            }
            if same_dir(a, b) {
                return Err(CliError::arg(format!(
                    "SRC and DST are the same directory ({})",
                    a.display()
                )));
            }
            let initiator = open_existing(a, None, sync)?;
            let remote = open_dst(b, None)?;
            if initiator.region() == remote.region() {
                return Err(CliError::arg(format!(
                    "SRC and DST are both region '{}' (a copied directory keeps its MANIFEST); sync needs two different regions",
                    remote.region()
                )));
            }
            Ok(Opened {
                src_region: Some(initiator.region().to_string()),
                dst_region: Some(remote.region().to_string()),
                initiator,
                remote: Remote::Dir(Box::new(remote)),
                swapped: false,
            })
        }
        (Side::Dir(a), Side::Url(u)) => {
            let remote = http(u)?;
            let initiator = open_existing(a, region, sync)?;
            Ok(Opened {
                src_region: Some(initiator.region().to_string()),
                dst_region: None,
                initiator,
                remote: Remote::Http(remote),
                swapped: false,
            })
        }
        (Side::Url(u), Side::Dir(b)) => {
            let remote = http(u)?;
            let initiator = open_dst(b, region)?;
            Ok(Opened {
                src_region: None,
                dst_region: Some(initiator.region().to_string()),
                initiator,
                remote: Remote::Http(remote),
                swapped: true,
            })
        }
    }
}

/// The direction the initiator asks for, given the one seen from SRC.
pub fn initiator_direction(from_src: SyncDirection, swapped: bool) -> SyncDirection {
    match (from_src, swapped) {
        (d, false) => d,
        (SyncDirection::Pull, true) => SyncDirection::Push,
        (SyncDirection::Push, true) => SyncDirection::Pull,
        (SyncDirection::Both, true) => SyncDirection::Both,
    }
}

/// A fresh session id from the operating system's randomness.
pub fn session_id() -> CliResult<u64> {
    random_u64()
}

impl Remote {
    /// Carry one request frame to the responder and return its reply.
    pub fn exchange(&mut self, frame: &[u8], cap: usize) -> tablesync::Result<Vec<u8>> {
        match self {
            Remote::Dir(other) => respond(other, frame, cap),
            Remote::Http(server) => server.round_trip(frame, cap),
        }
    }
}

/// Carries a request frame (with the frame cap) and returns the reply.
pub type Transport<'a> = dyn FnMut(&[u8], usize) -> tablesync::Result<Vec<u8>> + 'a;

/// Run one session, drawing a spinner with the round trips and bytes so far.
pub fn run_session(
    db: &mut Database,
    transport: &mut Transport,
    config: SyncConfig,
    what: &str,
) -> CliResult<SyncReport> {
    let cap = config.max_frame_bytes;
    let bar = progress::session(what);
    let mut session = Initiator::new(config);
    let (mut sent, mut received, mut trips) = (0u64, 0u64, 0u32);
    let mut step = session.start(db)?;
    let report = loop {
        match step {
            SessionStep::Send(bytes) => {
                sent += bytes.len() as u64;
                bar.set_message(format!(
                    "round trip {}, {} sent, {} received",
                    trips + 1,
                    HumanBytes(sent),
                    HumanBytes(received)
                ));
                let reply = transport(&bytes, cap)?;
                received += reply.len() as u64;
                trips += 1;
                step = session.receive(db, &reply)?;
            }
            SessionStep::Done(report) => break report,
        }
    };
    bar.finish_and_clear();
    Ok(report)
}

/// How `sync` and `verify` reach a server: `--ca`, `--insecure-http`.
pub fn client_options(ca: Option<std::path::PathBuf>, insecure_http: bool) -> ClientOptions {
    ClientOptions {
        ca_file: ca,
        insecure_http,
        ..ClientOptions::default()
    }
}
