//! Session options, with their defaults, and the execution providers they name.

use ort::ep::{self, ExecutionProvider};

use crate::error::{Error, ErrorCode, Result};
use crate::runtime::{available_providers, Runtime};

/// ONNX Runtime's graph optimisation levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OptimizationLevel {
    Disable,
    Basic,
    Extended,
    #[default]
    All,
}

impl OptimizationLevel {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "disable" => Self::Disable,
            "basic" => Self::Basic,
            "extended" => Self::Extended,
            "all" => Self::All,
            _ => return None,
        })
    }

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Disable => "disable",
            Self::Basic => "basic",
            Self::Extended => "extended",
            Self::All => "all",
        }
    }

    pub(crate) fn to_ort(self) -> ort::session::builder::GraphOptimizationLevel {
        use ort::session::builder::GraphOptimizationLevel as L;
        match self {
            Self::Disable => L::Disable,
            Self::Basic => L::Level1,
            Self::Extended => L::Level2,
            Self::All => L::All,
        }
    }
}

/// Most sessions one model may hold.
pub const MAX_SESSIONS: usize = 64;
/// Most threads per ORT thread pool.
pub const MAX_THREADS: usize = 1024;

/// How a model's sessions are set up. `Default` is the documented default of every field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelOptions {
    /// Threads one run may use inside an operator. Default 1: on a small box the callers (libuv
    /// workers) are the parallelism; 0 lets ONNX Runtime pick (one per physical core).
    pub intra_op_threads: usize,
    /// Threads for running independent graph branches at once. Default 1; 0 lets ORT pick.
    pub inter_op_threads: usize,
    /// Default `All`.
    pub optimization: OptimizationLevel,
    /// In order of preference; default `["cpu"]`. Names: `cpu`, `cuda`.
    pub execution_providers: Vec<String>,
    /// Sessions in the pool: runs in flight at once. Default 1, at most [`MAX_SESSIONS`].
    pub sessions: usize,
    /// Default true: string inputs that feed only a one-hot encoder are fed to ONNX Runtime as
    /// integer codes (the graph is rewritten at load; callers still pass strings). False keeps
    /// the graph as it is, to compare or to rule the rewrite out.
    pub categorical_codes: bool,
}

impl Default for ModelOptions {
    fn default() -> Self {
        Self {
            intra_op_threads: 1,
            inter_op_threads: 1,
            optimization: OptimizationLevel::All,
            execution_providers: vec!["cpu".to_owned()],
            sessions: 1,
            categorical_codes: true,
        }
    }
}

impl ModelOptions {
    pub(crate) fn validate(&self) -> Result<()> {
        let bad = |msg: String| Err(Error::new(ErrorCode::InvalidOption, msg));
        if self.sessions == 0 || self.sessions > MAX_SESSIONS {
            return bad(format!("sessions must be between 1 and {MAX_SESSIONS}, got {}", self.sessions));
        }
        if self.intra_op_threads > MAX_THREADS {
            return bad(format!(
                "intraOpThreads must be at most {MAX_THREADS}, got {}",
                self.intra_op_threads
            ));
        }
        if self.inter_op_threads > MAX_THREADS {
            return bad(format!(
                "interOpThreads must be at most {MAX_THREADS}, got {}",
                self.inter_op_threads
            ));
        }
        if self.execution_providers.is_empty() {
            return bad("executionProviders must name at least one provider (e.g. [\"cpu\"])".to_owned());
        }
        Ok(())
    }
}

/// Execution providers ortline knows how to register: (its name, ONNX Runtime's name).
const KNOWN: &[(&str, &str)] = &[("cpu", ep::CPU::NAME), ("cuda", ep::CUDA::NAME)];

/// Short names for ORT's provider names, for messages.
fn short_name(ort_name: &str) -> String {
    if let Some((short, _)) = KNOWN.iter().find(|(_, o)| *o == ort_name) {
        return (*short).to_owned();
    }
    let base = ort_name.strip_suffix("ExecutionProvider").unwrap_or(ort_name);
    base.to_ascii_lowercase()
}

/// What the library has and what ortline can use of it, for messages.
pub(crate) fn describe_providers(available: &[String], runtime: &Runtime) -> String {
    let have: Vec<String> = available.iter().map(|a| short_name(a)).collect();
    let usable: Vec<&str> =
        KNOWN.iter().filter(|(_, o)| available.iter().any(|a| a == o)).map(|(s, _)| *s).collect();
    format!(
        "ONNX Runtime {} ({}) has {}; ortline can use {}",
        runtime.version(),
        runtime.library().display(),
        have.join(", "),
        usable.join(", ")
    )
}

/// Resolves provider names to registrations, checking each against what this ONNX Runtime has.
pub(crate) fn execution_providers(
    names: &[String],
    runtime: &Runtime,
) -> Result<Vec<ep::ExecutionProviderDispatch>> {
    let mut available: Option<Vec<String>> = None;
    let mut out = Vec::with_capacity(names.len());
    for name in names {
        if name == "cpu" {
            out.push(ep::CPU::default().with_arena_allocator(true).build().error_on_failure());
            continue;
        }
        let available = match &available {
            Some(a) => a,
            None => available.insert(available_providers()?),
        };
        let known = KNOWN.iter().find(|(short, _)| short == name);
        match known {
            Some((_, ort_name)) if available.iter().any(|a| a == ort_name) => {
                // cuda is the only known provider besides cpu, which is handled above.
                out.push(ep::CUDA::default().build().error_on_failure());
            }
            _ => {
                return Err(Error::new(
                    ErrorCode::EpUnavailable,
                    format!(
                        "execution provider \"{name}\" is not available: {}",
                        describe_providers(available, runtime)
                    ),
                ));
            }
        }
    }
    Ok(out)
}
