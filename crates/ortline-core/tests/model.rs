//! The core against real ONNX Runtime and the fixture models: load, describe, run every element
//! type, every error path, the session pool under threads, abort and close.

mod common;

use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use common::{fixture, ort_library, runtime};
use ortline_core::{
    runtime as ort_runtime, Batch, Candidate, Detail, ElementType, ErrorCode, Input, Model, ModelOptions,
    OptimizationLevel, RunControl, StringColumn, TensorData, MAX_ROWS,
};

fn load(name: &str) -> Model {
    Model::builder(&runtime()).commit_from_file(fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn f32s(data: &TensorData) -> &[f32] {
    match data {
        TensorData::Float32(v) => v,
        other => panic!("expected float32, got {:?}", other.element_type()),
    }
}

#[test]
fn describes_inputs_and_outputs_with_dynamic_dims_as_none() {
    let m = load("mixed.onnx");
    let inputs: Vec<_> = m.inputs().iter().map(|i| (i.name.as_str(), i.ty, i.shape.clone())).collect();
    assert_eq!(
        inputs,
        vec![
            ("a", ElementType::Float32, vec![None, Some(2)]),
            ("b", ElementType::Float64, vec![None, Some(1)]),
            ("c", ElementType::Int32, vec![None, Some(1)]),
        ]
    );
    let outputs: Vec<_> = m.outputs().iter().map(|o| (o.name.as_str(), o.ty.as_str())).collect();
    assert_eq!(outputs, vec![("out", "float64"), ("c2", "int32")]);
    let len = |i: usize| m.input_plans().get(i).and_then(|p| p.values_for(3).ok());
    assert_eq!((len(0), len(1), len(3)), (Some(6), Some(3), None));
    assert_eq!(load("int64.onnx").inputs()[0].shape, vec![None]);
    assert_eq!(
        load("strings.onnx").outputs().iter().map(|o| o.ty.as_str()).collect::<Vec<_>>(),
        ["string", "int64", "bool"]
    );
}

#[test]
fn reads_model_metadata_including_producer_version_and_custom_props() {
    let m = load("metadata.onnx");
    let md = m.metadata();
    assert_eq!(md.producer_name, "ortline-fixtures");
    assert_eq!(md.producer_version, "1.2.3");
    assert_eq!(md.graph_name, "metadata_graph");
    assert_eq!(md.domain, "dev.ortline.fixtures");
    assert_eq!(md.description, "A fixture with every metadata field set.");
    assert_eq!(md.version, 7);
    let keys: Vec<&str> = md.custom.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, ["ortline.features", "owner"]);
    assert_eq!(md.custom[1].1, "ortline");

    let bytes = std::fs::read(fixture("metadata.onnx")).unwrap();
    let from_memory = Model::builder(&runtime()).commit_from_memory(&bytes).unwrap();
    assert_eq!(from_memory.metadata(), md);
    assert_eq!(load("affine.onnx").metadata().custom, vec![]);
}

#[test]
fn runs_float32_in_place_and_returns_the_actual_shape() {
    let m = load("affine.onnx");
    // A view into the middle of a larger buffer: the run reads exactly rows x 3 values from it.
    let buffer: Vec<f32> = (0..12).map(|i| i as f32).collect();
    let out = m.run(&[Input::Float32(&buffer[3..9])], 2).unwrap();
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].shape, vec![2, 3]);
    assert_eq!(f32s(&out[0].data), &[7.0, 9.0, 11.0, 13.0, 15.0, 17.0]);
}

#[test]
fn runs_two_outputs_of_different_types_and_a_selection_of_them() {
    let m = load("two_outputs.onnx");
    let x = [1.0f32, 5.0, 2.0, 9.0, 0.0, -1.0];
    let out = m.run(&[Input::Float32(&x)], 2).unwrap();
    assert_eq!(f32s(&out[0].data), &[8.0, 8.0]);
    assert_eq!(out[0].shape, vec![2, 1]);
    assert_eq!(out[1].data, TensorData::Int64(vec![1, 0]));

    let only_argmax = m.run_with(&[Input::Float32(&x)], 2, Some(&[1]), None).unwrap();
    assert_eq!(only_argmax.len(), 1);
    assert_eq!(only_argmax[0].data, TensorData::Int64(vec![1, 0]));
    let err = m.run_with(&[Input::Float32(&x)], 2, Some(&[2]), None).unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidOption);
}

