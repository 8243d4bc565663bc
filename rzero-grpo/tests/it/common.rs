//! Fixture loading and tensor helpers shared by the tests.

use std::path::PathBuf;

use burn::prelude::*;
use serde::de::DeserializeOwned;

/// Parse `tests/fixtures/<name>`, written by `tests/fixtures/make_fixture.py`.
pub fn fixture<T: DeserializeOwned>(name: &str) -> T {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A `[rows, cols]` tensor from row-major `f64` fixture values.
pub fn tensor2(values: &[f64], rows: usize, cols: usize, device: &Device) -> Tensor<2> {
    let data: Vec<f32> = values.iter().map(|&v| v as f32).collect();
    Tensor::from_data(TensorData::new(data, [rows, cols]), device)
}

/// A `[n]` tensor from `f64` fixture values.
pub fn tensor1(values: &[f64], device: &Device) -> Tensor<1> {
    let data: Vec<f32> = values.iter().map(|&v| v as f32).collect();
    let n = data.len();
    Tensor::from_data(TensorData::new(data, [n]), device)
}

/// Read any tensor back as `f32` values.
pub fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().try_into_vec_as::<f32>().expect("f32 data")
}

/// Largest `|a − b|` over two equally long slices.
pub fn max_abs_diff(a: &[f32], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len(), "length mismatch");
    a.iter()
        .zip(b)
        .map(|(&x, &y)| (f64::from(x) - y).abs())
        .fold(0.0, f64::max)
}
