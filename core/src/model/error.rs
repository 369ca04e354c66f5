//! The one error type of the core. Each variant has a stable code.

/// Result alias used across the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Every error the core returns. [`Error::code`] gives the stable code;
/// row and table errors use Tablestore's codes. New variants may come in
/// any release; bindings map them through [`Error::class`], which is exhaustive.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A request argument is invalid (`OTSParameterInvalid`).
    #[error("OTSParameterInvalid: {0}")]
    ParameterInvalid(String),
    /// A row or column condition did not hold (`OTSConditionCheckFail`).
    #[error("OTSConditionCheckFail: {0}")]
    ConditionCheckFail(String),
    /// The table does not exist (`OTSObjectNotExist`).
    #[error("OTSObjectNotExist: {0}")]
    ObjectNotExist(String),
    /// The table already exists (`OTSObjectAlreadyExist`).
    #[error("OTSObjectAlreadyExist: {0}")]
    ObjectAlreadyExist(String),
    /// The primary key does not match the schema (`OTSInvalidPK`).
    #[error("OTSInvalidPK: {0}")]
    InvalidPk(String),
    /// Too many columns in one write (`OTSOutOfColumnCountLimit`).
    #[error("OTSOutOfColumnCountLimit: {0}")]
    OutOfColumnCountLimit(String),
    /// A cell or row is too large (`OTSOutOfRowSizeLimit`).
    #[error("OTSOutOfRowSizeLimit: {0}")]
    OutOfRowSizeLimit(String),
    /// Stored or received bytes are damaged (`CorruptData`).
    #[error("CorruptData: {0}")]
    Corrupt(String),
    /// Bytes carry a format version this build does not understand (`UnsupportedVersion`).
    #[error("UnsupportedVersion: {0}")]
    UnsupportedVersion(String),
    /// Records needed to continue are no longer in the log (`LogGap`).
    #[error("LogGap: {0}")]
    LogGap(String),
    /// The file system failed (`StorageIo`): what was being done, and the
    /// operating system's error when there is one.
    #[error("StorageIo: {operation}{}", source.as_ref().map(|s| format!(": {}", s.0)).unwrap_or_default())]
    Io {
        /// What was being done, e.g. `syncing wal-…log`.
        operation: String,
        /// The underlying error.
        #[source]
        source: Option<IoSource>,
    },
    /// The region stopped accepting writes after a failed fsync; reopen it
    /// (`StorageStopped`). After a failed fsync the kernel may have dropped
    /// the dirty pages, so retrying the fsync could report success for lost data.
    #[error("StorageStopped: {0}")]
    Stopped(String),
    /// Another process holds the directory (`StorageLocked`).
    #[error("StorageLocked: {0}")]
    Locked(String),
    /// The database was closed (`DatabaseClosed`).
    #[error("DatabaseClosed: the database is closed")]
    Closed,
    /// A sync session failed (`SyncError`).
    #[error("SyncError: {0}")]
    Sync(String),
    /// A backup repository object is missing, damaged or inconsistent (`BackupCorrupt`).
    #[error("BackupCorrupt: {0}")]
    BackupCorrupt(String),
    /// A backup key, passphrase or key file does not open the repository (`BackupKeyInvalid`).
    #[error("BackupKeyInvalid: {0}")]
    BackupKeyInvalid(String),
    /// A request carried a cluster-map epoch older than the region's
    /// (`StaleClusterMap`): the client must fetch the current map and retry.
    #[error("StaleClusterMap: request map epoch {request_epoch}, current epoch {current_epoch}")]
    StaleClusterMap {
        /// The epoch the request was routed with.
        request_epoch: u64,
        /// The epoch the region holds.
        current_epoch: u64,
    },
    /// The peer is not allowed to do this (`Unauthorized`).
    #[error("Unauthorized: {0}")]
    Unauthorized(String),
    /// A request carried an epoch older than this region's (`StaleEpoch`).
    #[error("StaleEpoch: {0}")]
    StaleEpoch(String),
    /// A remote stamp lies further in the future than the allowed clock
    /// drift (`ClockDrift`); nothing was applied.
    #[error("ClockDrift: a stamp from '{origin}' reads {stamp_ms} ms, {} ms ahead of this region's clock ({now_ms} ms); the limit is {max_drift_ms} ms", stamp_ms.saturating_sub(*now_ms))]
    ClockDrift {
        /// Region the stamp came from (empty when unknown, e.g. a row state).
        origin: String,
        /// Milliseconds the stamp reads.
        stamp_ms: i64,
        /// This region's clock.
        now_ms: i64,
        /// The configured limit.
        max_drift_ms: i64,
    },
    /// A peer sent well-formed bytes that break the protocol's rules, e.g. a
    /// claim on this region's own records above its sequence
    /// (`PeerProtocolViolation`); nothing was applied.
    #[error("PeerProtocolViolation: {0}")]
    PeerViolation(String),
    /// A durable directory was opened as a region other than the one its
    /// manifest records (`RegionMismatch`); nothing was read or changed.
    #[error("RegionMismatch: {0}")]
    RegionMismatch(String),
    /// The caller's progress callback stopped a long operation
    /// (`Cancelled`), e.g. `copy_table`; the message says what was left behind.
    #[error("Cancelled: {0}")]
    Cancelled(String),
}

