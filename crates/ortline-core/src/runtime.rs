//! Finding and loading the ONNX Runtime shared library, once per process.
//!
//! ort's `load-dynamic` panics (or worse) on some bad libraries and, once a library is loaded,
//! cannot load another. So before ort is handed a path, ortline checks it itself: the file
//! exists, dlopen accepts it, it exports `OrtGetApiBase`, its version is new enough and it hands
//! out the C API version ort was built against. Only then does ort load it (inside
//! `catch_unwind`, as belt and braces).

use std::ffi::CStr;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use ort::environment::Environment;

use crate::error::{catch_panic, Error, ErrorCode, Result};

/// The oldest ONNX Runtime minor version ortline can drive (the `api-NN` feature it is built with).
pub const MIN_ORT_MINOR: u32 = ort::sys::ORT_API_VERSION;

/// One place the library may be. Candidates are tried in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub path: PathBuf,
    /// Where the path came from, for messages: `ortLibraryPath option`, `ORT_DYLIB_PATH`, ...
    pub source: String,
    /// An explicit choice (an option, an environment variable): when it does not exist the
    /// search stops with an error rather than quietly using another build.
    pub explicit: bool,
}

impl Candidate {
    pub fn new(path: impl Into<PathBuf>, source: impl Into<String>, explicit: bool) -> Self {
        Self { path: path.into(), source: source.into(), explicit }
    }
}

/// The loaded ONNX Runtime: the ort environment every session is created in. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Runtime {
    env: Environment,
    library: PathBuf,
    version: String,
}

impl Runtime {
    pub(crate) fn environment(&self) -> &Environment {
        &self.env
    }

    /// The library file that was loaded (as given, made absolute).
    pub fn library(&self) -> &Path {
        &self.library
    }

    /// The ONNX Runtime version string the library reports, e.g. `1.30.0`.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The runtime loaded in this process, if any.
    pub fn current() -> Option<Runtime> {
        lock().clone()
    }
}

static RUNTIME: Mutex<Option<Runtime>> = Mutex::new(None);

fn lock() -> std::sync::MutexGuard<'static, Option<Runtime>> {
    RUNTIME.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

const FIX: &str = "Set ORT_DYLIB_PATH to a libonnxruntime shared library (ONNX Runtime 1.17 or newer), \
                   pass the ortLibraryPath option, or install the onnxruntime-node package next to @ortline/scorer";

/// Loads ONNX Runtime from the first candidate that exists, or returns the runtime this process
/// already loaded. A process holds one ONNX Runtime: once loaded, an explicit candidate naming a
/// different file is an error rather than silently ignored.
pub fn init(candidates: &[Candidate]) -> Result<Runtime> {
    catch_panic("loading ONNX Runtime", || {
        let mut current = lock();
        if let Some(rt) = current.as_ref() {
            return check_already_loaded(rt, candidates).map(|()| rt.clone());
        }
        let rt = load_first(candidates)?;
        *current = Some(rt.clone());
        Ok(rt)
    })
}

