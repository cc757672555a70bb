//! Node.js bindings for ortline-core: JavaScript values in, core types out, and back. No logic of
//! its own beyond that. Used through packages/scorer (src/native.ts, src/model.ts), which
//! validates arguments first; this layer still checks every value it converts.
//!
//! Errors: every failure of the core is a JS `Error` with `code` (one of
//! [`ortline_core::ErrorCode::as_str`]), `message`, and `details` (an object of the core error's
//! structured details), built in `error.rs`. Async tasks keep the core error until `reject`,
//! where there is an env to build it, so sync and async calls throw the same shape.
//!
//! Nothing here may panic across the FFI line: every call into the core goes through
//! `catch_panic`.

#![deny(clippy::all)]

mod convert;
mod error;

use std::sync::Arc;

use napi::bindgen_prelude::*;
use napi_derive::napi;
use ortline_core::{
    catch_panic, runtime, Batch, Candidate, ElementType, ErrorCode, Model, ModelOptions, OptimizationLevel,
    RunControl,
};

use crate::convert::{JoinedStrings, JsFeeds, PinnedFeed, RunOutputs};
use crate::error::to_js;

/// The most rows one run takes (the core's limit, the same for every caller).
#[napi]
pub const MAX_ROWS: u32 = ortline_core::MAX_ROWS as u32;

/// How one input is fed: the core's input plan, the one contract the layers above read.
#[napi(object)]
pub struct NativeInputPlan {
    pub name: String,
    #[napi(js_name = "type")]
    pub ty: String,
    /// `rows`: the first dimension is the row count; `fixed`: it is `fixedRows`; `scalar`: rank 0.
    #[napi(ts_type = "'rows' | 'fixed' | 'scalar'")]
    pub batch: String,
    pub fixed_rows: Option<i64>,
    /// The static non-batch dimensions (empty when the input cannot be fed).
    pub dims: Vec<i64>,
    /// Values per row: the product of `dims`.
    pub width: u32,
    /// The JS value a feed of it is: a typed array class name, or `string` (a string[]).
    pub js_type: String,
    /// Why it cannot be fed, or null when it can.
    pub unsupported: Option<String>,
    /// A string input the graph takes as integer codes: its categories (code i is the i-th).
    /// Its feed entry is then a count, its codes in the run's codes buffer.
    pub categories: Option<Vec<String>>,
}

/// Where ONNX Runtime may be, in the order to try (the TypeScript loader builds the list).
#[napi(object)]
pub struct LibraryCandidate {
    pub path: String,
    /// For messages: `ortLibraryPath option`, `ORT_DYLIB_PATH`, `onnxruntime-node`.
    pub source: String,
    /// An explicit setting: when missing, the search stops with ORT_LIBRARY_NOT_FOUND.
    pub explicit: bool,
}

/// Every option, already defaulted and validated by the TypeScript layer.
#[napi(object)]
pub struct NativeOptions {
    pub intra_op_threads: u32,
    pub inter_op_threads: u32,
    /// `disable` | `basic` | `extended` | `all`
    pub graph_optimization_level: String,
    pub execution_providers: Vec<String>,
    pub sessions: u32,
    pub categorical_codes: bool,
}

#[napi(object)]
pub struct NativeTensorInfo {
    pub name: String,
    #[napi(js_name = "type")]
    pub ty: String,
    /// `null` for a dynamic dimension.
    pub shape: Vec<Option<i64>>,
}

#[napi(object)]
pub struct NativeMetadata {
    pub producer_name: String,
    pub producer_version: String,
    pub graph_name: String,
    pub domain: String,
    pub description: String,
    pub version: i64,
    /// `metadata_props` as [key, value] pairs, sorted by key.
    pub custom: Vec<Vec<String>>,
}

#[napi(object)]
pub struct OrtInfo {
    pub library: String,
    pub version: String,
}

/// The ONNX Runtime this process loaded, or null before the first model load.
#[napi]
pub fn ort_info() -> Option<OrtInfo> {
    runtime::Runtime::current()
        .map(|rt| OrtInfo { library: rt.library().display().to_string(), version: rt.version().to_owned() })
}