/// An operating-system error kept as the source of [`Error::Io`]; compares
/// by kind and text so that [`Error`] stays `Eq`.
#[derive(Clone, Debug)]
pub struct IoSource(pub std::sync::Arc<std::io::Error>);

impl PartialEq for IoSource {
    fn eq(&self, other: &Self) -> bool {
        self.0.kind() == other.0.kind() && self.0.to_string() == other.0.to_string()
    }
}

impl Eq for IoSource {}

impl std::fmt::Display for IoSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for IoSource {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.0)
    }
}

/// The families of errors, one per exception class in the bindings. This
/// enum is exhaustive on purpose: a binding matches every class, so a new
/// class breaks its build until it is mapped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorClass {
    /// Bad argument or limit breach.
    InvalidArgument,
    /// A condition did not hold.
    ConditionCheckFailed,
    /// The object does not exist.
    NotFound,
    /// The object already exists.
    AlreadyExists,
    /// Damaged bytes or an unknown format version.
    CorruptData,
    /// The file system failed or another process holds the directory.
    Storage,
    /// The region stopped after a failed fsync.
    StorageStopped,
    /// The database is closed.
    Closed,
    /// A sync session failed.
    Sync,
    /// Records needed were dropped from the log.
    LogGap,
    /// A remote stamp is too far in the future.
    ClockDrift,
    /// A peer broke the protocol.
    PeerViolation,
    /// The peer is not allowed to do this.
    Unauthorized,
    /// A request carried a stale epoch.
    StaleEpoch,
    /// A request was routed with an old cluster map.
    StaleClusterMap,
    /// The caller's callback cancelled the operation.
    Cancelled,
}

