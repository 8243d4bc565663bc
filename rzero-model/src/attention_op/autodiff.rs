//! The op on the autodiff backend: a hand-written backward that recomputes
//! each query block's probabilities from the saved log-sum-exp instead of
//! keeping `[b, h, sq, sk]` softmax for the backward.

use burn::backend::Autodiff;
use burn::backend::autodiff::NodeId;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::tensor::FloatTensor;

use super::CausalAttentionBackend;
use super::kernel::{self, Saved};
use crate::kernels::KernelBackend;

#[derive(Debug)]
struct CausalAttentionBackward;

impl<B: KernelBackend> Backward<B, 3> for CausalAttentionBackward {
    /// query, key, value (checkpointed), output, log-sum-exp `[b, h, sq, 1]`, block.
    type State = (
        NodeId,
        NodeId,
        NodeId,
        FloatTensor<B>,
        FloatTensor<B>,
        usize,
    );

    fn backward(
        self,
        ops: Ops<Self::State, 3>,
        grads: &mut Gradients,
        checkpointer: &mut Checkpointer,
    ) {
        let [node_query, node_key, node_value] = ops.parents;
        let grad = grads.consume::<B>(&ops.node);
        let (query, key, value, out, lse, block) = ops.state;
        let saved = Saved {
            query: checkpointer.retrieve_node_output(query),
            key: checkpointer.retrieve_node_output(key),
            value: checkpointer.retrieve_node_output(value),
            out,
            lse,
            block,
        };
        let want = [
            node_query.is_some(),
            node_key.is_some(),
            node_value.is_some(),
        ];
        let [d_query, d_key, d_value] = kernel::backward::<B>(saved, grad, want);
        for (node, g) in [
            (node_query, d_query),
            (node_key, d_key),
            (node_value, d_value),
        ] {
            if let (Some(node), Some(g)) = (node, g) {
                grads.register::<B>(node.id, g);
            }
        }
    }
}

impl<B: KernelBackend, C: CheckpointStrategy> CausalAttentionBackend for Autodiff<B, C> {
    fn causal_attention(
        query: FloatTensor<Self>,
        key: FloatTensor<Self>,
        value: FloatTensor<Self>,
        block: usize,
    ) -> FloatTensor<Self> {
        match CausalAttentionBackward
            .prepare::<C>([query.node(), key.node(), value.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(mut prep) => {
                // All three recompute the probabilities, whichever wants a gradient.
                let query_id = prep.checkpoint(&query);
                let key_id = prep.checkpoint(&key);
                let value_id = prep.checkpoint(&value);
                let (out, lse) = kernel::forward::<B>(
                    query.into_primitive(),
                    key.into_primitive(),
                    value.into_primitive(),
                    block,
                );
                prep.finish((query_id, key_id, value_id, out.clone(), lse, block), out)
            }
            OpsKind::UnTracked(prep) => {
                let (out, _) = kernel::forward::<B>(
                    query.into_primitive(),
                    key.into_primitive(),
                    value.into_primitive(),
                    block,
                );
                prep.finish(out)
            }
        }
    }
}
