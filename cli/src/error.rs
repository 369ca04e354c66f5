//! The CLI's error: a stable code and a one-line message.
//!
//! Every failure ends as one line on stderr, `error: CODE: message`, and a
//! non-zero exit status. Core errors keep their own codes
//! (`OTSConditionCheckFail`, `StorageLocked`, …); errors found by the CLI
//! itself use the codes below.

use std::fmt;

/// A bad command-line argument (value syntax, type, bound).
pub const INVALID_ARGUMENT: &str = "OTSParameterInvalid";
/// A malformed line or field in a file given to `import`.
pub const INVALID_INPUT: &str = "InvalidInput";
/// A file outside the database could not be read or written.
pub const FILE_IO: &str = "FileIo";
/// Clap rejected the command line.
pub const USAGE: &str = "UsageError";
/// The demo found a result that contradicts what it just did.
pub const DEMO_CHECK: &str = "DemoCheckFailed";

/// An error the CLI reports and exits on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CliError {
    /// Stable code, e.g. `OTSParameterInvalid`.
    pub code: &'static str,
    /// What went wrong, one line.
    pub message: String,
}

impl CliError {
    /// An error with a code and message.
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        CliError {
            code,
            message: message.into(),
        }
    }

    /// A bad argument.
    pub fn arg(message: impl Into<String>) -> Self {
        Self::new(INVALID_ARGUMENT, message)
    }

    /// Malformed import input.
    pub fn input(message: impl Into<String>) -> Self {
        Self::new(INVALID_INPUT, message)
    }

    /// Prefix the message with where it happened (a line number, a file).
    pub fn context(mut self, what: impl fmt::Display) -> Self {
        self.message = format!("{what}: {}", self.message);
        self
    }

    /// The single line printed to stderr (newlines in messages are flattened).
    pub fn line(&self) -> String {
        let msg = self.message.replace(['\n', '\r'], " ");
        format!("error: {}: {}", self.code, msg)
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for CliError {}

impl From<tablesync::Error> for CliError {
    fn from(e: tablesync::Error) -> Self {
        CliError::new(e.code(), e.message())
    }
}

/// Wrap a file-system error with the path it concerns.
pub fn file_error(path: &std::path::Path, e: impl fmt::Display) -> CliError {
    CliError::new(FILE_IO, format!("{}: {e}", path.display()))
}

/// Result alias for CLI code.
pub type CliResult<T> = Result<T, CliError>;
