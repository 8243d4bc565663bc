//! Global gradient-norm clipping, as `torch.nn.utils.clip_grad_norm_`.
//!
//! burn's `GradientClippingConfig::Norm` clips each parameter tensor on its
//! own; GRPO recipes clip the norm of all gradients together.

use burn::module::{Module, ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::prelude::*;

use crate::GrpoError;

/// The global L2 norm `sqrt(Σ_p ‖g_p‖²)` over every float parameter of
/// `module` that has a gradient in `grads`. Reads one scalar from the device.
pub fn global_grad_norm<M: Module>(module: &M, grads: &GradientsParams) -> Result<f32, GrpoError> {
    let mut visitor = SquaredNorm { grads, total: None };
    module.visit(&mut visitor);
    match visitor.total {
        None => Ok(0.0),
        Some(total) => read_scalar(total.sqrt(), "grad_norm"),
    }
}

/// The factor torch multiplies every gradient by:
/// `min(1, max_norm / (norm + 1e-6))`.
pub fn clip_coefficient(norm: f32, max_norm: f32) -> f32 {
    (max_norm / (norm + 1e-6)).min(1.0)
}

/// Clip `grads` in place to a global norm of at most `max_norm`, like
/// `torch.nn.utils.clip_grad_norm_`. Returns the norm before clipping.
///
/// A non-finite norm leaves the gradients as they are (the caller decides
/// whether to skip the step; [`crate::GrpoTrainer`] does).
pub fn clip_grad_norm<M: Module>(
    module: &M,
    grads: &mut GradientsParams,
    max_norm: f32,
) -> Result<f32, GrpoError> {
    let norm = global_grad_norm(module, grads)?;
    let coef = clip_coefficient(norm, max_norm);
    if norm.is_finite() && coef < 1.0 {
        let mut visitor = Scale {
            grads,
            factor: coef,
        };
        module.visit(&mut visitor);
    }
    Ok(norm)
}

struct SquaredNorm<'a> {
    grads: &'a GradientsParams,
    total: Option<Tensor<1>>,
}

impl ModuleVisitor for SquaredNorm<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if let Some(grad) = self.grads.get::<D>(param.id) {
            let squares = grad.square().sum();
            self.total = Some(match self.total.take() {
                Some(total) => total + squares,
                None => squares,
            });
        }
    }
}

struct Scale<'a> {
    grads: &'a mut GradientsParams,
    factor: f32,
}

impl ModuleVisitor for Scale<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if let Some(grad) = self.grads.remove::<D>(param.id) {
            self.grads.register(param.id, grad * self.factor);
        }
    }
}

/// Read a one-element tensor back as `f32`.
pub(crate) fn read_scalar(tensor: Tensor<1>, name: &'static str) -> Result<f32, GrpoError> {
    read_vec(tensor, name)?
        .first()
        .copied()
        .ok_or(GrpoError::Shape {
            tensor: name,
            expected: vec![1],
            found: vec![0],
        })
}

/// Read a tensor back as a `Vec<f32>`.
pub(crate) fn read_vec<const D: usize>(
    tensor: Tensor<D>,
    name: &'static str,
) -> Result<Vec<f32>, GrpoError> {
    tensor
        .into_data()
        .try_into_vec_as::<f32>()
        .map_err(|source| GrpoError::ReadBack {
            tensor: name,
            source,
        })
}
