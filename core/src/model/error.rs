//! The one error type of the core. Each variant has a stable code.

/// Result alias used across the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Every error the core returns. [`Error::code`] gives the stable code;
/// row and table errors use Tablestore's codes.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
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
    /// The file system failed (`StorageIo`).
    #[error("StorageIo: {0}")]
    Io(String),
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
            Error::Io(_) => "StorageIo",
            Error::Locked(_) => "StorageLocked",
            Error::Closed => "DatabaseClosed",
            Error::Sync(_) => "SyncError",
            Error::BackupCorrupt(_) => "BackupCorrupt",
            Error::BackupKeyInvalid(_) => "BackupKeyInvalid",
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
            | Error::Io(m)
            | Error::Locked(m)
            | Error::Sync(m)
            | Error::BackupCorrupt(m)
            | Error::BackupKeyInvalid(m) => m.clone(),
            Error::Closed => "the database is closed".into(),
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
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Io(e.to_string())
    }
}
