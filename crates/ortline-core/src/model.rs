//! A loaded model: its description, a pool of ONNX Runtime sessions, and runs over borrowed
//! column views.

use std::collections::HashMap;
use std::ffi::{c_char, CString};
use std::fs::File;
use std::io::{BufReader, Cursor};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use ort::session::builder::SessionBuilder;
use ort::session::Session;
use ort::AsPointer;

use crate::categorical::{self, CodedInput, Specialised};
use crate::error::{Error, ErrorCode, Result};
use crate::ffi::{self, CpuMemory, OwnedValue};
use crate::onnx_header;
use crate::options::{describe_providers, execution_providers, ModelOptions, OptimizationLevel};
use crate::plan::InputPlan;
use crate::runtime::available_providers;
use crate::runtime::Runtime;
use crate::tensor::{ElementType, Input, Output, Strings, StringsRef, TensorData, TensorInfo};

/// The ONNX model's own metadata (ModelProto fields and `metadata_props`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModelMetadata {
    pub producer_name: String,
    pub producer_version: String,
    pub graph_name: String,
    pub domain: String,
    pub description: String,
    pub version: i64,
    /// `metadata_props`, sorted by key.
    pub custom: Vec<(String, String)>,
}

/// Builds a [`Model`]: set options, then `commit_from_file` or `commit_from_memory`.
#[derive(Debug, Clone)]
pub struct ModelBuilder {
    runtime: Runtime,
    options: ModelOptions,
}

impl ModelBuilder {
    pub fn with_options(mut self, options: ModelOptions) -> Self {
        self.options = options;
        self
    }

    pub fn with_intra_op_threads(mut self, n: usize) -> Self {
        self.options.intra_op_threads = n;
        self
    }

    pub fn with_inter_op_threads(mut self, n: usize) -> Self {
        self.options.inter_op_threads = n;
        self
    }

    pub fn with_optimization_level(mut self, level: OptimizationLevel) -> Self {
        self.options.optimization = level;
        self
    }

    pub fn with_execution_providers<S: Into<String>>(mut self, names: impl IntoIterator<Item = S>) -> Self {
        self.options.execution_providers = names.into_iter().map(Into::into).collect();
        self
    }

    pub fn with_sessions(mut self, n: usize) -> Self {
        self.options.sessions = n;
        self
    }

    pub fn with_categorical_codes(mut self, on: bool) -> Self {
        self.options.categorical_codes = on;
        self
    }

    pub fn options(&self) -> &ModelOptions {
        &self.options
    }

    /// Loads the model file into `sessions` sessions.
    pub fn commit_from_file(self, path: impl AsRef<Path>) -> Result<Model> {
        let path = path.as_ref();
        match std::fs::metadata(path) {
            Err(_) => {
                return Err(Error::new(
                    ErrorCode::ModelFileNotFound,
                    format!("model file not found: {}", path.display()),
                ))
            }
            Ok(m) if !m.is_file() => {
                return Err(Error::new(
                    ErrorCode::ModelFileNotFound,
                    format!("{} is not a model file", path.display()),
                ))
            }
            Ok(_) => {}
        }
        let producer_version =
            File::open(path).map(|f| onnx_header::producer_version(BufReader::new(f))).unwrap_or_default();
        let where_ = path.display().to_string();
        if self.options.categorical_codes {
            if let Some(spec) = std::fs::read(path).ok().and_then(|b| categorical::specialise(&b)) {
                return self.commit_coded(&where_, producer_version, spec, |b| b.commit_from_file(path));
            }
        }
        self.commit(&where_, producer_version, Vec::new(), |b| b.commit_from_file(path))
    }

