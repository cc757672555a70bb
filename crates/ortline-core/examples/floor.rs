//! The floor for the in-process benchmark: a plain Rust loop over `ort`, no Node, no binding.
//! Same model, same columns, same threads as the contenders in bench/src/inprocess.mjs.
//!
//! floor <model.onnx> <columns.txt> <time_ms> <batches,comma,separated> <output name>
//! columns.txt: first line the row count; then per model input, in the model's input order,
//! a line `name<TAB>type` (float32 | string) followed by one value per line.
//! Prints one JSON object: per batch size the mean/p50/p99 call latency in ms and the first
//! rows of the output, which the benchmark checks against the training pipeline's answers.
use std::time::{Duration, Instant};

use ort::session::{builder::GraphOptimizationLevel, Session, SessionInputValue};
use ort::value::{Tensor, TensorRef};

enum Column {
    F32(Vec<f32>),
    Str(Vec<String>),
}

fn main() {
    if let Err(e) = run() {
        eprintln!("floor: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), String> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 6 {
        return Err("usage: floor <model.onnx> <columns.txt> <time_ms> <batches> <output>".into());
    }
    let (model, columns_path, output) = (&args[1], &args[2], args[5].as_str());
    let time = Duration::from_millis(args[3].parse().map_err(|_| "time_ms must be an integer")?);
    let batches: Vec<usize> = args[4]
        .split(',')
        .map(|b| b.parse().map_err(|_| format!("bad batch size {b:?}")))
        .collect::<Result<_, _>>()?;
    let (rows, columns) = read_columns(columns_path)?;
    if let Some(&b) = batches.iter().find(|&&b| b > rows) {
        return Err(format!("batch {b} is larger than the {rows} rows given"));
    }

    let lib = std::env::var("ORT_DYLIB_PATH").map_err(|_| "set ORT_DYLIB_PATH to libonnxruntime.so")?;
    let env = ort::init_from(&lib)
        .map_err(|e| e.to_string())?
        .with_name("ortline-floor")
        .build()
        .map_err(|e| e.to_string())?;
    let mut session = Session::builder(&env)
        .map_err(|e| e.to_string())?
        .with_optimization_level(GraphOptimizationLevel::All)
        .map_err(|e| e.to_string())?
        .with_intra_threads(1)
        .map_err(|e| e.to_string())?
        .with_inter_threads(1)
        .map_err(|e| e.to_string())?
        .with_intra_op_spinning(false)
        .map_err(|e| e.to_string())?
        .with_inter_op_spinning(false)
        .map_err(|e| e.to_string())?
        .commit_from_file(model)
        .map_err(|e| e.to_string())?;
    if session.inputs().len() != columns.len() {
        return Err(format!(
            "model has {} inputs, columns file has {}",
            session.inputs().len(),
            columns.len()
        ));
    }

    let mut out = String::from("{\"batches\":[");
    for (bi, &n) in batches.iter().enumerate() {
        let mut call = || -> Result<Vec<f32>, String> {
            // Numeric columns as views over the buffers (no copy), strings copied into ORT's
            // string tensors: the same work the addon does per call.
            let inputs: Vec<SessionInputValue> = columns
                .iter()
                .map(|c| -> Result<SessionInputValue, String> {
                    Ok(match c {
                        Column::F32(v) => {
                            TensorRef::from_array_view(([n, 1], &v[..n])).map_err(|e| e.to_string())?.into()
                        }
                        Column::Str(v) => {
                            Tensor::from_string_array(([n, 1], &v[..n])).map_err(|e| e.to_string())?.into()
                        }
                    })
                })
                .collect::<Result<_, _>>()?;
            let outputs = session.run(&inputs[..]).map_err(|e| e.to_string())?;
            let (_, data) = outputs[output].try_extract_tensor::<f32>().map_err(|e| e.to_string())?;
            Ok(data[..data.len().min(64)].to_vec())
        };
        let first = call()?;
        let warm_until = Instant::now() + time.min(Duration::from_millis(200));
        while Instant::now() < warm_until {
            call()?;
        }
        let mut lat = Vec::new();
        let start = Instant::now();
        while lat.len() < 5 || start.elapsed() < time {
            let t = Instant::now();
            call()?;
            lat.push(t.elapsed().as_secs_f64() * 1e3);
        }
        let mean = lat.iter().sum::<f64>() / lat.len() as f64;
        lat.sort_by(f64::total_cmp);
        let pct = |p: f64| lat[((lat.len() - 1) as f64 * p).round() as usize];
        if bi > 0 {
            out.push(',');
        }
        let first: Vec<String> = first.iter().map(|x| format!("{x:e}")).collect();
        out.push_str(&format!(
            "{{\"rows\":{n},\"calls\":{},\"mean_ms\":{mean},\"p50_ms\":{},\"p99_ms\":{},\"first\":[{}]}}",
            lat.len(),
            pct(0.5),
            pct(0.99),
            first.join(",")
        ));
    }
    out.push_str("]}");
    println!("{out}");
    Ok(())
}

fn read_columns(path: &str) -> Result<(usize, Vec<Column>), String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    let mut lines = text.lines();
    let rows: usize =
        lines.next().and_then(|l| l.parse().ok()).ok_or("columns file: first line must be the row count")?;
    let mut columns = Vec::new();
    while let Some(header) = lines.next() {
        let (name, ty) =
            header.split_once('\t').ok_or_else(|| format!("columns file: bad header {header:?}"))?;
        let values: Vec<&str> = lines.by_ref().take(rows).collect();
        if values.len() != rows {
            return Err(format!("columns file: input {name} has {} values, want {rows}", values.len()));
        }
        columns.push(match ty {
            "float32" => Column::F32(
                values
                    .iter()
                    .map(|v| v.parse::<f32>().map_err(|_| format!("{name}: bad number {v:?}")))
                    .collect::<Result<_, _>>()?,
            ),
            "string" => Column::Str(values.iter().map(|v| v.to_string()).collect()),
            _ => return Err(format!("columns file: input {name} has unsupported type {ty}")),
        });
    }
    Ok((rows, columns))
}