fn check_already_loaded(rt: &Runtime, candidates: &[Candidate]) -> Result<()> {
    let Some(c) = candidates.iter().find(|c| c.explicit) else { return Ok(()) };
    if !c.path.is_file() {
        return Err(Error::new(
            ErrorCode::OrtLibraryNotFound,
            format!(
                "ONNX Runtime library not found: {} ({}) does not exist. {FIX}.",
                c.path.display(),
                c.source
            ),
        ));
    }
    let same = match (std::fs::canonicalize(&c.path), std::fs::canonicalize(&rt.library)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    if same {
        return Ok(());
    }
    Err(Error::new(
        ErrorCode::OrtLibraryIncompatible,
        format!(
            "this process already loaded ONNX Runtime {} from {}; {} ({}) cannot be loaded beside it: a process holds one ONNX Runtime",
            rt.version,
            rt.library.display(),
            c.path.display(),
            c.source
        ),
    ))
}

fn load_first(candidates: &[Candidate]) -> Result<Runtime> {
    let mut looked = String::new();
    for (i, c) in candidates.iter().enumerate() {
        let path = absolute(&c.path);
        if !path.is_file() {
            let _ = write!(
                looked,
                "\n  - {} ({}): {}",
                path.display(),
                c.source,
                if path.exists() { "not a file" } else { "not found" }
            );
            if c.explicit {
                for rest in &candidates[i + 1..] {
                    let _ = write!(
                        looked,
                        "\n  - {} ({}): not tried, the explicit {} comes first",
                        rest.path.display(),
                        rest.source,
                        c.source
                    );
                }
                break;
            }
            continue;
        }
        return load(&path, &c.source);
    }
    if candidates.is_empty() {
        looked.push_str("\n  (no candidate paths were given)");
    }
    Err(Error::new(
        ErrorCode::OrtLibraryNotFound,
        format!("ONNX Runtime library not found. Looked at:{looked}\n{FIX}."),
    ))
}

fn absolute(path: &Path) -> PathBuf {
    if path.is_absolute() {
        return path.to_path_buf();
    }
    std::env::current_dir().map(|d| d.join(path)).unwrap_or_else(|_| path.to_path_buf())
}

fn incompatible(path: &Path, source: &str, why: impl std::fmt::Display) -> Error {
    Error::new(
        ErrorCode::OrtLibraryIncompatible,
        format!("{} ({source}) is not a usable ONNX Runtime library: {why}. {FIX}.", path.display()),
    )
}

fn load(path: &Path, source: &str) -> Result<Runtime> {
    // Keep our own handle open until ort holds its own, so the library is mapped once.
    let (handle, version) = preflight(path).map_err(|why| incompatible(path, source, why))?;
    let builder = match std::panic::catch_unwind(|| ort::init_from(path)) {
        Ok(Ok(builder)) => builder,
        Ok(Err(e)) => return Err(incompatible(path, source, e)),
        Err(_) => return Err(incompatible(path, source, "ort panicked while loading it")),
    };
    let env = builder.with_name("ortline").with_telemetry(false).build().map_err(|e| {
        incompatible(path, source, format!("creating the ONNX Runtime environment failed: {e}"))
    })?;
    // ORT logs every failed run (an aborted one included) at error level to stderr; the caller
    // gets the same failure as an Error. Quiet unless asked for with ORT_LOG (ort reads it).
    if std::env::var_os("ORT_LOG").is_none() {
        env.set_log_level(ort::logging::LogLevel::Fatal);
    }
    drop(handle);
    Ok(Runtime { env, library: path.to_path_buf(), version })
}

type GetApiBase = unsafe extern "system" fn() -> *const ort::sys::OrtApiBase;

/// dlopen-checks a candidate without ort: returns the open handle and the version it reports.
fn preflight(path: &Path) -> std::result::Result<(libloading::Library, String), String> {
    // SAFETY: loading a shared library runs its initialisers; that is the point of the check and
    // the same thing ort would do next.
    let lib = unsafe { libloading::Library::new(path) }.map_err(|e| format!("it cannot be loaded ({e})"))?;
    let version = {
        // SAFETY: the symbol, when present, has this signature in every ONNX Runtime release.
        let get_base = unsafe { lib.get::<GetApiBase>(b"OrtGetApiBase\0") }
            .map_err(|_| "it does not export OrtGetApiBase, so it is not ONNX Runtime".to_owned())?;
        let base = unsafe { get_base() };
        if base.is_null() {
            return Err("OrtGetApiBase returned null".to_owned());
        }
        // SAFETY: `base` is the library's static OrtApiBase.
        let version_ptr = unsafe { ((*base).GetVersionString)() };
        if version_ptr.is_null() {
            return Err("it reports no version".to_owned());
        }
        let version = unsafe { CStr::from_ptr(version_ptr) }.to_string_lossy().into_owned();
        let minor = version.split('.').nth(1).and_then(|m| m.parse::<u32>().ok());
        match (version.split('.').next(), minor) {
            (Some("1"), Some(minor)) if minor >= MIN_ORT_MINOR => {}
            _ => {
                return Err(format!(
                    "it is ONNX Runtime {version}, and ortline needs 1.{MIN_ORT_MINOR} or newer"
                ))
            }
        }
        // SAFETY: as above; GetApi returns null for an API version the library does not have.
        if unsafe { ((*base).GetApi)(ort::sys::ORT_API_VERSION) }.is_null() {
            return Err(format!(
                "ONNX Runtime {version} does not provide C API version {}",
                ort::sys::ORT_API_VERSION
            ));
        }
        version
    };
    Ok((lib, version))
}

/// The execution providers this ONNX Runtime was built with, by their ORT names
/// (`CPUExecutionProvider`, `CUDAExecutionProvider`, ...).
pub(crate) fn available_providers() -> Result<Vec<String>> {
    let api = ort::api();
    let mut list: *mut *mut std::ffi::c_char = std::ptr::null_mut();
    let mut n: std::ffi::c_int = 0;
    // SAFETY: plain C API call with out-pointers; the list is released below.
    crate::ffi::check(unsafe { (api.GetAvailableProviders)(&mut list, &mut n) }, ErrorCode::Internal)?;
    if list.is_null() {
        return Ok(Vec::new());
    }
    let names = (0..n.max(0) as usize)
        .map(|i| unsafe { CStr::from_ptr(*list.add(i)) }.to_string_lossy().into_owned())
        .collect();
    // SAFETY: releasing exactly what GetAvailableProviders returned.
    let _ = crate::ffi::check(unsafe { (api.ReleaseAvailableProviders)(list, n) }, ErrorCode::Internal);
    Ok(names)
}