    /// Loads a model from its bytes (ONNX Runtime keeps its own copy).
    pub fn commit_from_memory(self, bytes: &[u8]) -> Result<Model> {
        if bytes.is_empty() {
            return Err(Error::new(ErrorCode::ModelInvalid, "the model bytes are empty"));
        }
        let producer_version = onnx_header::producer_version(Cursor::new(bytes));
        let what = "the model bytes";
        if self.options.categorical_codes {
            if let Some(spec) = categorical::specialise(bytes) {
                return self.commit_coded(what, producer_version, spec, |b| b.commit_from_memory(bytes));
            }
        }
        self.commit(what, producer_version, Vec::new(), |b| b.commit_from_memory(bytes))
    }

    /// Loads the graph rewritten to take codes; should ONNX Runtime refuse it, the graph as it
    /// came (whose error, if it fails too, is the one worth reporting).
    fn commit_coded(
        self,
        what: &str,
        producer_version: String,
        spec: Specialised,
        original: impl Fn(&mut SessionBuilder) -> ort::Result<Session>,
    ) -> Result<Model> {
        let Specialised { bytes, inputs } = spec;
        self.clone()
            .commit(what, producer_version.clone(), inputs, |b| b.commit_from_memory(&bytes))
            .or_else(|_| self.commit(what, producer_version, Vec::new(), original))
    }

    fn commit(
        self,
        what: &str,
        producer_version: String,
        coded: Vec<CodedInput>,
        create: impl Fn(&mut SessionBuilder) -> ort::Result<Session>,
    ) -> Result<Model> {
        self.options.validate()?;
        let mut builder = self.session_builder()?;
        let mut sessions = Vec::with_capacity(self.options.sessions);
        for _ in 0..self.options.sessions {
            let session = create(&mut builder).map_err(|e| load_error(what, &e))?;
            sessions.push(session);
        }
        Model::new(self.runtime, sessions, producer_version, coded)
    }

    fn session_builder(&self) -> Result<SessionBuilder> {
        let o = &self.options;
        let providers = execution_providers(&o.execution_providers, &self.runtime)?;
        let option = |what: &'static str| {
            move |e: ort::Error<SessionBuilder>| {
                Error::new(ErrorCode::InvalidOption, format!("{what}: {}", e.message()))
            }
        };
        let builder = Session::builder(self.runtime.environment())
            .map_err(|e| Error::new(ErrorCode::Internal, e.message().to_owned()))?;
        builder
            .with_optimization_level(o.optimization.to_ort())
            .map_err(option("graphOptimizationLevel"))?
            .with_intra_threads(o.intra_op_threads)
            .map_err(option("intraOpThreads"))?
            .with_inter_threads(o.inter_op_threads)
            .map_err(option("interOpThreads"))?
            // Spinning workers burn the cores the event loop and the other sessions need.
            .with_intra_op_spinning(false)
            .map_err(option("intra-op spinning"))?
            .with_inter_op_spinning(false)
            .map_err(option("inter-op spinning"))?
            .with_execution_providers(providers)
            .map_err(|e| {
                // Listed by the library but unusable here, typically a GPU provider whose own
                // shared libraries (or driver) are missing.
                let have =
                    available_providers().map(|a| describe_providers(&a, &self.runtime)).unwrap_or_default();
                Error::new(
                    ErrorCode::EpUnavailable,
                    format!(
                        "execution providers [{}] could not be registered ({have}): {}",
                        o.execution_providers.join(", "),
                        e.message()
                    ),
                )
            })
    }
}

fn load_error(what: &str, e: &ort::Error) -> Error {
    use ort::ErrorCode as C;
    let code = match e.code() {
        C::NoSuchFile => ErrorCode::ModelFileNotFound,
        C::ExecutionProviderFailure => ErrorCode::EpUnavailable,
        _ => ErrorCode::ModelInvalid,
    };
    Error::new(code, format!("cannot load {what}: {}", e.message()))
}

/// C-string names, built once per model so a run allocates none.
struct Names {
    _owned: Vec<CString>,
    ptrs: Vec<*const c_char>,
}

