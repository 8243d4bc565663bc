//! Shared test helpers: fixture paths, expected outputs, comparisons.

use std::path::PathBuf;

use burn::module::{ModuleVisitor, Param};
use burn::prelude::*;
use rzero_model::{HfQwen3Config, Qwen3, load_pretrained};
use serde::Deserialize;

/// The fixture checkpoints built by `tests/fixtures/make_fixtures.py`.
pub const FIXTURES: [&str; 3] = ["qwen3_s_tied", "qwen3_bf16_untied", "qwen3_sharded"];

pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

#[derive(Debug, Deserialize)]
pub struct Case {
    pub input_ids: Vec<u32>,
    pub logits: Vec<Vec<f32>>,
}

#[derive(Debug, Deserialize)]
pub struct Greedy {
    pub prompt: Vec<u32>,
    pub tokens: Vec<u32>,
    pub logprobs: Vec<f32>,
}

/// What transformers computed for a fixture.
#[derive(Debug, Deserialize)]
pub struct Expected {
    pub cases: Vec<Case>,
    pub greedy: Greedy,
}

pub fn expected(name: &str) -> Expected {
    let text = std::fs::read_to_string(fixture(name).join("expected.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

pub fn device() -> Device {
    Device::flex()
}

pub fn load(name: &str) -> (Qwen3, HfQwen3Config) {
    load_pretrained(&fixture(name), &device()).unwrap()
}

/// `[1, len]` token and position tensors for one unpadded sequence.
pub fn single(ids: &[u32], device: &Device) -> (Tensor<2, Int>, Tensor<2, Int>) {
    let n = ids.len();
    let tokens: Vec<i64> = ids.iter().map(|&t| i64::from(t)).collect();
    let positions: Vec<i64> = (0..n as i64).collect();
    (
        Tensor::from_data(TensorData::new(tokens, [1, n]), device),
        Tensor::from_data(TensorData::new(positions, [1, n]), device),
    )
}

pub fn to_vec<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .unwrap()
}

pub fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

/// Every float parameter's gradient, in visit order, named by module path.
struct Grads<'a> {
    grads: &'a burn::tensor::Gradients,
    path: Vec<String>,
    out: Vec<(String, Vec<f32>)>,
}

impl ModuleVisitor for Grads<'_> {
    fn enter_module(&mut self, name: &str, _: &str) {
        self.path.push(name.to_string());
    }
    fn exit_module(&mut self, _: &str, _: &str) {
        self.path.pop();
    }
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let name = self.path.join(".");
        let grad = param
            .val()
            .grad(self.grads)
            .unwrap_or_else(|| panic!("{name}: no grad"));
        self.out.push((name, to_vec(grad)));
    }
}

/// Every float parameter's gradient of `loss`, named by module path.
pub fn param_grads(model: &Qwen3, loss: Tensor<1>) -> Vec<(String, Vec<f32>)> {
    let grads = loss.backward();
    let mut visitor = Grads {
        grads: &grads,
        path: Vec::new(),
        out: Vec::new(),
    };
    model.visit(&mut visitor);
    visitor.out
}