impl Error {
    /// The stable code, e.g. `OTSConditionCheckFail`.
    pub fn code(&self) -> &'static str {
        match self {
            Error::ParameterInvalid(_) => "OTSParameterInvalid",
            Error::ConditionCheckFail(_) => "OTSConditionCheckFail",
            Error::ObjectNotExist(_) => "OTSObjectNotExist",
            Error::ObjectAlreadyExist(_) => "OTSObjectAlreadyExist",
            Error::InvalidPk(_) => "OTSInvalidPK",
            Error::OutOfColumnCountLimit(_) => "OTSOutOfColumnCountLimit",
            Error::OutOfRowSizeLimit(_) => "OTSOutOfRowSizeLimit",
            Error::Corrupt(_) => "CorruptData",
            Error::UnsupportedVersion(_) => "UnsupportedVersion",
            Error::LogGap(_) => "LogGap",
            Error::Io { .. } => "StorageIo",
            Error::Stopped(_) => "StorageStopped",
            Error::Locked(_) => "StorageLocked",
            Error::Closed => "DatabaseClosed",
            Error::Sync(_) => "SyncError",
            Error::BackupCorrupt(_) => "BackupCorrupt",
            Error::BackupKeyInvalid(_) => "BackupKeyInvalid",
            Error::StaleClusterMap { .. } => "StaleClusterMap",
            Error::Unauthorized(_) => "Unauthorized",
            Error::StaleEpoch(_) => "StaleEpoch",
            Error::ClockDrift { .. } => "ClockDrift",
            Error::PeerViolation(_) => "PeerProtocolViolation",
            Error::RegionMismatch(_) => "RegionMismatch",
            Error::Cancelled(_) => "Cancelled",
        }
    }

    /// The family this error belongs to (one exception class per family in the bindings).
    pub fn class(&self) -> ErrorClass {
        match self {
            Error::ParameterInvalid(_)
            | Error::InvalidPk(_)
            | Error::OutOfColumnCountLimit(_)
            | Error::OutOfRowSizeLimit(_) => ErrorClass::InvalidArgument,
            Error::ConditionCheckFail(_) => ErrorClass::ConditionCheckFailed,
            Error::ObjectNotExist(_) => ErrorClass::NotFound,
            Error::ObjectAlreadyExist(_) => ErrorClass::AlreadyExists,
            Error::Corrupt(_) | Error::UnsupportedVersion(_) | Error::BackupCorrupt(_) => {
                ErrorClass::CorruptData
            }
            Error::BackupKeyInvalid(_) | Error::RegionMismatch(_) => ErrorClass::InvalidArgument,
            Error::Io { .. } | Error::Locked(_) => ErrorClass::Storage,
            Error::Stopped(_) => ErrorClass::StorageStopped,
            Error::Closed => ErrorClass::Closed,
            Error::Sync(_) => ErrorClass::Sync,
            Error::LogGap(_) => ErrorClass::LogGap,
            Error::ClockDrift { .. } => ErrorClass::ClockDrift,
            Error::PeerViolation(_) => ErrorClass::PeerViolation,
            Error::Unauthorized(_) => ErrorClass::Unauthorized,
            Error::StaleEpoch(_) => ErrorClass::StaleEpoch,
            Error::StaleClusterMap { .. } => ErrorClass::StaleClusterMap,
            Error::Cancelled(_) => ErrorClass::Cancelled,
        }
    }

    /// The message without the code.
    pub fn message(&self) -> String {
        match self {
            Error::ParameterInvalid(m)
            | Error::ConditionCheckFail(m)
            | Error::ObjectNotExist(m)
            | Error::ObjectAlreadyExist(m)
            | Error::InvalidPk(m)
            | Error::OutOfColumnCountLimit(m)
            | Error::OutOfRowSizeLimit(m)
            | Error::Corrupt(m)
            | Error::UnsupportedVersion(m)
            | Error::LogGap(m)
            | Error::Locked(m)
            | Error::Stopped(m)
            | Error::Unauthorized(m)
            | Error::StaleEpoch(m)
            | Error::PeerViolation(m)
            | Error::Sync(m)
            | Error::BackupCorrupt(m)
            | Error::BackupKeyInvalid(m)
            | Error::RegionMismatch(m)
            | Error::Cancelled(m) => m.clone(),
            Error::Closed => "the database is closed".into(),
            Error::StaleClusterMap {
                request_epoch,
                current_epoch,
            } => format!(
                "request map epoch {request_epoch}, current epoch {current_epoch}: refresh the cluster map"
            ),
            Error::Io { .. } | Error::ClockDrift { .. } => {
                let full = self.to_string();
                full.split_once(": ")
                    .map_or(full.clone(), |(_, m)| m.to_string())
            }
        }
    }

    /// Shorthand for [`Error::ParameterInvalid`].
    pub fn invalid(msg: impl Into<String>) -> Self {
        Error::ParameterInvalid(msg.into())
    }

    /// Shorthand for [`Error::Corrupt`].
    pub fn corrupt(msg: impl Into<String>) -> Self {
        Error::Corrupt(msg.into())
    }

    /// An [`Error::Io`]: `operation` failed with `source`.
    pub fn io(operation: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            operation: operation.into(),
            source: Some(IoSource(std::sync::Arc::new(source))),
        }
    }

    /// An [`Error::Io`] without an operating-system error behind it.
    pub fn io_msg(operation: impl Into<String>) -> Self {
        Error::Io {
            operation: operation.into(),
            source: None,
        }
    }

    /// Shorthand for [`Error::PeerViolation`].
    pub fn peer(msg: impl Into<String>) -> Self {
        Error::PeerViolation(msg.into())
    }

    /// The operating system's error kind behind an [`Error::Io`], if any.
    pub fn io_kind(&self) -> Option<std::io::ErrorKind> {
        match self {
            Error::Io {
                source: Some(s), ..
            } => Some(s.0.kind()),
            _ => None,
        }
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::io("I/O", e)
    }
}