// SAFETY: the pointers point into `_owned`, which the struct owns and never mutates.
unsafe impl Send for Names {}
unsafe impl Sync for Names {}

impl Names {
    fn new<'a>(names: impl Iterator<Item = &'a str>) -> Result<Self> {
        let owned: Vec<CString> = names
            .map(|n| {
                CString::new(n).map_err(|_| {
                    Error::new(ErrorCode::ModelInvalid, format!("the name {n:?} holds a NUL character"))
                })
            })
            .collect::<Result<_>>()?;
        let ptrs = owned.iter().map(|c| c.as_ptr()).collect();
        Ok(Self { _owned: owned, ptrs })
    }
}

/// A session and what its runs reuse. Only the run holding the lease touches it.
struct Slot {
    session: Session,
    /// Per input: the string tensor (or, for an input fed as codes, the int64 tensor) the last
    /// run used. A run with as many values refills it in place (std::string assignment keeps
    /// capacity) instead of allocating a new tensor, which at small batches costs as much as the
    /// rest of the input side together.
    cached: Vec<Option<Cached>>,
}

struct Cached {
    shape: Vec<i64>,
    value: OwnedValue,
}

/// Sessions not running right now. `Session::run` needs exclusive access, so a run takes one
/// out, or waits for one, and puts it back.
struct Pool {
    state: Mutex<PoolState>,
    returned: Condvar,
}

struct PoolState {
    free: Vec<Slot>,
    closed: bool,
}

impl Pool {
    fn lock(&self) -> MutexGuard<'_, PoolState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn acquire(&self) -> Result<Lease<'_>> {
        let mut state = self.lock();
        loop {
            if state.closed {
                return Err(closed());
            }
            if let Some(slot) = state.free.pop() {
                return Ok(Lease { pool: self, slot: Some(slot) });
            }
            state = self.returned.wait(state).unwrap_or_else(|p| p.into_inner());
        }
    }

    fn close(&self) {
        let sessions = {
            let mut state = self.lock();
            state.closed = true;
            std::mem::take(&mut state.free)
        };
        self.returned.notify_all();
        // Released outside the lock; sessions still running are released when they come back.
        drop(sessions);
    }

    fn is_closed(&self) -> bool {
        self.lock().closed
    }
}

struct Lease<'p> {
    pool: &'p Pool,
    slot: Option<Slot>,
}

impl Lease<'_> {
    fn slot(&mut self) -> &mut Slot {
        self.slot.as_mut().expect("a lease holds its slot until dropped")
    }
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        let Some(slot) = self.slot.take() else { return };
        let mut state = self.pool.lock();
        if state.closed {
            drop(state);
            drop(slot);
            return;
        }
        state.free.push(slot);
        drop(state);
        self.pool.returned.notify_one();
    }
}

fn closed() -> Error {
    Error::new(ErrorCode::ModelClosed, "the model is closed")
}

struct Inner {
    runtime: Runtime,
    inputs: Vec<TensorInfo>,
    outputs: Vec<TensorInfo>,
    metadata: ModelMetadata,
    plans: Vec<InputPlan>,
    /// ONNX Runtime's element type per input (None: not a numeric tensor type ORT takes as is).
    onnx_types: Vec<Option<ort::sys::ONNXTensorElementDataType>>,
    input_names: Names,
    output_names: Names,
    memory: CpuMemory,
    pool: Pool,
    sessions: usize,
    /// Per input: the codes of a string input the graph takes as int64 (see `categorical`).
    codes: Vec<Option<Codes>>,
}

/// A string input fed as codes: code i stands for `categories[i]`; any other string is -1, which
/// no category has, so the encoder treats it as it treated an unknown string. Callers may pass
/// the codes themselves (int64) instead of the strings.
struct Codes {
    categories: Vec<String>,
    index: HashMap<Box<[u8]>, i64>,
}

