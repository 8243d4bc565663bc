//! The op on the autodiff backend: its backward is two more `matmul_t`
//! calls on the inner backend, so on flex the gradients run the packed
//! kernel too.

use burn::backend::Autodiff;
use burn::backend::autodiff::NodeId;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::tensor::FloatTensor;

use super::KernelBackend;

#[derive(Debug)]
struct MatmulTBackward;

impl<B: KernelBackend> Backward<B, 2> for MatmulTBackward {
    /// `a`, `b` (checkpointed) and the transposes.
    type State = (NodeId, NodeId, bool, bool);

    fn backward(
        self,
        ops: Ops<Self::State, 2>,
        grads: &mut Gradients,
        checkpointer: &mut Checkpointer,
    ) {
        let [node_a, node_b] = ops.parents;
        let d_c = grads.consume::<B>(&ops.node);
        let (a, b, ta, tb) = ops.state;
        let a: FloatTensor<B> = checkpointer.retrieve_node_output(a);
        let b: FloatTensor<B> = checkpointer.retrieve_node_output(b);
        // c = op(a)·op(b): d op(a) = dc·op(b)ᵀ, d op(b) = op(a)ᵀ·dc, each
        // transposed back where the operand was.
        if let Some(node) = node_a {
            let d_a = if ta {
                B::matmul_t(b.clone(), d_c.clone(), tb, true)
            } else {
                B::matmul_t(d_c.clone(), b, false, !tb)
            };
            grads.register::<B>(node.id, d_a);
        }
        if let Some(node) = node_b {
            let d_b = if tb {
                B::matmul_t(d_c, a, true, ta)
            } else {
                B::matmul_t(a, d_c, !ta, false)
            };
            grads.register::<B>(node.id, d_b);
        }
    }
}

#[derive(Debug)]
struct SiluMulBackward;

impl<B: KernelBackend> Backward<B, 2> for SiluMulBackward {
    /// `gate` and `up` (checkpointed).
    type State = (NodeId, NodeId);

    fn backward(
        self,
        ops: Ops<Self::State, 2>,
        grads: &mut Gradients,
        checkpointer: &mut Checkpointer,
    ) {
        let [node_gate, node_up] = ops.parents;
        let grad = grads.consume::<B>(&ops.node);
        let gate: FloatTensor<B> = checkpointer.retrieve_node_output(ops.state.0);
        let up: FloatTensor<B> = checkpointer.retrieve_node_output(ops.state.1);
        let (d_gate, d_up) = B::silu_mul_backward(grad, gate, up);
        if let Some(node) = node_gate {
            grads.register::<B>(node.id, d_gate);
        }
        if let Some(node) = node_up {
            grads.register::<B>(node.id, d_up);
        }
    }
}

#[derive(Debug)]
struct RmsNormBackward;

impl<B: KernelBackend> Backward<B, 2> for RmsNormBackward {
    /// `x` and `gamma` (checkpointed), epsilon.
    type State = (NodeId, NodeId, f64);

    fn backward(
        self,
        ops: Ops<Self::State, 2>,
        grads: &mut Gradients,
        checkpointer: &mut Checkpointer,
    ) {
        let [node_x, node_gamma] = ops.parents;
        let grad = grads.consume::<B>(&ops.node);
        let (x, gamma, eps) = ops.state;
        let x: FloatTensor<B> = checkpointer.retrieve_node_output(x);
        let gamma: FloatTensor<B> = checkpointer.retrieve_node_output(gamma);
        let (d_x, d_gamma) = B::rms_norm_backward(grad, x, gamma, eps);
        if let Some(node) = node_x {
            grads.register::<B>(node.id, d_x);
        }
        if let Some(node) = node_gamma {
            grads.register::<B>(node.id, d_gamma);
        }
    }
}

#[derive(Debug)]
struct RopeBackward;

impl<B: KernelBackend> Backward<B, 1> for RopeBackward {
    /// The cos and signed sin tables (constants: positions are not trained).
    type State = (FloatTensor<B>, FloatTensor<B>);

    fn backward(
        self,
        ops: Ops<Self::State, 1>,
        grads: &mut Gradients,
        _checkpointer: &mut Checkpointer,
    ) {
        let [node_x] = ops.parents;
        let grad = grads.consume::<B>(&ops.node);
        let (cos, signed_sin) = ops.state;
        // The rotation's transpose: the same op, the sine's halves swapped.
        if let Some(node) = node_x {
            let swapped = super::rope::swap_halves::<B>(signed_sin);
            grads.register::<B>(node.id, B::rope(grad, cos, swapped));
        }
    }
}

impl<B: KernelBackend, C: CheckpointStrategy> KernelBackend for Autodiff<B, C> {
    fn rope(
        x: FloatTensor<Self>,
        cos: FloatTensor<Self>,
        signed_sin: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        let (cos, signed_sin) = (cos.into_primitive(), signed_sin.into_primitive());
        match RopeBackward
            .prepare::<C>([x.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let out = B::rope(x.into_primitive(), cos.clone(), signed_sin.clone());
                prep.finish((cos, signed_sin), out)
            }
            OpsKind::UnTracked(prep) => prep.finish(B::rope(x.into_primitive(), cos, signed_sin)),
        }
    }

    fn rms_norm(x: FloatTensor<Self>, gamma: FloatTensor<Self>, eps: f64) -> FloatTensor<Self> {
        match RmsNormBackward
            .prepare::<C>([x.node(), gamma.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(mut prep) => {
                let state = (prep.checkpoint(&x), prep.checkpoint(&gamma), eps);
                let out = B::rms_norm(x.into_primitive(), gamma.into_primitive(), eps);
                prep.finish(state, out)
            }
            OpsKind::UnTracked(prep) => {
                prep.finish(B::rms_norm(x.into_primitive(), gamma.into_primitive(), eps))
            }
        }
    }

    fn silu_mul(gate: FloatTensor<Self>, up: FloatTensor<Self>) -> FloatTensor<Self> {
        match SiluMulBackward
            .prepare::<C>([gate.node(), up.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(mut prep) => {
                let ids = (prep.checkpoint(&gate), prep.checkpoint(&up));
                let out = B::silu_mul(gate.into_primitive(), up.into_primitive());
                prep.finish(ids, out)
            }
            OpsKind::UnTracked(prep) => {
                prep.finish(B::silu_mul(gate.into_primitive(), up.into_primitive()))
            }
        }
    }

    fn matmul_t(
        a: FloatTensor<Self>,
        b: FloatTensor<Self>,
        ta: bool,
        tb: bool,
    ) -> FloatTensor<Self> {
        match MatmulTBackward
            .prepare::<C>([a.node(), b.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(mut prep) => {
                let a_id = prep.checkpoint(&a);
                let b_id = prep.checkpoint(&b);
                let c = B::matmul_t(a.into_primitive(), b.into_primitive(), ta, tb);
                prep.finish((a_id, b_id, ta, tb), c)
            }
            OpsKind::UnTracked(prep) => {
                prep.finish(B::matmul_t(a.into_primitive(), b.into_primitive(), ta, tb))
            }
        }
    }
}