#[test]
fn runs_several_inputs_of_float32_float64_and_int32() {
    let m = load("mixed.onnx");
    let a = [1.0f32, 2.0, 10.0, 20.0];
    let b = [0.5f64, 0.25];
    let c = [3i32, -4];
    let out = m.run(&[Input::Float32(&a), Input::Float64(&b), Input::Int32(&c)], 2).unwrap();
    assert_eq!(out[0].data, TensorData::Float64(vec![6.5, 26.25]));
    assert_eq!(out[1].data, TensorData::Int32(vec![6, -8]));
}

#[test]
fn runs_rank_one_int64_beyond_2_pow_53() {
    let m = load("int64.onnx");
    let big = 1i64 << 60;
    let n = [0i64, -5, big];
    let out = m.run(&[Input::Int64(&n)], 3).unwrap();
    assert_eq!(out[0].shape, vec![3]);
    assert_eq!(out[0].data, TensorData::Int64(vec![1, -14, big.wrapping_mul(3) + 1]));
}

#[test]
fn runs_strings_in_and_out_with_numbers_and_bools_derived_from_them() {
    let m = load("strings.onnx");
    for col in [
        StringColumn::from_strs(["yes", "no", "", "naïve ☃"]).unwrap(),
        StringColumn::from_nul_separated(b"yes\0no\0\0na\xc3\xafve \xe2\x98\x83".to_vec()),
    ] {
        assert_eq!(col.len(), 4);
        let out = m.run(&[Input::String(col.view())], 4).unwrap();
        let TensorData::String(echo) = &out[0].data else { panic!("echo is not strings") };
        assert_eq!(echo.to_vec(), ["yes", "no", "", "naïve ☃"]);
        assert_eq!(out[0].shape, vec![4, 1]);
        assert_eq!(out[1].data, TensorData::Int64(vec![1, 0, -1, -1]));
        assert_eq!(out[2].data, TensorData::Bool(vec![1, 0, 0, 0]));
    }
    assert_eq!(StringColumn::from_strs(["ok", "bad\0"]).unwrap_err(), 1);
    // Several inputs can share one packed column: each takes a range of it.
    let shared = StringColumn::from_nul_separated(b"a\0yes\0maybe\0b".to_vec());
    let out = m.run(&[Input::String(shared.slice(1..3).unwrap())], 2).unwrap();
    assert_eq!(out[1].data, TensorData::Int64(vec![1, 2]));
    assert!(shared.slice(3..5).is_none());
    // Same shape again, other values (a long one, past any small-string buffer): the session's
    // string tensor is refilled, never stale.
    for values in
        [["no", "yes"], ["a much longer string than the last one, on the heap", "maybe"], ["", "no"]]
    {
        let col = StringColumn::from_strs(values).unwrap();
        let out = m.run(&[Input::String(col.view())], 2).unwrap();
        let TensorData::String(echo) = &out[0].data else { panic!("echo is not strings") };
        assert_eq!(echo.to_vec(), values);
    }
}

#[test]
fn runs_bool_inputs_and_rejects_bytes_other_than_0_and_1() {
    let m = load("bool.onnx");
    let out = m.run(&[Input::Bool(&[1, 0, 1])], 3).unwrap();
    assert_eq!(out[0].data, TensorData::Bool(vec![0, 1, 0]));
    assert_eq!(out[1].data, TensorData::Uint8(vec![1, 0, 1]));
    let err = m.run(&[Input::Bool(&[1, 2])], 2).unwrap_err();
    assert_eq!(err.code(), ErrorCode::InputTypeMismatch);
    assert!(err.message().contains("\"flag\"") && err.message().contains("index 1"), "{err}");
    // A uint8 view is not a bool feed.
    assert_eq!(m.run(&[Input::Uint8(&[1])], 1).unwrap_err().code(), ErrorCode::InputTypeMismatch);
}

