//! The op on the autodiff backend: a hand-written backward that recomputes
//! each chunk's logits instead of keeping `[N, V]` softmax for the backward.

use burn::backend::Autodiff;
use burn::backend::autodiff::NodeId;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::tensor::{FloatTensor, IntTensor};

use super::LmHeadBackend;
use super::kernel::{self, Saved};
use crate::kernels::KernelBackend;

#[derive(Debug)]
struct TargetLogprobsBackward;

impl<B: KernelBackend> Backward<B, 2> for TargetLogprobsBackward {
    /// hidden and weight (checkpointed), targets, log-sum-exp `[N]`, chunk.
    type State = (NodeId, NodeId, IntTensor<B>, FloatTensor<B>, usize);

    fn backward(
        self,
        ops: Ops<Self::State, 2>,
        grads: &mut Gradients,
        checkpointer: &mut Checkpointer,
    ) {
        let [node_hidden, node_weight] = ops.parents;
        let grad = grads.consume::<B>(&ops.node);
        let (hidden, weight, targets, lse, chunk) = ops.state;
        let saved = Saved {
            hidden: checkpointer.retrieve_node_output(hidden),
            weight: checkpointer.retrieve_node_output(weight),
            targets,
            lse,
            chunk,
        };
        let (d_hidden, d_weight) =
            kernel::backward::<B>(saved, grad, node_hidden.is_some(), node_weight.is_some());
        if let (Some(node), Some(g)) = (node_hidden, d_hidden) {
            grads.register::<B>(node.id, g);
        }
        if let (Some(node), Some(g)) = (node_weight, d_weight) {
            grads.register::<B>(node.id, g);
        }
    }
}

impl<B: KernelBackend, C: CheckpointStrategy> LmHeadBackend for Autodiff<B, C> {
    fn target_logprobs(
        hidden: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        targets: IntTensor<Self>,
        chunk: usize,
    ) -> FloatTensor<Self> {
        match TargetLogprobsBackward
            .prepare::<C>([hidden.node(), weight.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(mut prep) => {
                // Both are needed to recompute the logits, whichever wants a gradient.
                let hidden_id = prep.checkpoint(&hidden);
                let weight_id = prep.checkpoint(&weight);
                let (logprobs, lse) = kernel::forward::<B>(
                    hidden.into_primitive(),
                    weight.into_primitive(),
                    targets.clone(),
                    chunk,
                );
                prep.finish((hidden_id, weight_id, targets, lse, chunk), logprobs)
            }
            OpsKind::UnTracked(prep) => {
                let (logprobs, _) = kernel::forward::<B>(
                    hidden.into_primitive(),
                    weight.into_primitive(),
                    targets,
                    chunk,
                );
                prep.finish(logprobs)
            }
        }
    }
}
