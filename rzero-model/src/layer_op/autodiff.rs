//! The op on the autodiff backend: the forward keeps only the layer's input
//! and weights; the backward runs the layer again and back-propagates
//! through it by hand.

use burn::backend::Autodiff;
use burn::backend::autodiff::NodeId;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::tensor::FloatTensor;

use super::{DecoderLayerBackend, LayerSpec, LayerWeights, NUM_WEIGHTS, RopeTables, kernel};
use crate::kernels::KernelBackend;

/// Parents: the input, then the weights in [`LayerWeights::into_array`] order.
const NUM_INPUTS: usize = NUM_WEIGHTS + 1;

#[derive(Debug)]
struct DecoderLayerBackward;

impl<B: KernelBackend> Backward<B, NUM_INPUTS> for DecoderLayerBackward {
    /// Input and weights (checkpointed), RoPE cos and signed sin, sizes.
    type State = (
        NodeId,
        [NodeId; NUM_WEIGHTS],
        (FloatTensor<B>, FloatTensor<B>),
        LayerSpec,
    );

    fn backward(
        self,
        ops: Ops<Self::State, NUM_INPUTS>,
        grads: &mut Gradients,
        checkpointer: &mut Checkpointer,
    ) {
        let grad = grads.consume::<B>(&ops.node);
        let (x, weights, (cos, signed_sin), spec) = ops.state;
        let x = checkpointer.retrieve_node_output::<FloatTensor<B>>(x);
        let weights = LayerWeights::from_array(
            weights.map(|id| checkpointer.retrieve_node_output::<FloatTensor<B>>(id)),
        );
        let rope = RopeTables { cos, signed_sin };
        let [node_x, node_weights @ ..] = ops.parents;
        let want = node_weights.each_ref().map(Option::is_some);
        // Recompute this layer's intermediates (only this layer's exist at once).
        let (_, acts) = kernel::forward::<B>(x, &weights, &rope, spec);
        let (d_x, d_weights) = kernel::backward::<B>(acts, &weights, &rope, spec, grad, want);
        if let Some(node) = node_x {
            grads.register::<B>(node.id, d_x);
        }
        for (node, g) in node_weights.into_iter().zip(d_weights) {
            if let (Some(node), Some(g)) = (node, g) {
                grads.register::<B>(node.id, g);
            }
        }
    }
}

impl<B: KernelBackend, C: CheckpointStrategy> DecoderLayerBackend for Autodiff<B, C> {
    fn decoder_layer(
        x: FloatTensor<Self>,
        weights: LayerWeights<Self>,
        rope: RopeTables<Self>,
        spec: LayerSpec,
    ) -> FloatTensor<Self> {
        let weights = weights.into_array();
        let [w0, w1, w2, w3, w4, w5, w6, w7, w8, w9, w10] = weights.each_ref().map(|w| w.node());
        let parents = [x.node(), w0, w1, w2, w3, w4, w5, w6, w7, w8, w9, w10];
        let rope = RopeTables {
            cos: rope.cos.into_primitive(),
            signed_sin: rope.signed_sin.into_primitive(),
        };
        match DecoderLayerBackward
            .prepare::<C>(parents)
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(mut prep) => {
                // The whole layer is recomputed from these in the backward.
                let x_id = prep.checkpoint(&x);
                let weight_ids = weights.each_ref().map(|w| prep.checkpoint(w));
                let weights = LayerWeights::from_array(weights.map(|w| w.into_primitive()));
                let (out, _) = kernel::forward::<B>(x.into_primitive(), &weights, &rope, spec);
                let state = (x_id, weight_ids, (rope.cos, rope.signed_sin), spec);
                prep.finish(state, out)
            }
            OpsKind::UnTracked(prep) => {
                let weights = LayerWeights::from_array(weights.map(|w| w.into_primitive()));
                let (out, _) = kernel::forward::<B>(x.into_primitive(), &weights, &rope, spec);
                prep.finish(out)
            }
        }
    }
}