impl Codes {
    fn new(categories: Vec<String>) -> Self {
        let index = categories.iter().enumerate().map(|(i, c)| (c.as_bytes().into(), i as i64)).collect();
        Self { categories, index }
    }

    /// Writes the codes of `strings` into `out` (as long).
    fn encode_into(&self, strings: StringsRef<'_>, out: &mut [i64]) {
        // A few categories (the usual case) are found faster by comparing than by hashing.
        let cats = &self.categories;
        let few = cats.len() <= 8;
        for (slot, s) in out.iter_mut().zip(strings.iter()) {
            let code = if few {
                cats.iter().position(|c| c.as_bytes() == s).map(|i| i as i64)
            } else {
                self.index.get(s).copied()
            };
            *slot = code.unwrap_or(-1);
        }
    }
}

/// A loaded ONNX model. Cheap to clone; clones share the session pool. Safe to run from many
/// threads at once: runs beyond the pool's size wait for a free session.
#[derive(Clone)]
pub struct Model {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model")
            .field("inputs", &self.inner.inputs)
            .field("outputs", &self.inner.outputs)
            .finish_non_exhaustive()
    }
}

/// Terminates a run from another thread (an AbortSignal's `abort`). Once aborted it stays
/// aborted: every run given it afterwards fails with [`ErrorCode::RunAborted`].
pub struct RunControl {
    options: ort::session::RunOptions,
    aborted: AtomicBool,
}

impl std::fmt::Debug for RunControl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunControl").field("aborted", &self.is_aborted()).finish()
    }
}

impl RunControl {
    /// Needs ONNX Runtime loaded (any loaded [`Model`] guarantees it).
    pub fn new() -> Result<Self> {
        if Runtime::current().is_none() {
            return Err(Error::new(
                ErrorCode::OrtLibraryNotFound,
                "ONNX Runtime is not loaded yet; load a model first",
            ));
        }
        let options = ort::session::RunOptions::new()
            .map_err(|e| Error::new(ErrorCode::Internal, e.message().to_owned()))?;
        Ok(Self { options, aborted: AtomicBool::new(false) })
    }

    /// Ends the run using this control as soon as ONNX Runtime checks (between operators), and
    /// every later run given it before it starts.
    pub fn abort(&self) {
        self.aborted.store(true, Ordering::SeqCst);
        let _ = self.options.terminate();
    }

    pub fn is_aborted(&self) -> bool {
        self.aborted.load(Ordering::SeqCst)
    }
}

fn aborted() -> Error {
    Error::new(ErrorCode::RunAborted, "the run was aborted")
}

impl Model {
    pub fn builder(runtime: &Runtime) -> ModelBuilder {
        ModelBuilder { runtime: runtime.clone(), options: ModelOptions::default() }
    }

    fn new(
        runtime: Runtime,
        sessions: Vec<Session>,
        producer_version: String,
        coded: Vec<CodedInput>,
    ) -> Result<Self> {
        let first = sessions
            .first()
            .ok_or_else(|| Error::new(ErrorCode::InvalidOption, "sessions must be at least 1"))?;
        let mut inputs: Vec<TensorInfo> =
            first.inputs().iter().map(|o| TensorInfo::from_outlet(o.name(), o.dtype())).collect();
        // The session takes int64 codes; callers keep the model's contract: strings.
        let onnx_types = inputs.iter().map(|i| i.ty.to_onnx()).collect();
        let mut codes: Vec<Option<Codes>> = inputs.iter().map(|_| None).collect();
        for c in coded {
            if let Some(i) = inputs.iter().position(|i| i.name == c.name && i.ty == ElementType::Int64) {
                inputs[i].ty = ElementType::String;
                codes[i] = Some(Codes::new(c.categories));
            }
        }
        let outputs: Vec<TensorInfo> =
            first.outputs().iter().map(|o| TensorInfo::from_outlet(o.name(), o.dtype())).collect();
        let metadata = read_metadata(first, producer_version)?;
        let plans: Vec<InputPlan> = inputs.iter().map(InputPlan::new).collect();
        let input_names = Names::new(inputs.iter().map(|i| i.name.as_str()))?;
        let output_names = Names::new(outputs.iter().map(|o| o.name.as_str()))?;
        let n = sessions.len();
        let n_inputs = inputs.len();
        let slots = sessions
            .into_iter()
            .map(|session| Slot { session, cached: (0..n_inputs).map(|_| None).collect() })
            .collect();
        Ok(Self {
            inner: Arc::new(Inner {
                runtime,
                inputs,
                outputs,
                metadata,
                plans,
                onnx_types,
                input_names,
                output_names,
                memory: CpuMemory::new()?,
                pool: Pool {
                    state: Mutex::new(PoolState { free: slots, closed: false }),
                    returned: Condvar::new(),
                },
                sessions: n,
                codes,
            }),
        })
    }