fn to_core_options(o: &NativeOptions) -> ortline_core::Result<ModelOptions> {
    let optimization = OptimizationLevel::parse(&o.graph_optimization_level).ok_or_else(|| {
        ortline_core::Error::new(
            ErrorCode::InvalidOption,
            format!(
                "graphOptimizationLevel must be one of disable, basic, extended, all; got {:?}",
                o.graph_optimization_level
            ),
        )
    })?;
    Ok(ModelOptions {
        intra_op_threads: o.intra_op_threads as usize,
        inter_op_threads: o.inter_op_threads as usize,
        optimization,
        execution_providers: o.execution_providers.clone(),
        sessions: o.sessions as usize,
        categorical_codes: o.categorical_codes,
    })
}

enum Source {
    Path(String),
    /// Pinned: the JS buffer stays alive (and is read in place) until the task settles.
    Bytes(Uint8Array),
}

fn load(
    source: &Source,
    options: &NativeOptions,
    candidates: &[LibraryCandidate],
) -> ortline_core::Result<Model> {
    catch_panic("loading the model", || {
        let options = to_core_options(options)?;
        let candidates: Vec<Candidate> =
            candidates.iter().map(|c| Candidate::new(&c.path, c.source.clone(), c.explicit)).collect();
        let rt = runtime::init(&candidates)?;
        let builder = Model::builder(&rt).with_options(options);
        match source {
            Source::Path(p) => builder.commit_from_file(p),
            Source::Bytes(b) => builder.commit_from_memory(b),
        }
    })
}

fn source_of(source: Either<String, Uint8Array>) -> Source {
    match source {
        Either::A(path) => Source::Path(path),
        Either::B(bytes) => Source::Bytes(bytes),
    }
}

pub struct LoadTask {
    source: Source,
    options: NativeOptions,
    candidates: Vec<LibraryCandidate>,
    failure: Option<ortline_core::Error>,
}

/// What `compute` returns for a core failure it kept for `reject`.
fn kept() -> Error {
    Error::new(Status::GenericFailure, "ortline: failure kept for reject")
}

impl Task for LoadTask {
    type Output = Model;
    type JsValue = NativeModel;

    fn compute(&mut self) -> Result<Model> {
        load(&self.source, &self.options, &self.candidates).map_err(|e| {
            self.failure = Some(e);
            kept()
        })
    }

    fn resolve(&mut self, _env: Env, model: Model) -> Result<NativeModel> {
        Ok(NativeModel::new(model))
    }

    fn reject(&mut self, env: Env, err: Error) -> Result<NativeModel> {
        Err(self.failure.take().map_or(err, |e| to_js(env.raw(), &e)))
    }
}

/// Loads a model on the libuv thread pool (ONNX Runtime itself first, when this is the first
/// load): `source` is a file path or the model's bytes.
#[napi(ts_return_type = "Promise<NativeModel>")]
pub fn load_model(
    source: Either<String, Uint8Array>,
    options: NativeOptions,
    library: Vec<LibraryCandidate>,
) -> AsyncTask<LoadTask> {
    AsyncTask::new(LoadTask { source: source_of(source), options, candidates: library, failure: None })
}

#[napi]
pub fn load_model_sync(
    env: Env,
    source: Either<String, Uint8Array>,
    options: NativeOptions,
    library: Vec<LibraryCandidate>,
) -> Result<NativeModel> {
    load(&source_of(source), &options, &library).map(NativeModel::new).map_err(|e| to_js(env.raw(), &e))
}

/// Ends a run in flight when aborted (the TypeScript layer calls `abort` from an AbortSignal's
/// `abort` event). Stays aborted.
#[napi]
pub struct RunHandle {
    control: Arc<RunControl>,
}

#[napi]
impl RunHandle {
    #[napi(constructor)]
    pub fn new() -> Result<Self> {
        catch_panic("creating a run handle", RunControl::new)
            .map(|c| Self { control: Arc::new(c) })
            .map_err(|e| Error::new(Status::GenericFailure, e.to_string()))
    }