#[test]
fn zero_rows_returns_empty_outputs_with_the_static_dims_without_running() {
    let m = load("two_outputs.onnx");
    let out = m.run(&[Input::Float32(&[])], 0).unwrap();
    assert_eq!(out[0].shape, vec![0, 1]);
    assert_eq!(out[0].data, TensorData::Float32(vec![]));
    assert_eq!(out[1].data, TensorData::Int64(vec![]));
    let s = load("strings.onnx")
        .run(&[Input::String(StringColumn::from_strs(Vec::<&str>::new()).unwrap().view())], 0)
        .unwrap();
    assert_eq!(s[0].data.len(), 0);
}

#[test]
fn input_plans_are_the_contract_the_run_checks() {
    let m = load("mixed.onnx");
    let plans = m.input_plans();
    let described: Vec<_> = plans.iter().map(|p| (p.name.as_str(), p.ty, p.batch, p.width)).collect();
    assert_eq!(
        described,
        vec![
            ("a", ElementType::Float32, Batch::Rows, 2),
            ("b", ElementType::Float64, Batch::Rows, 1),
            ("c", ElementType::Int32, Batch::Rows, 1)
        ]
    );
    assert_eq!(plans[0].static_dims(), Some(&[2i64][..]));
    assert_eq!(plans[0].shape(5), vec![5, 2]);
    assert_eq!(plans[0].values_for(3).unwrap(), 6);
    assert_eq!(plans[0].unsupported(), None);
    let err = plans[0].values_for(MAX_ROWS + 1).unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidRows);

    // A rank-1 input: the batch is the whole shape.
    let int64 = load("int64.onnx");
    assert_eq!((int64.input_plans()[0].batch, int64.input_plans()[0].width), (Batch::Rows, 1));
}

#[test]
fn feed_errors_carry_structured_details() {
    let m = load("mixed.onnx");
    let (a, b, c) = ([1.0f32, 2.0], [0.5f64], [3i32]);
    let err = m.run(&[Input::Float32(&a), Input::Float32(&[0.5]), Input::Int32(&c)], 1).unwrap_err();
    assert_eq!(err.detail("input"), Some(&Detail::Str("b".into())));
    assert_eq!(err.detail("expected"), Some(&Detail::Str("float64".into())));
    assert_eq!(err.detail("got"), Some(&Detail::Str("float32".into())));
    let err = m.run(&[Input::Float32(&[1.0]), Input::Float64(&b), Input::Int32(&c)], 1).unwrap_err();
    assert_eq!(err.code(), ErrorCode::InputShapeMismatch);
    assert_eq!(
        err.details(),
        &[("input", Detail::Str("a".into())), ("expected", Detail::Int(2)), ("got", Detail::Int(1))]
    );
    let err = m.run(&[Input::Float32(&a), Input::Float64(&b)], 1).unwrap_err();
    assert_eq!(err.detail("input"), Some(&Detail::Str("c".into())));
}

#[test]
fn names_the_input_in_every_feed_error() {
    let m = load("mixed.onnx");
    let (a, b, c) = ([1.0f32, 2.0], [0.5f64], [3i32]);

    let err = m.run(&[Input::Float32(&a), Input::Float64(&b)], 1).unwrap_err();
    assert_eq!(err.code(), ErrorCode::MissingInput);
    assert!(err.message().contains("\"c\""), "{err}");

    let err =
        m.run(&[Input::Float32(&a), Input::Float64(&b), Input::Int32(&c), Input::Int32(&c)], 1).unwrap_err();
    assert_eq!(err.code(), ErrorCode::UnknownInput);

    let err = m.run(&[Input::Float32(&a), Input::Float32(&[0.5]), Input::Int32(&c)], 1).unwrap_err();
    assert_eq!(err.code(), ErrorCode::InputTypeMismatch);
    assert_eq!(err.message(), "input \"b\" expects float64, got float32");

    let err =
        m.run(&[Input::Float32(&[1.0, 2.0, 3.0]), Input::Float64(&b), Input::Int32(&c)], 1).unwrap_err();
    assert_eq!(err.code(), ErrorCode::InputShapeMismatch);
    assert_eq!(err.message(), "input \"a\" needs 2 values (1 rows x 2), got 3");

    let err = m.run(&[Input::Float32(&a), Input::Float64(&b), Input::Int32(&c)], 2).unwrap_err();
    assert_eq!(err.code(), ErrorCode::InputShapeMismatch);
    assert!(err.message().starts_with("input \"a\" needs 4 values (2 rows x 2)"), "{err}");

    assert_eq!(
        m.run(&[Input::Float32(&a), Input::Float64(&b), Input::Int32(&c)], 1).unwrap()[0].data,
        TensorData::Float64(vec![6.5])
    );
}