    pub fn inputs(&self) -> &[TensorInfo] {
        &self.inner.inputs
    }

    pub fn outputs(&self) -> &[TensorInfo] {
        &self.inner.outputs
    }

    pub fn metadata(&self) -> &ModelMetadata {
        &self.inner.metadata
    }

    pub fn runtime(&self) -> &Runtime {
        &self.inner.runtime
    }

    /// Sessions in the pool: how many runs go at once.
    pub fn sessions(&self) -> usize {
        self.inner.sessions
    }

    /// How each input is fed, in input order: the one input contract (see [`InputPlan`]).
    pub fn input_plans(&self) -> &[InputPlan] {
        &self.inner.plans
    }

    /// The categories of a string input fed to ONNX Runtime as codes (its code i is
    /// `categories[i]`), or `None` when the input is fed as it is. Such an input takes its
    /// strings, or their codes as [`Input::Int64`] (any other code reads as an unknown string).
    pub fn categories(&self, input: usize) -> Option<&[String]> {
        self.inner.codes.get(input)?.as_ref().map(|c| &c.categories[..])
    }

    fn input_list(&self) -> String {
        self.inner.inputs.iter().map(|i| i.name.as_str()).collect::<Vec<_>>().join(", ")
    }

    /// Stops taking runs. Runs in flight finish; runs waiting for a session and every later
    /// run fail with [`ErrorCode::ModelClosed`]. Sessions are released as they come free.
    pub fn close(&self) {
        self.inner.pool.close();
    }

    pub fn is_closed(&self) -> bool {
        self.inner.pool.is_closed()
    }

