//! One error type with a stable code per failure, so every layer above (the napi binding, the
//! TypeScript API, the gateway's HTTP mapping) can branch on the code and show the message.

use std::fmt;

/// The stable, machine-readable reason for an [`Error`]. `as_str` is the code JavaScript sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// A feed names no input of the model, or more feeds than inputs were given.
    UnknownInput,
    /// An input of the model has no feed.
    MissingInput,
    /// A feed's element type is not the input's.
    InputTypeMismatch,
    /// A feed's length is not rows x the input's static non-batch dims.
    InputShapeMismatch,
    /// The row count is not usable (too large for the model's batch dimension).
    InvalidRows,
    /// The model has an input or output ortline cannot feed or return (dynamic non-batch dims,
    /// sequences, maps).
    UnsupportedInput,
    /// The model file does not exist (or is not a file).
    ModelFileNotFound,
    /// The model bytes are not a model ONNX Runtime can load.
    ModelInvalid,
    /// An option is out of range or unknown.
    InvalidOption,
    /// An execution provider was asked for that this ONNX Runtime does not have.
    EpUnavailable,
    /// The model was closed.
    ModelClosed,
    /// The run was aborted through its [`crate::RunControl`].
    RunAborted,
    /// ONNX Runtime failed the run.
    RunFailed,
    /// No ONNX Runtime library was found where ortline looked.
    OrtLibraryNotFound,
    /// A library was found but is not a usable ONNX Runtime (not ORT, too old, unloadable).
    OrtLibraryIncompatible,
    /// A bug in ortline (a caught panic). Never expected.
    Internal,
}

impl ErrorCode {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::UnknownInput => "UNKNOWN_INPUT",
            Self::MissingInput => "MISSING_INPUT",
            Self::InputTypeMismatch => "INPUT_TYPE_MISMATCH",
            Self::InputShapeMismatch => "INPUT_SHAPE_MISMATCH",
            Self::InvalidRows => "INVALID_ROWS",
            Self::UnsupportedInput => "UNSUPPORTED_INPUT",
            Self::ModelFileNotFound => "MODEL_FILE_NOT_FOUND",
            Self::ModelInvalid => "MODEL_INVALID",
            Self::InvalidOption => "INVALID_OPTION",
            Self::EpUnavailable => "EP_UNAVAILABLE",
            Self::ModelClosed => "MODEL_CLOSED",
            Self::RunAborted => "RUN_ABORTED",
            Self::RunFailed => "RUN_FAILED",
            Self::OrtLibraryNotFound => "ORT_LIBRARY_NOT_FOUND",
            Self::OrtLibraryIncompatible => "ORT_LIBRARY_INCOMPATIBLE",
            Self::Internal => "INTERNAL_ERROR",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A value of an error's structured details.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Detail {
    Str(String),
    Int(i64),
}

impl From<&str> for Detail {
    fn from(s: &str) -> Self {
        Self::Str(s.to_owned())
    }
}

impl From<String> for Detail {
    fn from(s: String) -> Self {
        Self::Str(s)
    }
}

impl From<usize> for Detail {
    fn from(n: usize) -> Self {
        Self::Int(i64::try_from(n).unwrap_or(i64::MAX))
    }
}

impl From<i64> for Detail {
    fn from(n: i64) -> Self {
        Self::Int(n)
    }
}

/// An ortline failure: a code to branch on, a message for people that names what failed (the
/// input, the file, the option), and the same facts as structured details (`input`, `expected`,
/// `got`, `index`, ...) for programs, so that no layer above has to parse the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    code: ErrorCode,
    message: String,
    details: Vec<(&'static str, Detail)>,
}

impl Error {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self { code, message: message.into(), details: Vec::new() }
    }

    /// Adds one detail (builder style).
    pub fn with(mut self, key: &'static str, value: impl Into<Detail>) -> Self {
        self.details.push((key, value.into()));
        self
    }

    pub fn code(&self) -> ErrorCode {
        self.code
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    pub fn details(&self) -> &[(&'static str, Detail)] {
        &self.details
    }

    /// The value of detail `key`, if it has one.
    pub fn detail(&self, key: &str) -> Option<&Detail> {
        self.details.iter().find(|(k, _)| *k == key).map(|(_, v)| v)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for Error {}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Turns a caught panic payload into an [`ErrorCode::Internal`] error.
pub(crate) fn from_panic(what: &str, payload: Box<dyn std::any::Any + Send>) -> Error {
    let detail = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_owned());
    Error::new(ErrorCode::Internal, format!("{what} panicked: {detail}"))
}

/// Runs `f`, turning a panic into an [`ErrorCode::Internal`] error: nothing below ortline's public
/// API may unwind into a caller (a panic across the napi boundary aborts Node).
pub fn catch_panic<T>(what: &str, f: impl FnOnce() -> Result<T>) -> Result<T> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(payload) => Err(from_panic(what, payload)),
    }
}
