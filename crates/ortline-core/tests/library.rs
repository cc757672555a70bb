//! Finding the ONNX Runtime library. Its own test binary (its own process): ONNX Runtime loads
//! once per process, so the failures are checked before anything succeeds, in one test.

mod common;

use std::path::PathBuf;

use common::{fixture, ort_library};
use ortline_core::{runtime, Candidate, ErrorCode, Model, Runtime};

/// A shared library that is certainly not ONNX Runtime.
fn some_other_library() -> Option<PathBuf> {
    [
        "/lib/x86_64-linux-gnu/libm.so.6",
        "/usr/lib/x86_64-linux-gnu/libm.so.6",
        "/lib64/libm.so.6",
        "/usr/lib64/libm.so.6",
        "/lib/libm.so.6",
    ]
    .iter()
    .map(PathBuf::from)
    .find(|p| p.is_file())
}

#[test]
fn library_search_reports_every_place_and_never_panics() {
    assert!(Runtime::current().is_none());
    let dir = std::env::temp_dir().join(format!("ortline-lib-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();

    // Nothing given.
    let err = runtime::init(&[]).unwrap_err();
    assert_eq!(err.code(), ErrorCode::OrtLibraryNotFound);
    assert!(
        err.message().contains("ORT_DYLIB_PATH") && err.message().contains("onnxruntime-node"),
        "the fix is named: {err}"
    );

    // Implicit candidates that do not exist: every one is listed.
    let err = runtime::init(&[
        Candidate::new("/nope/a/libonnxruntime.so.1", "ORT_DYLIB_PATH", false),
        Candidate::new("/nope/b/libonnxruntime.so.1", "onnxruntime-node", false),
    ])
    .unwrap_err();
    assert_eq!(err.code(), ErrorCode::OrtLibraryNotFound);
    assert!(err.message().contains("/nope/a/libonnxruntime.so.1 (ORT_DYLIB_PATH): not found"), "{err}");
    assert!(err.message().contains("/nope/b/libonnxruntime.so.1 (onnxruntime-node): not found"), "{err}");

    // An explicit candidate that does not exist stops the search, though a real library follows.
    let err = runtime::init(&[
        Candidate::new("/nope/c/libonnxruntime.so", "ortLibraryPath option", true),
        Candidate::new(ort_library(), "onnxruntime-node", false),
    ])
    .unwrap_err();
    assert_eq!(err.code(), ErrorCode::OrtLibraryNotFound);
    assert!(err.message().contains("/nope/c/libonnxruntime.so (ortLibraryPath option): not found"), "{err}");
    assert!(err.message().contains("not tried"), "{err}");

    // Found but not a shared library at all.
    let text = dir.join("libonnxruntime.so.1");
    std::fs::write(&text, "not an ELF file").unwrap();
    let err = runtime::init(&[Candidate::new(&text, "ORT_DYLIB_PATH", true)]).unwrap_err();
    assert_eq!(err.code(), ErrorCode::OrtLibraryIncompatible);
    assert!(err.message().contains("cannot be loaded"), "{err}");

    // Found, loadable, but not ONNX Runtime.
    if let Some(libm) = some_other_library() {
        let err = runtime::init(&[Candidate::new(&libm, "ortLibraryPath option", true)]).unwrap_err();
        assert_eq!(err.code(), ErrorCode::OrtLibraryIncompatible);
        assert!(err.message().contains("does not export OrtGetApiBase"), "{err}");
    }

    // A directory where the library should be.
    let err = runtime::init(&[Candidate::new(&dir, "ortLibraryPath option", true)]).unwrap_err();
    assert_eq!(err.code(), ErrorCode::OrtLibraryNotFound);
    assert!(err.message().contains("not a file"), "{err}");
    assert!(Runtime::current().is_none(), "no failure leaves a runtime behind");

    // After all that, skipping a missing implicit candidate, the real library loads and works.
    let rt = runtime::init(&[
        Candidate::new("/nope/d/libonnxruntime.so", "ORT_DYLIB_PATH", false),
        Candidate::new(ort_library(), "onnxruntime-node", false),
    ])
    .unwrap();
    assert_eq!(rt.library(), ort_library().as_path());
    let model = Model::builder(&rt).commit_from_file(fixture("affine.onnx")).unwrap();
    assert_eq!(model.inputs()[0].name, "x");
    std::fs::remove_dir_all(&dir).unwrap();
}