    /// Runs every output. `inputs` are in the model's input order.
    pub fn run(&self, inputs: &[Input<'_>], rows: usize) -> Result<Vec<Output>> {
        self.run_with(inputs, rows, None, None)
    }

    /// Runs the outputs at `outputs` (indexes into [`Model::outputs`], in the order wanted; all
    /// when `None`), terminable through `control`. `inputs` are in the model's input order,
    /// each `rows` x (its static non-batch dims) long. Zero rows returns empty outputs without
    /// running ONNX Runtime.
    pub fn run_with(
        &self,
        inputs: &[Input<'_>],
        rows: usize,
        outputs: Option<&[usize]>,
        control: Option<&RunControl>,
    ) -> Result<Vec<Output>> {
        let inner = &*self.inner;
        if control.is_some_and(RunControl::is_aborted) {
            return Err(aborted());
        }
        self.check_inputs(inputs, rows)?;
        if let Some(sel) = outputs {
            if let Some(&bad) = sel.iter().find(|&&i| i >= inner.outputs.len()) {
                return Err(Error::new(
                    ErrorCode::InvalidOption,
                    format!(
                        "output index {bad} is out of range: the model has {} outputs",
                        inner.outputs.len()
                    ),
                ));
            }
        }
        let selected = |k: usize| outputs.map_or(k, |sel| sel[k]);
        let n_out = outputs.map_or(inner.outputs.len(), <[usize]>::len);
        if rows == 0 {
            if inner.pool.is_closed() {
                return Err(closed());
            }
            return (0..n_out).map(|k| empty_output(&inner.outputs[selected(k)])).collect();
        }

        // Numeric tensors over the caller's buffers, built before taking a session so it is
        // held only for the run itself.
        let mut shapes: Vec<Vec<i64>> = Vec::with_capacity(inputs.len());
        let mut values: Vec<Option<OwnedValue>> = Vec::with_capacity(inputs.len());
        for (((input, plan), onnx), codes) in
            inputs.iter().zip(&inner.plans).zip(&inner.onnx_types).zip(&inner.codes)
        {
            let shape = plan.shape(rows);
            // An input fed as codes is written into the session's own tensor below.
            let raw = if codes.is_some() { None } else { input.raw_bytes() };
            let value = match raw {
                Some((ptr, bytes)) => {
                    let onnx = onnx.ok_or_else(|| unsupported(&plan.ty))?;
                    // SAFETY: `input` borrows the caller's slice for the whole call; the value
                    // is dropped before this function returns.
                    Some(unsafe { ffi::tensor_over(&inner.memory, ptr, bytes, &shape, onnx)? })
                }
                None => None,
            };
            values.push(value);
            shapes.push(shape);
        }
        let selected_names: Vec<*const c_char>;
        let output_names = match outputs {
            None => &inner.output_names.ptrs[..],
            Some(sel) => {
                selected_names = sel.iter().map(|&i| inner.output_names.ptrs[i]).collect();
                &selected_names[..]
            }
        };
        let mut out_ptrs = vec![std::ptr::null_mut::<ort::sys::OrtValue>(); n_out];

        let mut lease = inner.pool.acquire()?;
        if control.is_some_and(RunControl::is_aborted) {
            return Err(aborted());
        }
        let slot = lease.slot();
        // String and code tensors: the slot's cached one refilled when the shape matches, else a
        // new one.
        let mut pointers = Vec::new();
        for (i, input) in inputs.iter().enumerate() {
            if let Some(codes) = &inner.codes[i] {
                if slot.cached[i].as_ref().is_none_or(|c| c.shape != shapes[i]) {
                    slot.cached[i] = None;
                    let value = ffi::int64_tensor(&shapes[i])?;
                    slot.cached[i] = Some(Cached { shape: std::mem::take(&mut shapes[i]), value });
                }
                let Some(cached) = &mut slot.cached[i] else { continue };
                // SAFETY: the tensor holds input.len() values (its shape is this input's for
                // `rows`, which check_inputs matched against the length), and this run is its
                // only user (the slot is leased).
                let data = unsafe { ffi::int64_data(&mut cached.value, input.len())? };
                match input {
                    Input::String(strings) => codes.encode_into(*strings, data),
                    Input::Int64(given) => data.copy_from_slice(given),
                    // check_inputs admits only these two for an input fed as codes.
                    _ => return Err(unsupported(&inner.plans[i].ty)),
                }
                continue;
            }
            let Input::String(strings) = input else { continue };
            strings.pointers_into(&mut pointers);
            let cached = slot.cached[i].as_ref().filter(|c| c.shape == shapes[i]);
            match cached {
                // SAFETY: the pointers point into the column `strings` borrows, alive for this
                // call; ORT copies the strings into the tensor, whose length matches (same shape).
                Some(c) => unsafe { ffi::fill_strings(&c.value, &pointers)? },
                None => {
                    slot.cached[i] = None;
                    // SAFETY: as above.
                    let value = unsafe { ffi::string_tensor(&pointers, &shapes[i])? };
                    slot.cached[i] = Some(Cached { shape: std::mem::take(&mut shapes[i]), value });
                }
            }
        }
        let value_ptrs: Vec<*const ort::sys::OrtValue> = values
            .iter()
            .zip(&slot.cached)
            .map(|(v, cached)| match (v, cached) {
                (Some(v), _) => v.as_ptr().cast_const(),
                (None, Some(c)) => c.value.as_ptr().cast_const(),
                (None, None) => std::ptr::null(),
            })
            .collect();
        let run_options = control.map_or(std::ptr::null(), |c| c.options.ptr());
        // SAFETY: every pointer is valid for the call: the session is ours alone (leased), the
        // names are cached C strings, the values are alive in `values` and the slot, and
        // `out_ptrs` has one slot per requested output.
        let status = unsafe {
            (ort::api().Run)(
                slot.session.ptr().cast_mut(),
                run_options,
                inner.input_names.ptrs.as_ptr(),
                value_ptrs.as_ptr(),
                value_ptrs.len(),
                output_names.as_ptr(),
                output_names.len(),
                out_ptrs.as_mut_ptr(),
            )
        };
        drop(lease);
        // Own every returned value before anything can return early, so none leaks. (Outputs
        // keep the allocator they came from alive: safe to read after the session is returned.)
        let results: Vec<Option<OwnedValue>> = out_ptrs.into_iter().map(OwnedValue::from_raw).collect();
        drop(values);
        if let Err(e) = ffi::check(status, ErrorCode::RunFailed) {
            if control.is_some_and(RunControl::is_aborted) {
                return Err(aborted());
            }
            return Err(Error::new(
                ErrorCode::RunFailed,
                format!("running the model failed: {}", e.message()),
            ));
        }
        results
            .into_iter()
            .enumerate()
            .map(|(k, value)| {
                let info = &inner.outputs[selected(k)];
                let value = value.ok_or_else(|| {
                    Error::new(
                        ErrorCode::RunFailed,
                        format!("ONNX Runtime returned no value for output \"{}\"", info.name),
                    )
                })?;
                extract(&value, info)
            })
            .collect()
    }

    fn check_inputs(&self, inputs: &[Input<'_>], rows: usize) -> Result<()> {
        let inner = &*self.inner;
        if inputs.len() < inner.inputs.len() {
            let missing = &inner.inputs[inputs.len()].name;
            return Err(Error::new(
                ErrorCode::MissingInput,
                format!(
                    "input \"{missing}\" is missing: the model takes {} inputs ({}), {} were given",
                    inner.inputs.len(),
                    self.input_list(),
                    inputs.len()
                ),
            )
            .with("input", missing.as_str()));
        }
        if inputs.len() > inner.inputs.len() {
            return Err(Error::new(
                ErrorCode::UnknownInput,
                format!(
                    "{} inputs were given, but the model takes {} ({})",
                    inputs.len(),
                    inner.inputs.len(),
                    self.input_list()
                ),
            )
            .with("expected", inner.inputs.len())
            .with("got", inputs.len()));
        }
        for ((input, plan), codes) in inputs.iter().zip(&inner.plans).zip(&inner.codes) {
            let ty = match (input, codes) {
                // Codes stand for the input's strings: the caller looked them up already.
                (Input::Int64(_), Some(_)) => ElementType::String,
                _ => input.element_type(),
            };
            plan.check(ty, input.len(), rows)?;
            let name = &plan.name;
            if let Input::Bool(bytes) = input {
                if let Some(i) = bytes.iter().position(|&b| b > 1) {
                    return Err(Error::new(
                        ErrorCode::InputTypeMismatch,
                        format!(
                            "input \"{name}\" is bool: every value must be 0 or 1, got {} at index {i}",
                            bytes[i]
                        ),
                    )
                    .with("input", name.as_str())
                    .with("index", i));
                }
            }
        }
        Ok(())
    }
}

fn unsupported(ty: &ElementType) -> Error {
    Error::new(ErrorCode::UnsupportedInput, format!("element type {ty} is not supported"))
}

fn empty_output(info: &TensorInfo) -> Result<Output> {
    let data = TensorData::empty(info.ty).ok_or_else(|| {
        Error::new(
            ErrorCode::UnsupportedInput,
            format!("output \"{}\" has type {}, which ortline cannot return", info.name, info.ty),
        )
    })?;
    let shape = if info.shape.is_empty() {
        Vec::new()
    } else {
        std::iter::once(0).chain(info.shape[1..].iter().map(|d| d.unwrap_or(0).max(0) as usize)).collect()
    };
    Ok(Output { shape, data })
}

fn extract(value: &OwnedValue, info: &TensorInfo) -> Result<Output> {
    let name = &info.name;
    let Some((ty, dims)) = ffi::tensor_type_and_shape(value)? else {
        return Err(Error::new(
            ErrorCode::UnsupportedInput,
            format!("output \"{name}\" is a {}, not a tensor; ortline returns tensors only (for scikit-learn classifiers, export with zipmap=False)", info.ty),
        ));
    };
    let shape: Vec<usize> = dims.iter().map(|&d| d.max(0) as usize).collect();
    let count = shape.iter().product::<usize>();
    let ty = ElementType::from_onnx(ty);
    let data = match ty {
        ElementType::Float32 => TensorData::Float32(ffi::copy_tensor(value, count)?),
        ElementType::Float64 => TensorData::Float64(ffi::copy_tensor(value, count)?),
        ElementType::Int32 => TensorData::Int32(ffi::copy_tensor(value, count)?),
        ElementType::Int64 => TensorData::Int64(ffi::copy_tensor(value, count)?),
        ElementType::Uint8 => TensorData::Uint8(ffi::copy_tensor(value, count)?),
        ElementType::Int8 => TensorData::Int8(ffi::copy_tensor(value, count)?),
        ElementType::Int16 => TensorData::Int16(ffi::copy_tensor(value, count)?),
        ElementType::Uint16 => TensorData::Uint16(ffi::copy_tensor(value, count)?),
        ElementType::Uint32 => TensorData::Uint32(ffi::copy_tensor(value, count)?),
        ElementType::Uint64 => TensorData::Uint64(ffi::copy_tensor(value, count)?),
        // ORT's bool is one byte holding 0 or 1.
        ElementType::Bool => TensorData::Bool(ffi::copy_tensor(value, count)?),
        ElementType::Float16 => TensorData::Float16(ffi::copy_tensor(value, count)?),
        ElementType::Bfloat16 => TensorData::Bfloat16(ffi::copy_tensor(value, count)?),
        ElementType::String => {
            let (bytes, offsets) = ffi::copy_strings(value, count)?;
            TensorData::String(Strings::new(bytes, offsets))
        }
        ElementType::Other(t) => {
            return Err(Error::new(
                ErrorCode::UnsupportedInput,
                format!("output \"{name}\" has element type {t}, which ortline cannot return"),
            ));
        }
    };
    Ok(Output { shape, data })
}

fn read_metadata(session: &Session, producer_version: String) -> Result<ModelMetadata> {
    let meta = session.metadata().map_err(|e| {
        Error::new(ErrorCode::ModelInvalid, format!("reading the model metadata failed: {}", e.message()))
    })?;
    let mut custom: Vec<(String, String)> = meta
        .custom_keys()
        .unwrap_or_default()
        .into_iter()
        .map(|k| {
            let v = meta.custom(&k).unwrap_or_default();
            (k, v)
        })
        .collect();
    custom.sort();
    Ok(ModelMetadata {
        producer_name: meta.producer().unwrap_or_default(),
        producer_version,
        graph_name: meta.name().unwrap_or_default(),
        domain: meta.domain().unwrap_or_default(),
        description: meta.description().unwrap_or_default(),
        version: meta.version().unwrap_or_default(),
        custom,
    })
}
