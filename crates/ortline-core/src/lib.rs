//! ortline's core: ONNX Runtime (through the `ort` crate, loaded at run time) for batched
//! tabular scoring. Knows nothing of Node; `ortline-node` only converts types to and from it.
//!
//! ```no_run
//! use ortline_core::{runtime, Candidate, Input, Model};
//! # fn main() -> ortline_core::Result<()> {
//! let rt = runtime::init(&[Candidate::new("/usr/lib/libonnxruntime.so.1", "example", true)])?;
//! let model = Model::builder(&rt).with_sessions(2).commit_from_file("model.onnx")?;
//! let x = [1.0f32, 2.0, 3.0];
//! let outputs = model.run(&[Input::Float32(&x)], 1)?;
//! # Ok(()) }
//! ```
//!
//! Shape of the API (ort's): a builder, then `commit_*`; a [`Result`] alias over one [`Error`]
//! carrying a stable [`ErrorCode`].

mod categorical;
mod error;
mod ffi;
mod model;
mod onnx_header;
mod options;
mod plan;
pub mod runtime;
mod tensor;

pub use error::{catch_panic, Detail, Error, ErrorCode, Result};
pub use model::{Model, ModelBuilder, ModelMetadata, RunControl};
pub use options::{ModelOptions, OptimizationLevel, MAX_SESSIONS, MAX_THREADS};
pub use plan::{Batch, InputPlan, MAX_ROWS};
pub use runtime::{Candidate, Runtime};
pub use tensor::{ElementType, Input, Output, StringColumn, Strings, StringsRef, TensorData, TensorInfo};