    #[napi]
    pub fn abort(&self) {
        self.control.abort();
    }

    #[napi(getter)]
    pub fn aborted(&self) -> bool {
        self.control.is_aborted()
    }
}

/// A loaded model. Runs take their inputs as an array in the model's input order.
#[napi]
pub struct NativeModel {
    model: Model,
    types: Vec<ElementType>,
    coded: Vec<bool>,
}

pub struct RunTask {
    model: Model,
    feeds: Vec<PinnedFeed>,
    strings: ortline_core::StringColumn,
    codes: Option<BigInt64Array>,
    rows: usize,
    outputs: Option<Vec<usize>>,
    control: Option<Arc<RunControl>>,
    failure: Option<ortline_core::Error>,
}

fn run(
    model: &Model,
    inputs: &[ortline_core::Input<'_>],
    rows: usize,
    outputs: Option<&[usize]>,
    control: Option<&RunControl>,
) -> ortline_core::Result<RunOutputs> {
    let started = std::time::Instant::now();
    let outputs = catch_panic("running the model", || model.run_with(inputs, rows, outputs, control))?;
    Ok(RunOutputs { outputs, micros: started.elapsed().as_secs_f64() * 1e6 })
}

impl Task for RunTask {
    type Output = RunOutputs;
    type JsValue = RunOutputs;

    fn compute(&mut self) -> Result<RunOutputs> {
        let codes = self.codes.as_deref().unwrap_or(&[]);
        let inputs: Vec<_> = self.feeds.iter().map(|f| f.as_input(&self.strings, codes)).collect();
        run(&self.model, &inputs, self.rows, self.outputs.as_deref(), self.control.as_deref()).map_err(|e| {
            self.failure = Some(e);
            kept()
        })
    }

    fn resolve(&mut self, _env: Env, outputs: RunOutputs) -> Result<RunOutputs> {
        Ok(outputs)
    }

    fn reject(&mut self, env: Env, err: Error) -> Result<RunOutputs> {
        Err(self.failure.take().map_or(err, |e| to_js(env.raw(), &e)))
    }
}

fn output_indexes(outputs: Option<Vec<u32>>) -> Option<Vec<usize>> {
    outputs.map(|v| v.into_iter().map(|i| i as usize).collect())
}

#[napi]
impl NativeModel {
    fn new(model: Model) -> Self {
        let types = model.inputs().iter().map(|i| i.ty).collect();
        // The JS layer sends an input that takes codes as a count, its codes in the codes buffer.
        let coded = (0..model.inputs().len()).map(|i| model.categories(i).is_some()).collect();
        Self { model, types, coded }
    }

    #[napi(getter)]
    pub fn inputs(&self) -> Vec<NativeTensorInfo> {
        infos(self.model.inputs())
    }

    #[napi(getter)]
    pub fn outputs(&self) -> Vec<NativeTensorInfo> {
        infos(self.model.outputs())
    }

    /// How each input is fed, in input order (the core's plans).
    #[napi(getter)]
    pub fn input_plans(&self) -> Vec<NativeInputPlan> {
        self.model
            .input_plans()
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let (batch, fixed_rows) = match p.batch {
                    Batch::Rows => ("rows", None),
                    Batch::Fixed(n) => ("fixed", Some(n)),
                    Batch::Scalar => ("scalar", None),
                };
                NativeInputPlan {
                    name: p.name.clone(),
                    ty: p.ty.as_str().to_owned(),
                    batch: batch.to_owned(),
                    fixed_rows,
                    dims: p.static_dims().map(<[i64]>::to_vec).unwrap_or_default(),
                    width: u32::try_from(p.width).unwrap_or(u32::MAX),
                    js_type: convert::js_class(p.ty).to_owned(),
                    unsupported: p.unsupported().map(str::to_owned),
                    categories: self.model.categories(i).map(<[String]>::to_vec),
                }
            })
            .collect()
    }

    #[napi(getter)]
    pub fn metadata(&self) -> NativeMetadata {
        let m = self.model.metadata();
        NativeMetadata {
            producer_name: m.producer_name.clone(),
            producer_version: m.producer_version.clone(),
            graph_name: m.graph_name.clone(),
            domain: m.domain.clone(),
            description: m.description.clone(),
            version: m.version,
            custom: m.custom.iter().map(|(k, v)| vec![k.clone(), v.clone()]).collect(),
        }
    }

    /// Sessions in the pool: runs that go at once.
    #[napi(getter)]
    pub fn sessions(&self) -> u32 {
        self.model.sessions() as u32
    }

    #[napi(getter)]
    pub fn closed(&self) -> bool {
        self.model.is_closed()
    }

    /// Runs in flight finish; later runs fail with MODEL_CLOSED.
    #[napi]
    pub fn close(&self) {
        self.model.close();
    }

    /// Runs on the libuv thread pool. `feeds` has one entry per input in the model's order:
    /// typed arrays are pinned and read in place; a string input's entry is the count of its
    /// values, which come in `strings`: every string input's values, in input order, joined by
    /// "\0". An input the graph takes as codes (its plan has `categories`) is a count too, its
    /// codes in `codes`: every such input's codes, in input order, back to back.
    /// Resolves to [data, shape] pairs, one per requested output (all when `outputs` is omitted).
    #[napi(
        ts_args_type = "feeds: Array<Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array | Int8Array | Int16Array | Uint16Array | Uint32Array | BigUint64Array | number>, rows: number, strings?: string | undefined | null, codes?: BigInt64Array | undefined | null, outputs?: Array<number> | undefined | null, handle?: RunHandle | undefined | null",
        ts_return_type = "Promise<Array<Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array | Int8Array | Int16Array | Uint16Array | Uint32Array | BigUint64Array | string[] | number[] | number>>"
    )]
    pub fn run(
        &self,
        feeds: JsFeeds,
        rows: u32,
        strings: Option<JoinedStrings>,
        codes: Option<BigInt64Array>,
        outputs: Option<Vec<u32>>,
        handle: Option<&RunHandle>,
    ) -> Result<AsyncTask<RunTask>> {
        let rows = rows as usize;
        let strings = strings.map(|s| s.0).unwrap_or_default();
        let n_codes = codes.as_deref().map_or(0, <[i64]>::len);
        let feeds = feeds.pin(&self.model, &self.types, &self.coded, &strings, n_codes)?;
        Ok(AsyncTask::new(RunTask {
            model: self.model.clone(),
            feeds,
            strings,
            codes,
            rows,
            outputs: output_indexes(outputs),
            control: handle.map(|h| h.control.clone()),
            failure: None,
        }))
    }

    /// `run` on the calling thread; typed arrays are read in place without pinning.
    #[napi(
        ts_args_type = "feeds: Array<Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array | Int8Array | Int16Array | Uint16Array | Uint32Array | BigUint64Array | number>, rows: number, strings?: string | undefined | null, codes?: BigInt64Array | undefined | null, outputs?: Array<number> | undefined | null",
        ts_return_type = "Array<Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array | Int8Array | Int16Array | Uint16Array | Uint32Array | BigUint64Array | string[] | number[] | number>"
    )]
    pub fn run_sync(
        &self,
        env: Env,
        feeds: JsFeeds,
        rows: u32,
        strings: Option<JoinedStrings>,
        codes: Option<BigInt64Array>,
        outputs: Option<Vec<u32>>,
    ) -> Result<RunOutputs> {
        let rows = rows as usize;
        let strings = strings.map(|s| s.0).unwrap_or_default();
        let codes = codes.as_deref().unwrap_or(&[]);
        let inputs = feeds.borrow(&self.model, &self.types, &self.coded, &strings, codes)?;
        let outputs = output_indexes(outputs);
        run(&self.model, &inputs, rows, outputs.as_deref(), None).map_err(|e| to_js(env.raw(), &e))
    }
}

fn infos(list: &[ortline_core::TensorInfo]) -> Vec<NativeTensorInfo> {
    list.iter()
        .map(|t| NativeTensorInfo {
            name: t.name.clone(),
            ty: t.ty.as_str().to_owned(),
            shape: t.shape.clone(),
        })
        .collect()
}
