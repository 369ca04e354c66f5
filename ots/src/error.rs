//! Errors as the service reports them: an HTTP status, a code and a message,
//! sent as the `Error` protobuf.

use crate::plainbuffer::DecodeError;
use tablesync::Error as CoreError;

/// A service error: what the SDK raises as `OTSServiceError`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{status} {code}: {message}")]
pub struct OtsError {
    /// HTTP status.
    pub status: u16,
    /// The service's error code, e.g. `OTSConditionCheckFail`.
    pub code: &'static str,
    /// The message.
    pub message: String,
}

/// Result alias of the protocol layer.
pub type OtsResult<T> = Result<T, OtsError>;

impl OtsError {
    /// An error with a status, code and message.
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        OtsError {
            status,
            code,
            message: message.into(),
        }
    }
    /// `OTSParameterInvalid` (400).
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(400, "OTSParameterInvalid", message)
    }
    /// `OTSAuthFailed` (403).
    pub fn auth(message: impl Into<String>) -> Self {
        Self::new(403, "OTSAuthFailed", message)
    }
    /// `OTSConditionCheckFail` (403) with the service's message.
    pub fn condition_failed() -> Self {
        Self::new(403, "OTSConditionCheckFail", "Condition check failed.")
    }
    /// `OTSObjectNotExist` (404) for a missing table.
    pub fn table_missing() -> Self {
        Self::new(404, "OTSObjectNotExist", "Requested table does not exist.")
    }
    /// `OTSUnsupportOperation` (400): an API or option this server does not implement.
    pub fn unsupported(message: impl Into<String>) -> Self {
        Self::new(400, "OTSUnsupportOperation", message)
    }
}

impl From<DecodeError> for OtsError {
    fn from(e: DecodeError) -> Self {
        OtsError::invalid(format!("Invalid plain buffer: {e}."))
    }
}

impl From<prost::DecodeError> for OtsError {
    fn from(e: prost::DecodeError) -> Self {
        OtsError::invalid(format!("Failed to parse the ProtoBuf message: {e}."))
    }
}

impl From<CoreError> for OtsError {
    fn from(e: CoreError) -> Self {
        match e {
            CoreError::ConditionCheckFail(_) => OtsError::condition_failed(),
            CoreError::ObjectNotExist(_) => OtsError::table_missing(),
            CoreError::ObjectAlreadyExist(_) => OtsError::new(
                409,
                "OTSObjectAlreadyExist",
                "Requested table already exists.",
            ),
            CoreError::ParameterInvalid(m) | CoreError::InvalidPk(m) => OtsError::invalid(m),
            CoreError::OutOfColumnCountLimit(m) => {
                OtsError::new(400, "OTSOutOfColumnCountLimit", m)
            }
            CoreError::OutOfRowSizeLimit(m) => OtsError::new(400, "OTSOutOfRowSizeLimit", m),
            CoreError::Closed => {
                OtsError::new(503, "OTSServerUnavailable", "The database is closed.")
            }
            other => OtsError::new(
                500,
                "OTSInternalServerError",
                format!("{}: {}", other.code(), other.message()),
            ),
        }
    }
}
