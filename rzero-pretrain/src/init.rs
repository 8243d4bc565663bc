//! Seeded weight init that owns its RNG: every matrix (linear and embedding
//! weights) is redrawn from `N(0, std²)` by a ChaCha8 stream seeded from the
//! run seed, in module order; norm weights stay 1. Unlike burn's device RNG
//! (global on some backends), two runs in one process cannot interleave.

use burn::module::{Module, ModuleMapper, Param};
use burn::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rzero_model::Qwen3;

struct SeededNormal {
    rng: ChaCha8Rng,
    std: f64,
}

impl SeededNormal {
    /// One standard normal draw (Box–Muller).
    fn normal(&mut self) -> f64 {
        let u1: f64 = self.rng.random::<f64>().max(f64::MIN_POSITIVE);
        let u2: f64 = self.rng.random();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }
}

impl ModuleMapper for SeededNormal {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        if D < 2 {
            return param;
        }
        let (id, tensor, mapper) = param.consume();
        let dims = tensor.dims();
        let device = tensor.device();
        let require_grad = tensor.is_require_grad();
        let n = dims.iter().product::<usize>();
        let values: Vec<f32> = (0..n).map(|_| (self.normal() * self.std) as f32).collect();
        let mut value = Tensor::<D>::from_data(TensorData::new(values, dims), &device);
        if require_grad {
            value = value.require_grad();
        }
        Param::from_mapped_value(id, value, mapper)
    }
}

/// `model` with every matrix redrawn from `N(0, std²)` seeded by `seed`.
pub fn seeded_init(model: Qwen3, seed: u64, std: f64) -> Qwen3 {
    model.map(&mut SeededNormal {
        rng: ChaCha8Rng::seed_from_u64(seed),
        std,
    })
}