#[test]
fn model_file_errors_say_which_file() {
    let err = Model::builder(&runtime()).commit_from_file(fixture("does-not-exist.onnx")).unwrap_err();
    assert_eq!(err.code(), ErrorCode::ModelFileNotFound);
    assert!(err.message().contains("does-not-exist.onnx"), "{err}");

    let dir = std::env::temp_dir().join(format!("ortline-core-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let corrupt = dir.join("corrupt.onnx");
    std::fs::write(&corrupt, b"this is not a protobuf \xff\xfe\x00 at all").unwrap();
    let err = Model::builder(&runtime()).commit_from_file(&corrupt).unwrap_err();
    assert_eq!(err.code(), ErrorCode::ModelInvalid);
    assert!(err.message().contains("corrupt.onnx"), "{err}");
    // Truncated: a real model cut in half.
    let bytes = std::fs::read(fixture("mixed.onnx")).unwrap();
    assert_eq!(
        Model::builder(&runtime()).commit_from_memory(&bytes[..bytes.len() / 2]).unwrap_err().code(),
        ErrorCode::ModelInvalid
    );
    assert_eq!(
        Model::builder(&runtime()).commit_from_memory(&[]).unwrap_err().code(),
        ErrorCode::ModelInvalid
    );
    assert_eq!(
        Model::builder(&runtime()).commit_from_file(&dir).unwrap_err().code(),
        ErrorCode::ModelFileNotFound
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn options_are_applied_and_checked() {
    let rt = runtime();
    let m = Model::builder(&rt)
        .with_options(ModelOptions {
            intra_op_threads: 2,
            inter_op_threads: 1,
            optimization: OptimizationLevel::Disable,
            execution_providers: vec!["cpu".into()],
            sessions: 3,
            categorical_codes: false,
        })
        .commit_from_file(fixture("affine.onnx"))
        .unwrap();
    assert_eq!(m.sessions(), 3);
    assert_eq!(f32s(&m.run(&[Input::Float32(&[0.0, 1.0, 2.0])], 1).unwrap()[0].data), &[1.0, 3.0, 5.0]);

    for bad in [
        Model::builder(&rt).with_sessions(0),
        Model::builder(&rt).with_sessions(65),
        Model::builder(&rt).with_execution_providers(Vec::<String>::new()),
    ] {
        let err = bad.commit_from_file(fixture("affine.onnx")).unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidOption, "{err}");
    }
    assert_eq!(OptimizationLevel::parse("extended"), Some(OptimizationLevel::Extended));
    assert_eq!(OptimizationLevel::parse("max"), None);
}

#[test]
fn an_execution_provider_the_library_lacks_is_ep_unavailable_listing_what_it_has() {
    for name in ["cuda", "tpu"] {
        let err = Model::builder(&runtime())
            .with_execution_providers(["cpu", name])
            .commit_from_file(fixture("affine.onnx"))
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::EpUnavailable, "{err}");
        // This library lists cuda (it is built with it) but lacks its provider libraries: either
        // way the message names the provider and what the library has.
        assert!(err.message().contains(name) && err.message().contains("cpu"), "{err}");
    }
}

#[test]
fn concurrent_runs_on_a_pool_each_get_their_own_answer() {
    for sessions in [1, 2] {
        let m = Model::builder(&runtime())
            .with_sessions(sessions)
            .commit_from_file(fixture("affine.onnx"))
            .unwrap();
        let barrier = Arc::new(Barrier::new(6));
        let handles: Vec<_> = (0..6)
            .map(|t| {
                let (m, barrier) = (m.clone(), barrier.clone());
                thread::spawn(move || {
                    barrier.wait();
                    for i in 0..200 {
                        let rows = 1 + (i % 5);
                        let x: Vec<f32> = (0..rows * 3).map(|k| (t * 1000 + i * 10 + k) as f32).collect();
                        let out = m.run(&[Input::Float32(&x)], rows).unwrap();
                        let want: Vec<f32> = x.iter().map(|v| v * 2.0 + 1.0).collect();
                        assert_eq!(f32s(&out[0].data), &want[..], "thread {t} call {i}");
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
    }
}

/// A run of the slow fixture taking about `iterations` x 20 us.
fn slow_run(
    m: &Model,
    iterations: f32,
    control: Option<&RunControl>,
) -> ortline_core::Result<Vec<ortline_core::Output>> {
    m.run_with(&[Input::Float32(&[iterations])], 1, None, control)
}

#[test]
fn abort_terminates_a_run_in_flight_and_refuses_later_runs() {
    let m = load("slow.onnx");
    assert_eq!(f32s(&slow_run(&m, 3.0, None).unwrap()[0].data), &[3.0]);

    let control = Arc::new(RunControl::new().unwrap());
    let aborter = {
        let control = control.clone();
        thread::spawn(move || {
            thread::sleep(Duration::from_millis(100));
            control.abort();
        })
    };
    let started = Instant::now();
    // About 20 s if it ran to the end.
    let err = slow_run(&m, 1_000_000.0, Some(&control)).unwrap_err();
    aborter.join().unwrap();
    assert_eq!(err.code(), ErrorCode::RunAborted, "{err}");
    assert!(started.elapsed() < Duration::from_secs(5), "abort took {:?}", started.elapsed());

    // Already aborted: fails at once, and the model still serves other runs.
    let started = Instant::now();
    assert_eq!(slow_run(&m, 1_000_000.0, Some(&control)).unwrap_err().code(), ErrorCode::RunAborted);
    assert!(started.elapsed() < Duration::from_millis(500));
    assert_eq!(f32s(&slow_run(&m, 2.0, Some(&RunControl::new().unwrap())).unwrap()[0].data), &[2.0]);
}

#[test]
fn close_lets_the_run_in_flight_finish_and_fails_the_rest() {
    let m = load("slow.onnx");
    let in_flight = {
        let m = m.clone();
        thread::spawn(move || slow_run(&m, 10_000.0, None))
    };
    thread::sleep(Duration::from_millis(50));
    // One session, taken by the run above: this one waits, then sees the close.
    let waiting = {
        let m = m.clone();
        thread::spawn(move || slow_run(&m, 1.0, None))
    };
    thread::sleep(Duration::from_millis(50));
    m.close();
    assert!(m.is_closed());
    assert_eq!(f32s(&in_flight.join().unwrap().unwrap()[0].data), &[10_000.0]);
    assert_eq!(waiting.join().unwrap().unwrap_err().code(), ErrorCode::ModelClosed);
    assert_eq!(slow_run(&m, 1.0, None).unwrap_err().code(), ErrorCode::ModelClosed);
    assert_eq!(m.run(&[Input::Float32(&[])], 0).unwrap_err().code(), ErrorCode::ModelClosed);
    m.close(); // twice is fine
}

#[test]
fn a_process_holds_one_onnx_runtime() {
    let rt = runtime();
    assert!(rt.version().starts_with("1."), "{}", rt.version());
    // The same library again (as any candidate) is the same runtime.
    let again = ort_runtime::init(&[Candidate::new(ort_library(), "option", true)]).unwrap();
    assert_eq!(again.library(), rt.library());
    // An explicit different library cannot join it...
    let other = fixture("affine.onnx");
    let err = ort_runtime::init(&[Candidate::new(&other, "ortLibraryPath option", true)]).unwrap_err();
    assert_eq!(err.code(), ErrorCode::OrtLibraryIncompatible);
    assert!(err.message().contains("already loaded"), "{err}");
    // ...and a missing explicit one is still reported missing.
    let err =
        ort_runtime::init(&[Candidate::new("/nonexistent/libonnxruntime.so", "ortLibraryPath option", true)])
            .unwrap_err();
    assert_eq!(err.code(), ErrorCode::OrtLibraryNotFound);
    // Implicit candidates do not matter once loaded.
    assert!(ort_runtime::init(&[Candidate::new("/nonexistent/x.so", "onnxruntime-node", false)]).is_ok());
}
