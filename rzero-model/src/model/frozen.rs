//! BF16 storage for frozen copies: [`Qwen3::with_bf16_matrices`].

use burn::module::{ModuleMapper, Param};
use burn::prelude::*;
use burn::tensor::DType;

use super::Qwen3;

/// Casts every matrix parameter (embedding, projections, LM head) to BF16;
/// vectors (the norms) stay as they are.
struct Bf16Matrices;

impl ModuleMapper for Bf16Matrices {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        if D == 2 {
            param.map(|t| t.cast(DType::BF16))
        } else {
            param
        }
    }
}

impl Qwen3 {
    /// The model with its matrices (embedding, projections, LM head) stored
    /// in BF16: half the memory of a frozen copy such as a GRPO reference.
    /// Norm weights stay f32. Each forward widens a matrix to f32 where it
    /// is used (one layer's matrix at a time), so the arithmetic, the
    /// kernels and the outputs stay f32; only the stored values are rounded.
    /// For a model loaded from a BF16 checkpoint nothing is lost at all.
    ///
    /// Meant for frozen copies on inference devices (a reference that
    /// scores, samplers: the CPU's small-row decode kernel reads BF16 as it
    /// is). The f32 originals' freed pages go back to the OS
    /// ([`crate::allocator::release_freed_memory`]), so the process keeps
    /// only the BF16 copy.
    pub fn with_bf16_matrices(self) -> Self {
        let model = self.map(&mut Bf16Matrices);
        crate::allocator::release_freed_memory();
        model
    }

    /// The element type the matrices are stored in (F32, or BF16 after
    /// [`Qwen3::with_bf16_matrices`]).
    pub fn matrix_dtype(&self) -> DType {
        self.embed_tokens.weight.val().dtype()
    }
}

/// Whether [`Qwen3::with_bf16_matrices`] is checked on `device`: flex
/// (the CPU). wgpu has no BF16; CUDA has it but no run here has checked
/// this path on it.
pub fn bf16_storage_checked_on(device: &Device) -> bool {
    !device.is_autodiff() && *device == Device::flex()
}

/// `t` as f32: itself when it already is, else a widened copy.
pub(crate) fn widened<const D: usize>(t: Tensor<D>) -> Tensor<D> {
    if t.dtype() == DType::F32 {
        t
    } else {
        t.cast(DType::F32)
    }
}
