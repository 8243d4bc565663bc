//! AdamW with every hyperparameter explicit and its state keyed by parameter path.
//!
//! burn's `AdamW` computes the same update, but its defaults differ from
//! PyTorch (eps 1e-5, weight decay 1e-4) and its state is keyed by
//! `ParamId`, which a model reloaded from safetensors does not keep. Keying
//! by module path (`layers.0.mlp.up_proj.weight`) makes a saved state
//! resume on a reloaded model.

use std::collections::BTreeMap;

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::prelude::*;
use serde::{Deserialize, Serialize};

use crate::GrpoError;
use crate::adamw_host::{self, Coefficients};

/// AdamW hyperparameters (no hidden defaults).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AdamWConfig {
    /// Base learning rate (the schedule multiplies it).
    pub lr: f64,
    /// First-moment decay β1.
    pub beta1: f64,
    /// Second-moment decay β2.
    pub beta2: f64,
    /// Denominator term ε.
    pub eps: f64,
    /// Decoupled weight decay λ.
    pub weight_decay: f64,
}

impl AdamWConfig {
    /// R-Zero's values: lr 1e-6, betas (0.9, 0.999), eps 1e-8, weight decay 0.01.
    pub fn r_zero() -> Self {
        Self {
            lr: 1e-6,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.01,
        }
    }
}

/// Moments of one parameter, flattened to `[numel]`.
#[derive(Debug, Clone)]
pub(crate) struct Moments {
    pub(crate) step: u64,
    pub(crate) exp_avg: Tensor<1>,
    pub(crate) exp_avg_sq: Tensor<1>,
}

/// AdamW exactly as `torch.optim.AdamW` (single-tensor path):
///
/// ```text
/// θ ← θ·(1 − lr·λ)
/// m ← β1·m + (1 − β1)·g          v ← β2·v + (1 − β2)·g²
/// θ ← θ − (lr / (1 − β1^k)) · m / (sqrt(v) / sqrt(1 − β2^k) + ε)
/// ```
///
/// with `k` the parameter's own step count. Bias corrections are computed
/// in `f64` as Python does.
#[derive(Debug, Clone)]
pub struct AdamW {
    config: AdamWConfig,
    pub(crate) moments: BTreeMap<String, Moments>,
}

impl AdamW {
    /// A fresh optimizer with no state.
    pub fn new(config: AdamWConfig) -> Self {
        Self {
            config,
            moments: BTreeMap::new(),
        }
    }

    /// The hyperparameters.
    pub fn config(&self) -> &AdamWConfig {
        &self.config
    }

    /// Number of parameters with state.
    pub fn len(&self) -> usize {
        self.moments.len()
    }

    /// Whether no step has been taken.
    pub fn is_empty(&self) -> bool {
        self.moments.is_empty()
    }

    pub(crate) fn from_parts(config: AdamWConfig, moments: BTreeMap<String, Moments>) -> Self {
        Self { config, moments }
    }

    /// Update every parameter of `module` that has a gradient in `grads`.
    ///
    /// `lr` is this step's learning rate (schedule applied); each gradient is
    /// first multiplied by `grad_scale` (the global clip coefficient, 1 for none).
    pub fn step<M: Module>(
        &mut self,
        module: M,
        mut grads: GradientsParams,
        lr: f64,
        grad_scale: f32,
    ) -> Result<M, GrpoError> {
        // Check the whole state first: an error must leave every parameter as it was.
        self.check_state(&module, &grads)?;
        let mut mapper = AdamWMapper {
            config: self.config,
            lr,
            grad_scale,
            grads: &mut grads,
            moments: &mut self.moments,
            path: Vec::new(),
            error: None,
        };
        let module = module.map(&mut mapper);
        match mapper.error {
            Some(error) => Err(error),
            None => Ok(module),
        }
    }
}

impl AdamW {
    /// Every state entry must name a float parameter of `module`, and the
    /// state of each parameter that has a gradient must match its size.
    fn check_state<M: Module>(&self, module: &M, grads: &GradientsParams) -> Result<(), GrpoError> {
        let mut params = ParamSizes {
            grads,
            path: Vec::new(),
            sizes: BTreeMap::new(),
        };
        module.visit(&mut params);
        let mismatch = |name: &str, reason: String| GrpoError::StateMismatch {
            path: "<in memory>".into(),
            name: name.to_string(),
            reason,
        };
        for (key, moments) in &self.moments {
            let [n] = moments.exp_avg.dims();
            match params.sizes.get(key) {
                None => {
                    return Err(mismatch(key, "the module has no such parameter".into()));
                }
                Some(&(numel, true)) if numel != n || moments.exp_avg_sq.dims() != [numel] => {
                    return Err(mismatch(
                        key,
                        format!("state has {n} elements, the parameter {numel}"),
                    ));
                }
                Some(_) => {}
            }
        }
        Ok(())
    }
}

