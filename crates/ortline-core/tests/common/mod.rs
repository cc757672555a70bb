//! Shared by the integration tests: the real ONNX Runtime library and the fixture models
//! (packages/scorer/test/fixtures, made by make_fixtures.py there).
#![allow(dead_code)]

use std::path::PathBuf;

use ortline_core::{runtime, Candidate, Runtime};

pub fn ort_library() -> PathBuf {
    match std::env::var_os("ORT_DYLIB_PATH") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => panic!(
            "set ORT_DYLIB_PATH to libonnxruntime (scripts/test.sh sets it to \
             packages/scorer/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1)"
        ),
    }
}

pub fn runtime() -> Runtime {
    runtime::init(&[Candidate::new(ort_library(), "ORT_DYLIB_PATH", true)])
        .expect("ONNX Runtime loads from ORT_DYLIB_PATH")
}

pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../packages/scorer/test/fixtures").join(name)
}
