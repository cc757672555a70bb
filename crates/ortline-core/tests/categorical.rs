//! Categorical inputs as integer codes, against real ONNX Runtime: the churn model loaded with
//! the rewrite and without it gives the same answers bit for bit, for known categories, unknown
//! strings and empty strings alike, and models outside the pattern keep their strings.

mod common;

use common::{fixture, runtime};
use ortline_core::{ElementType, Input, Model, StringColumn, TensorData};

const CHURN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../models/churn/1/model.onnx");

fn churn(codes: bool) -> Model {
    Model::builder(&runtime())
        .with_categorical_codes(codes)
        .commit_from_file(CHURN)
        .expect("the churn model loads")
}

/// xorshift64*: deterministic rows without a dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Random rows in input order: numbers for the numeric inputs (a missing TotalCharges now and
/// then), and for each categorical input mostly its categories, sometimes a string it has never
/// seen or an empty one.
fn random_feeds(model: &Model, rows: usize, seed: u64) -> (Vec<Vec<f32>>, Vec<StringColumn>) {
    let mut rng = Rng(seed);
    let mut numbers = Vec::new();
    let mut strings = Vec::new();
    for (i, info) in model.inputs().iter().enumerate() {
        match info.ty {
            ElementType::Float32 => numbers.push(
                (0..rows)
                    .map(|_| if rng.below(20) == 0 { f32::NAN } else { rng.below(900_000) as f32 / 100.0 })
                    .collect(),
            ),
            ElementType::String => {
                let cats = model
                    .categories(i)
                    .map(<[String]>::to_vec)
                    .unwrap_or_else(|| vec!["Yes".into(), "No".into()]);
                let values = (0..rows).map(|_| match rng.below(20) {
                    0 => "never seen".to_owned(),
                    1 => String::new(),
                    _ => cats[rng.below(cats.len() as u64) as usize].clone(),
                });
                strings.push(StringColumn::from_strs(values).unwrap());
            }
            other => panic!("churn input {} has type {other}", info.name),
        }
    }
    (numbers, strings)
}

fn run(model: &Model, numbers: &[Vec<f32>], strings: &[StringColumn], rows: usize) -> Vec<TensorData> {
    let (mut n, mut s) = (numbers.iter(), strings.iter());
    let inputs: Vec<Input<'_>> = model
        .inputs()
        .iter()
        .map(|info| match info.ty {
            ElementType::String => Input::String(s.next().unwrap().view()),
            _ => Input::Float32(n.next().unwrap()),
        })
        .collect();
    model.run(&inputs, rows).unwrap().into_iter().map(|o| o.data).collect()
}

#[test]
fn the_churn_model_takes_codes_and_keeps_its_string_contract() {
    let (coded, plain) = (churn(true), churn(false));
    let describe =
        |m: &Model| m.inputs().iter().map(|i| (i.name.clone(), i.ty, i.shape.clone())).collect::<Vec<_>>();
    assert_eq!(describe(&coded), describe(&plain), "callers see the same inputs either way");
    let with_codes: Vec<&str> = (0..coded.inputs().len())
        .filter(|&i| coded.categories(i).is_some())
        .map(|i| coded.inputs()[i].name.as_str())
        .collect();
    assert_eq!(with_codes.len(), 15);
    assert!(!with_codes.contains(&"tenure"));
    assert!((0..plain.inputs().len()).all(|i| plain.categories(i).is_none()));
    let contract = coded.inputs().iter().position(|i| i.name == "Contract").unwrap();
    assert_eq!(coded.categories(contract).unwrap(), ["Month-to-month", "One year", "Two year"]);
    assert_eq!(coded.metadata(), plain.metadata());
}

#[test]
fn codes_give_the_same_answers_bit_for_bit_on_random_rows() {
    let (coded, plain) = (churn(true), churn(false));
    // Same row count twice in a row: the session's cached code tensors are refilled, never stale.
    for (rows, seed) in [(5000, 7), (1, 11), (3, 13), (3, 17), (1, 19), (5000, 23)] {
        let (numbers, strings) = random_feeds(&coded, rows, seed);
        let a = run(&coded, &numbers, &strings, rows);
        let b = run(&plain, &numbers, &strings, rows);
        assert_eq!(a.len(), 2);
        let TensorData::Float32(p) = &a[1] else { panic!("probabilities are float32") };
        assert_eq!(p.len(), rows * 2);
        assert!(p.iter().all(|v| v.is_finite()));
        // Float equality bit for bit: the same trees on the same one-hot vectors.
        let bits = |d: &TensorData| match d {
            TensorData::Float32(v) => v.iter().map(|x| x.to_bits() as i64).collect::<Vec<_>>(),
            TensorData::Int64(v) => v.clone(),
            other => panic!("unexpected output type {:?}", other.element_type()),
        };
        assert_eq!(bits(&a[0]), bits(&b[0]), "labels, {rows} rows");
        assert_eq!(bits(&a[1]), bits(&b[1]), "probabilities, {rows} rows");
    }
}

#[test]
fn loading_from_bytes_rewrites_too_and_other_models_keep_their_strings() {
    let bytes = std::fs::read(CHURN).unwrap();
    let m = Model::builder(&runtime()).commit_from_memory(&bytes).unwrap();
    assert_eq!((0..m.inputs().len()).filter(|&i| m.categories(i).is_some()).count(), 15);
    // strings.onnx compares its string input with constants: no encoder, no codes.
    let s = Model::builder(&runtime()).commit_from_file(fixture("strings.onnx")).unwrap();
    assert_eq!(s.inputs()[0].ty, ElementType::String);
    assert!(s.categories(0).is_none());
}