/// Each float parameter's path, element count and whether it has a gradient.
struct ParamSizes<'a> {
    grads: &'a GradientsParams,
    path: Vec<String>,
    sizes: BTreeMap<String, (usize, bool)>,
}

impl ModuleVisitor for ParamSizes<'_> {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.push(name.to_string());
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }

    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let numel = param.val().dims().iter().product();
        let has_grad = self.grads.get::<D>(param.id).is_some();
        self.sizes.insert(self.path.join("."), (numel, has_grad));
    }
}

struct AdamWMapper<'a> {
    config: AdamWConfig,
    lr: f64,
    grad_scale: f32,
    grads: &'a mut GradientsParams,
    moments: &'a mut BTreeMap<String, Moments>,
    path: Vec<String>,
    error: Option<GrpoError>,
}

impl AdamWMapper<'_> {
    /// One AdamW update on plain (non-autodiff) tensors.
    fn update(&mut self, key: String, param: Tensor<1>, grad: Tensor<1>) -> Tensor<1> {
        let c = self.config;
        let [n] = param.dims();
        let state = match self.moments.remove(&key) {
            Some(s) if s.exp_avg.dims() == [n] => s,
            Some(_) => {
                self.error = Some(GrpoError::StateMismatch {
                    path: "<in memory>".into(),
                    name: key,
                    reason: format!("optimizer state does not have {n} elements"),
                });
                return param;
            }
            None => Moments {
                step: 0,
                exp_avg: Tensor::zeros([n], &param.device()),
                exp_avg_sq: Tensor::zeros([n], &param.device()),
            },
        };
        let step = state.step + 1;
        let k = Coefficients {
            grad_scale: f64::from(self.grad_scale),
            decay: (c.weight_decay != 0.0).then_some(1.0 - self.lr * c.weight_decay),
            beta1: c.beta1,
            beta2: c.beta2,
            bias2_sqrt: (1.0 - c.beta2.powi(step as i32)).sqrt(),
            eps: c.eps,
            step_size: self.lr / (1.0 - c.beta1.powi(step as i32)),
        };
        let tensors = [param, grad, state.exp_avg, state.exp_avg_sq];
        let [updated, exp_avg, exp_avg_sq] = if adamw_host::on_host(tensors.each_ref()) {
            adamw_host::update(tensors, k)
        } else {
            update_with_ops(tensors, k)
        };
        self.moments.insert(
            key,
            Moments {
                step,
                exp_avg,
                exp_avg_sq,
            },
        );
        updated
    }
}

/// [`adamw_host::update`] with burn's tensor ops (any backend).
pub(crate) fn update_with_ops(
    [param, grad, exp_avg, exp_avg_sq]: [Tensor<1>; 4],
    k: Coefficients,
) -> [Tensor<1>; 3] {
    let grad = if k.grad_scale == 1.0 {
        grad
    } else {
        grad * k.grad_scale
    };
    let decayed = match k.decay {
        Some(d) => param * d,
        None => param,
    };
    let exp_avg = exp_avg * k.beta1 + grad.clone() * (1.0 - k.beta1);
    let exp_avg_sq = exp_avg_sq * k.beta2 + grad.square() * (1.0 - k.beta2);
    let denom = exp_avg_sq.clone().sqrt() / k.bias2_sqrt + k.eps;
    let updated = decayed - exp_avg.clone() / denom * k.step_size;
    [updated, exp_avg, exp_avg_sq]
}

impl ModuleMapper for AdamWMapper<'_> {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.push(name.to_string());
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }

    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let (id, tensor, mapper) = param.consume();
        let Some(grad) = self.grads.remove::<D>(id) else {
            return Param::from_mapped_value(id, tensor, mapper);
        };
        let dims = tensor.dims();
        let numel = dims.iter().product::<usize>();
        let require_grad = tensor.is_require_grad();
        let strategy = tensor.gradient_checkpointing_strategy();
        let device = grad.device();
        let plain = tensor.inner().to_device(&device).reshape([numel]);
        let grad = grad.reshape([numel]);
        let key = self.path.join(".");
        let updated = self.update(key, plain, grad).reshape(dims);
        let mut value = match strategy {
            Some(s) => Tensor::from_inner(updated).with_gradient_checkpointing_strategy(s),
            None => updated,
        };
        if require_grad {
            value = value.require_grad();
        }
        Param::from_mapped_value(id, value, mapper)
    }
}
