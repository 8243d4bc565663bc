//! The memory planner: formulae against hand computations, the chooser's
//! guarantees, and a plan of the built-in model's run.

use rzero_core::plan::estimate::{
    self, Capabilities, TrainStep, decode, head_gradient, inference_floats_per_token, kv_cache,
    kv_tensor, layer_floats_per_token, prefill, recomputed_layer_floats_per_token,
    train_activations, train_logits,
};
use rzero_core::plan::{
    HEADROOM_DIVISOR, ModelShape, PhaseKind, PhaseSpec, Plan, PlanOptions, PromptLengths, Resident,
    choose, phase_specs, plan_run,
};
use rzero_model::Qwen3Config;

const GIB: u64 = 1 << 30;

/// Qwen3 preset S: vocab 512, d 128, f 384, 4 layers, 4 heads / 2 KV heads,
/// head_dim 32, tied.
fn small() -> ModelShape {
    ModelShape::from_config(&Qwen3Config::s())
}

fn step(rows: u64, sequence: u64, completion: u64) -> TrainStep {
    TrainStep {
        rows,
        sequence,
        completion,
        chunk: 1024,
        recompute: false,
        memory_efficient_attention: true,
    }
}

#[test]
fn small_shape_formulae_match_hand_computations() {
    let s = small();
    let full = s.trainable(None);
    assert_eq!(s.params(), 853_376);
    assert_eq!(estimate::weights(&s, 1), 853_376 * 4);
    assert_eq!(estimate::optimizer_moments(&full), 2 * 853_376 * 4);
    assert_eq!(estimate::gradients(&full, 2), 2 * 853_376 * 4);
    // With the attention op: 6·128 + 5·128 + 4·64 + 5·384 + 4 heads;
    // decomposed: 6·128 + 6·128 + 2·64 + 5·384.
    assert_eq!(layer_floats_per_token(&s, true), 3588);
    assert_eq!(layer_floats_per_token(&s, false), 3584);

    // b = 2, s = 10, c = 4: each layer keeps 20·3588 = 71,760 floats;
    // outside the layers 3·20·128 + 2·2·4·128 + 2·20·32 = 11,008. One
    // layer's backward adds 20·(128 + 3·384) = 25,600 and 4 block tensors
    // of 2·4·10·10.
    let plain = step(2, 10, 4);
    let a = train_activations(&s, &plain);
    assert_eq!(a.kept, (4 * 71_760 + 11_008) * 4);
    assert_eq!(a.backward, (25_600 + 3_200) * 4);
    // Recomputation keeps 4·20·128 layer inputs and rebuilds one layer of
    // 4·128 + 4·128 + 3·64 + 3·384 + 4 = 2,372 floats per token.
    assert_eq!(recomputed_layer_floats_per_token(&s), 2_372);
    let recompute = TrainStep {
        recompute: true,
        ..plain
    };
    let r = train_activations(&s, &recompute);
    assert_eq!(r.kept, (10_240 + 11_008) * 4);
    assert_eq!(r.backward, (20 * 2_372 + 25_600 + 3_200) * 4);
    // Decomposed attention keeps 3 score tensors of 2·4·10·10 per layer and
    // 3 more in the backward.
    let decomposed = TrainStep {
        memory_efficient_attention: false,
        ..plain
    };
    let d = train_activations(&s, &decomposed);
    assert_eq!(d.kept, (4 * (71_680 + 2_400) + 11_008) * 4);
    assert_eq!(d.backward, (25_600 + 2_400) * 4);
    // 8 completion positions < chunk: one chunk is 8·512 logits.
    assert_eq!(train_logits(&s, &plain), 8 * 512 * 4);
    let chunked = TrainStep { chunk: 2, ..plain };
    assert_eq!(train_logits(&s, &chunked), 2 * 512 * 4);
    assert_eq!(head_gradient(&s, true), 512 * 128 * 4);
    assert_eq!(head_gradient(&s, false), 0);

    // K and V of 4 layers, 3 rows, 2·32 wide, 10 positions.
    assert_eq!(kv_cache(&s, 3, 10), 2 * 4 * 3 * 64 * 10 * 4);
    assert_eq!(kv_tensor(&s, 3, 10), 3 * 64 * 10 * 4);
    // A no-grad layer holds at most max(128 + 3·384, 128 + 3·128 + 2·64)
    // floats per token: the MLP's.
    assert_eq!(inference_floats_per_token(&s), 1280);
    // Decode of 3 rows at 10 positions: one layer's 3·1280 floats; without a
    // fused attention kernel also scores 2·3·4·10 and K/V repeated to the
    // query heads 2·3·4·10·32. The cache, and one K tensor copied while a
    // finished row is dropped.
    let d = decode(&s, true, 3, 10);
    assert_eq!(d.activations, 3 * 1280 * 4);
    assert_eq!(d.logits, 2 * 3 * 512 * 4);
    assert_eq!(d.kv_cache, kv_cache(&s, 3, 10) + kv_tensor(&s, 3, 10));
    let d = decode(&s, false, 3, 10);
    assert_eq!(d.activations, (3 * 1280 + 240 + 7680) * 4);
    // Prefill of 2 prompts of 6 tokens into a cache of 10 positions: 12
    // tokens of one layer, RoPE tables 2·12·32, a 2·6·6-byte padding mask;
    // the whole reserved cache exists already.
    let p = prefill(&s, true, 2, (6, 10), 2);
    assert_eq!(p.activations, (12 * 1280 + 768) * 4 + 72);
    assert_eq!(p.kv_cache, kv_cache(&s, 2, 10));
    assert_eq!(p.logits, 2 * 2 * 512 * 4);
    let p = prefill(&s, false, 2, (6, 10), 2);
    assert_eq!(
        p.activations,
        (12 * 1280 + 768 + 2 * 2 * 4 * 36 + 2 * 2 * 4 * 6 * 32) * 4 + 72
    );
    // Replicated to 3 rows: the replicated cache and one K tensor of the
    // prompt's, now larger than the forward.
    let p = prefill(&s, true, 1, (6, 10), 3);
    assert_eq!(p.kv_cache, kv_cache(&s, 3, 10) + kv_tensor(&s, 1, 10));
    assert_eq!(p.activations, 0);
}

#[test]
fn qwen3_0_6b_formulae_match_hand_computations() {
    let q = ModelShape::qwen3_0_6b();
    let full = q.trainable(None);
    // 151,936·1024 embedding + 28 · (6,291,712 attention + 9,437,184 MLP +
    // 2,048 norms) + 1,024.
    assert_eq!(q.params(), 596_049_920);
    assert_eq!(estimate::weights(&q, 1), 2_384_199_680);
    assert_eq!(estimate::gradients(&full, 1), 2_384_199_680);
    assert_eq!(estimate::optimizer_moments(&full), 4_768_399_360);
    // The largest tensor is the tied embedding.
    assert_eq!(q.largest_param(), 151_936 * 1024);
    // f32 K and V: 2 · 28 · 8·128 · 4 = 224 KiB per token.
    assert_eq!(kv_cache(&q, 1, 1), 224 * 1024);
    // 6·1024 + 5·2048 + 4·1024 + 5·3072 + 16.
    assert_eq!(layer_floats_per_token(&q, true), 35_856);
    assert_eq!(inference_floats_per_token(&q), 1024 + 3 * 3072);
    assert_eq!(recomputed_layer_floats_per_token(&q), 24_592);
    // One row of 4096 tokens with decomposed attention: the saved scores
    // alone are 3 · 16 · 4096² · 4 bytes = 3 GiB per layer (84 GiB over 28
    // layers) plus the backward's 3 GiB.
    let decomposed = TrainStep {
        memory_efficient_attention: false,
        ..step(1, 4096, 1024)
    };
    let scores: u64 = 29 * 3 * 16 * 4096 * 4096 * 4;
    let outside = 3 * 4096 * 1024 + 2 * 1024 * 1024 + 2 * 4096 * 128;
    let rest = (28 * 4096 * 35_840 + 4096 * 10_240 + outside) * 4;
    let a = train_activations(&q, &decomposed);
    assert_eq!(a.kept + a.backward, scores + rest);
    // With the op: no scores kept; the backward holds 4 blocks of
    // 16 heads × 128 queries × 4096 keys.
    let a = train_activations(&q, &step(1, 4096, 1024));
    assert_eq!(a.kept, (28 * 4096 * 35_856 + outside) * 4);
    assert_eq!(a.backward, (4096 * 10_240 + 4 * 16 * 128 * 4096) * 4);
    assert!(a.kept + a.backward < 18 << 30 && scores > 86 << 30);
    // 1024 positions of logits at once; the head's gradient is [V, d].
    assert_eq!(train_logits(&q, &step(1, 4096, 1024)), 1024 * 151_936 * 4);
    assert_eq!(head_gradient(&q, true), 151_936 * 1024 * 4);
    // LoRA rank 16 on all seven projections: 28 · 16 · (3072 + 2048 + 2048
    // + 3072 + 4096 + 4096 + 4096) adapter elements.
    let lora = rzero_grpo::LoraSettings {
        rank: 16,
        alpha: None,
        targets: rzero_grpo::LoraTargets::ALL,
    };
    let t = q.trainable(Some(&lora));
    assert_eq!(t.params, 28 * 16 * 22_528);
    assert_eq!(estimate::optimizer_moments(&t), 2 * 28 * 16 * 22_528 * 4);
    assert_eq!(t.adapted, 28 * (6_291_456 + 9_437_184));
}

fn solver_update(rows: u64, sequence: u64) -> PhaseSpec {
    PhaseSpec {
        name: "solver_update",
        kind: PhaseKind::Update,
        prompt_tokens: sequence / 2,
        new_tokens: sequence - sequence / 2,
        max_rows: rows,
        granularity: 1,
        rows_per_step: 4 * rows,
        score_rows: 32,
        resident: Resident {
            policy: true,
            optimizer: true,
            reference: true,
            reference_bf16: false,
            sampler_bf16: false,
            frozen: 0,
        },
        remote: false,
        policy_samples: false,
        lora: None,
    }
}

/// A sampling phase of `rows` rows (`n` samples per prompt), one frozen
/// model resident.
fn sampler(rows: u64, n: u64, prompt_tokens: u64, new_tokens: u64) -> PhaseSpec {
    PhaseSpec {
        name: "eval",
        kind: PhaseKind::Sampling,
        prompt_tokens,
        new_tokens,
        max_rows: rows,
        granularity: n,
        rows_per_step: 0,
        score_rows: 0,
        resident: Resident {
            policy: false,
            optimizer: false,
            reference: false,
            reference_bf16: false,
            sampler_bf16: false,
            frozen: 1,
        },
        remote: false,
        policy_samples: false,
        lora: None,
    }
}

/// The plan of `spec` alone with unlimited memory on a CPU (`cpu`) or not.
fn plan_one(shape: &ModelShape, spec: &PhaseSpec, cpu: bool) -> rzero_core::plan::PhasePlan {
    let options = PlanOptions::for_device(u64::MAX / 4, cpu);
    choose(shape, std::slice::from_ref(spec), &options, true)
        .phases
        .remove(0)
}

/// Regression: `--measure` grew the Challenger's cache to the exact
/// sequence and doubled it at the first decode step, and `select_rows`
/// built a whole second cache before releasing the first; the run itself
/// reserves the completion up front and now copies one tensor at a time.
#[test]
fn generation_holds_one_reserved_cache_and_one_tensor_more() {
    let q = ModelShape::qwen3_0_6b();
    // Short prompts, long completions (the Challenger): the prefill already
    // holds the cache at its full 4,296 positions.
    let p = prefill(&q, true, 8, (200, 4296), 8);
    assert_eq!(p.kv_cache, kv_cache(&q, 8, 4296));
    // Dropping a finished row copies one of 56 K/V tensors, not the cache.
    let d = decode(&q, true, 8, 4296);
    assert_eq!(d.kv_cache * 56, kv_cache(&q, 8, 4296) * 57);
    // The chooser uses the full sequence for both moments.
    let plan = plan_one(&q, &sampler(8, 1, 200, 4096), true);
    assert_eq!(plan.moment, rzero_core::plan::Moment::Decode);
    assert_eq!(plan.breakdown.kv_cache, d.kv_cache);
    // Long prompts prefilled at once (the Solver's eval): the prefill, with
    // its padding mask, is the peak.
    let plan = plan_one(&q, &sampler(16, 1, 4125, 4096), true);
    assert_eq!(plan.moment, rzero_core::plan::Moment::Prefill);
    assert_eq!(plan.breakdown.kv_cache, kv_cache(&q, 16, 8221));
    assert!(plan.breakdown.activations > 16 * 4125 * 4125);
}

/// On a CPU the generator copies a tied head transposed; untied heads and
/// other devices are read in place.
#[test]
fn a_tied_head_is_copied_for_decoding_on_a_cpu() {
    let q = ModelShape::qwen3_0_6b();
    let spec = sampler(8, 4, 100, 100);
    let (cpu, gpu) = (plan_one(&q, &spec, true), plan_one(&q, &spec, false));
    assert_eq!(
        cpu.breakdown.weights - gpu.breakdown.weights,
        151_936 * 1024 * 4
    );
    let untied = ModelShape { tied: false, ..q };
    let (cpu, gpu) = (
        plan_one(&untied, &spec, true),
        plan_one(&untied, &spec, false),
    );
    assert_eq!(cpu.breakdown.weights, gpu.breakdown.weights);
    // Updates never copy it.
    let update = plan_one(&q, &solver_update(1, 512), true);
    assert_eq!(update.breakdown.weights, 2 * q.params() * 4);
}

/// The backward's moments are counted apart: the head's two gradient
/// buffers and chunk of logits are gone before this micro-batch's whole
/// gradient set exists, so the two never add up.
#[test]
fn the_gradient_sets_and_the_head_buffers_never_add_up() {
    let q = ModelShape::qwen3_0_6b();
    let p = q.params() * 4;
    let head = head_gradient(&q, true);
    let at = |rows, sequence| {
        let mut options = PlanOptions::new(u64::MAX / 4);
        options.recompute = rzero_core::memory::Recompute::Off;
        let spec = solver_update(rows, sequence);
        choose(&q, std::slice::from_ref(&spec), &options, true)
            .phases
            .remove(0)
    };
    // Short rows: the end of the backward, the gradient sum of the earlier
    // micro-batches, this one's, and a tied embedding's second [V, d].
    let short = at(1, 64);
    assert_eq!(short.moment, rzero_core::plan::Moment::Backward);
    assert_eq!(short.breakdown.gradients, 2 * p + head);
    assert_eq!(short.breakdown.logits, 0);
    // Long rows: the head's backward, every activation still kept, one
    // gradient sum and the head's two buffers.
    let long = at(1, 2048);
    assert_eq!(long.moment, rzero_core::plan::Moment::Backward);
    assert_eq!(long.breakdown.gradients, p + 2 * head);
    assert!(long.breakdown.logits > 0);
    // LoRA freezes the head: no [V, d] gradient at any moment.
    let mut spec = solver_update(4, 4096);
    spec.lora = Some(rzero_grpo::LoraSettings {
        rank: 16,
        alpha: None,
        targets: rzero_grpo::LoraTargets::ALL,
    });
    let lora = plan_one(&q, &spec, true);
    assert!(lora.breakdown.gradients < head / 4, "{lora:?}");
}

fn paper_plan(shape: &ModelShape, budget: u64) -> Plan {
    let config = rzero_core::preset("paper").unwrap();
    let specs = phase_specs(&config, &PromptLengths::approximate(&config));
    choose(shape, &specs, &PlanOptions::new(budget), false)
}

/// `reference_dtype = "bf16"` halves the reference's matrices in the
/// estimate of an update (norms stay f32), `sampler_dtype = "bf16"` a
/// frozen sampler's, and the paper preset asks for both.
#[test]
fn bf16_frozen_copies_cost_half_their_matrices() {
    let q = ModelShape::qwen3_0_6b();
    let mut spec = solver_update(8, 4096);
    let f32_ref = plan_one(&q, &spec, true);
    spec.resident.reference_bf16 = true;
    let bf16_ref = plan_one(&q, &spec, true);
    let saved = f32_ref.breakdown.weights - bf16_ref.breakdown.weights;
    assert_eq!(saved, 2 * q.matrix_params());
    let vectors = q.params() - q.matrix_params();
    assert_eq!(vectors, 28 * (2 * 128 + 2 * 1024) + 1024);
    // A frozen sampler (`sampler_dtype`): its matrices and its copy of
    // the tied head for decoding on a CPU both halve.
    let mut eval = sampler(16, 1, 512, 512);
    let f32_eval = plan_one(&q, &eval, true);
    eval.resident.sampler_bf16 = true;
    let bf16_eval = plan_one(&q, &eval, true);
    let head = estimate::decode_head(&q, true, false);
    assert_eq!(head, 2 * estimate::decode_head(&q, true, true));
    assert_eq!(
        f32_eval.breakdown.weights - bf16_eval.breakdown.weights,
        2 * q.matrix_params() + head / 2
    );
    let config = rzero_core::preset("paper").unwrap();
    let specs = phase_specs(&config, &PromptLengths::approximate(&config));
    let updates = specs.iter().filter(|s| s.resident.reference);
    assert!(updates.clone().count() >= 2);
    assert!(updates.into_iter().all(|s| s.resident.reference_bf16));
    assert!(specs.iter().all(|s| s.resident.sampler_bf16));
}

#[test]
fn more_memory_never_gives_fewer_rows() {
    let config = rzero_core::preset("paper").unwrap();
    let mut specs = phase_specs(&config, &PromptLengths::approximate(&config));
    specs.push(solver_update(64, 512));
    for shape in [small(), ModelShape::qwen3_0_6b()] {
        let mut last: Option<Plan> = None;
        for step in 0..200u64 {
            let budget = (1 + step * step) * (GIB / 8);
            let plan = choose(&shape, &specs, &PlanOptions::new(budget), false);
            if let Some(prev) = &last {
                assert!(
                    plan.fits || !prev.fits,
                    "fits at {} but not at {budget}",
                    prev.budget_bytes
                );
                for (a, b) in prev.phases.iter().zip(&plan.phases) {
                    assert!(
                        b.micro_batch_rows >= a.micro_batch_rows,
                        "{}: {} rows at {} bytes, {} at {budget}",
                        a.name,
                        a.micro_batch_rows,
                        prev.budget_bytes,
                        b.micro_batch_rows
                    );
                    assert!(b.fits || !a.fits, "{}", a.name);
                }
            }
            last = Some(plan);
        }
    }
}

#[test]
fn the_chosen_rows_are_the_largest_that_fit() {
    let shape = ModelShape::qwen3_0_6b();
    let spec = solver_update(64, 2048);
    for budget in [24 * GIB, 32 * GIB, 40 * GIB] {
        let plan = choose(
            &shape,
            std::slice::from_ref(&spec),
            &PlanOptions::new(budget),
            true,
        );
        let p = &plan.phases[0];
        assert!(p.fits, "{budget}: {p:?}");
        // Rows are packed up to the budget less its headroom.
        let packing = PlanOptions::new(budget).packing_bytes();
        assert_eq!(packing, budget - budget / HEADROOM_DIVISOR);
        assert!(p.estimate_bytes <= packing);
        let rows = p.micro_batch_rows;
        assert!(
            (1..64).contains(&rows),
            "64 rows of 2048 tokens need more than 40 GiB: {rows}"
        );
        assert!(
            p.notes.iter().any(|n| n.contains("lowered from 64")),
            "{:?}",
            p.notes
        );
        // One more row would not fit.
        let more = PhaseSpec {
            max_rows: rows + 1,
            ..spec.clone()
        };
        let unlimited = choose(&shape, &[more], &PlanOptions::new(u64::MAX / 4), true);
        assert_eq!(unlimited.phases[0].micro_batch_rows, rows + 1);
        assert!(unlimited.phases[0].estimate_bytes > packing);
    }
}

#[test]
fn a_phase_that_cannot_fit_is_named_with_its_shortfall() {
    let plan = paper_plan(&ModelShape::qwen3_0_6b(), 8 * GIB);
    assert!(!plan.fits);
    let worst = plan.worst().unwrap();
    assert!(!worst.fits && worst.shortfall_bytes > 0);
    assert_eq!(worst.shortfall_bytes, worst.estimate_bytes - 8 * GIB);
    let message = plan.refusal().unwrap();
    assert!(message.contains(&format!("`{}`", worst.name)), "{message}");
    assert!(message.contains("more than available"), "{message}");
    // Not even one 8k-token row fits 8 GiB, recomputation or not.
    let update = plan.phase("solver_update").unwrap();
    assert!(!update.fits);
    assert_eq!(update.micro_batch_rows, 1);
    assert!(plan.phase("nonsense").is_err());
    // With plenty of memory nothing is refused.
    let roomy = paper_plan(&small(), 64 * GIB);
    assert!(
        roomy.fits && roomy.refusal().is_none(),
        "{:?}",
        roomy.worst()
    );
}

/// A sampler whose one prompt's `n` samples do not fit splits them over
/// calls of fewer rows: the 0.6B paper run fits 20 GiB, its Solver votes
/// (m = 10 per question) at fewer than 10 rows per call.
#[test]
fn samples_of_one_prompt_split_over_calls_to_fit() {
    let q = ModelShape::qwen3_0_6b();
    let plan = paper_plan(&q, 20 * GIB);
    assert!(plan.fits, "{:?}", plan.worst());
    let votes = plan.phase("challenger_solver_votes").unwrap();
    assert_eq!(votes.spec.granularity, 10);
    assert!((1..10).contains(&votes.micro_batch_rows), "{votes:?}");
    assert!(votes.estimate_bytes <= 20 * GIB);
    // One row more would not fit; the rows are the most that do.
    let more = PhaseSpec {
        max_rows: votes.micro_batch_rows + 1,
        ..votes.spec.clone()
    };
    let unlimited = choose(&q, &[more], &PlanOptions::new(u64::MAX / 4), false);
    assert!(unlimited.phases[0].estimate_bytes > PlanOptions::new(20 * GIB).packing_bytes());
    // Candidate rows: whole prompts first, then parts of one prompt.
    let s = sampler(30, 10, 200, 4096);
    let roomy = plan_one(&q, &s, true);
    assert_eq!(roomy.micro_batch_rows, 30);
    // A budget below one prompt's 10 rows (but above one row) gets 1..10 rows.
    let one = plan_one(&q, &sampler(1, 1, 200, 4096), true).estimate_bytes;
    let ten = plan_one(&q, &sampler(10, 10, 200, 4096), true).estimate_bytes;
    let budget = (one + ten) / 2;
    let tight = choose(&q, &[s], &PlanOptions::for_device(budget, true), false);
    let rows = tight.phases[0].micro_batch_rows;
    assert!(
        tight.fits && (1..10).contains(&rows),
        "{:?}",
        tight.phases[0]
    );
}

#[test]
fn capabilities_change_the_estimates_as_documented() {
    let shape = ModelShape::qwen3_0_6b();
    let spec = solver_update(8, 4096);
    let budget = 120 * GIB;
    let mut without = PlanOptions::new(budget);
    without.capabilities = Capabilities {
        recompute: false,
        logprob_chunk: false,
        sampling_rows: false,
        ..Capabilities::current(true)
    };
    let before = choose(&shape, std::slice::from_ref(&spec), &without, true);
    let now = choose(
        &shape,
        std::slice::from_ref(&spec),
        &PlanOptions::new(budget),
        true,
    );
    let (a, b) = (&before.phases[0], &now.phases[0]);
    assert!(b.micro_batch_rows > a.micro_batch_rows, "{a:?}\n{b:?}");
    assert_eq!(a.recompute, Some(false));
    assert_eq!(a.logprob_chunk, Some(1024));
    assert_eq!(b.recompute, Some(true));
    assert!(b.fits);
    // Recomputation off in the run's config: the same rows as without it,
    // and a note saying what it would allow.
    let mut off = PlanOptions::new(budget);
    off.recompute = rzero_core::memory::Recompute::Off;
    let off = choose(&shape, std::slice::from_ref(&spec), &off, true);
    assert_eq!(off.phases[0].recompute, Some(false));
    assert!(
        off.phases[0]
            .notes
            .iter()
            .any(|n| n.contains("memory.recompute is off")),
        "{:?}",
        off.phases[0].notes
    );
}

#[test]
fn the_phases_follow_the_run_config() {
    let mut config = rzero_core::preset("tiny").unwrap();
    let prompts = PromptLengths {
        challenger: 100,
        solver_overhead: 20,
        exact: true,
    };
    let specs = phase_specs(&config, &prompts);
    let names: Vec<&str> = specs.iter().map(|s| s.name).collect();
    assert_eq!(
        names,
        [
            "challenger_rollouts",
            "challenger_solver_votes",
            "challenger_update",
            "question_set_challenger",
            "question_set_solver_labels",
            "solver_rollouts",
            "solver_update",
            "eval"
        ]
    );
    let by_name = |n: &str| specs.iter().find(|s| s.name == n).unwrap().clone();
    // Tiny: 16 prompts × G = 4; micro-batches of 32 rows.
    let update = by_name("challenger_update");
    assert_eq!((update.prompt_tokens, update.new_tokens), (100, 96));
    assert_eq!(update.max_rows, 32);
    assert_eq!(update.rows_per_step, 32);
    assert!(update.resident.reference && update.resident.frozen == 1);
    // m = 8 votes per question: 16 questions per generation call.
    let votes = by_name("question_set_solver_labels");
    assert_eq!((votes.granularity, votes.max_rows), (8, 128));
    assert_eq!(votes.prompt_tokens, 20 + 96);
    assert_eq!(votes.resident.frozen, 2);
    // β = 0 drops the reference; remote labelling drops the local Solver.
    config.grpo.loss.kl.beta = 0.0;
    config.inference.labelling.endpoints = vec!["http://127.0.0.1:1".into()];
    config.challenger.train = false;
    config.eval.maj_m = 4;
    let specs = phase_specs(&config, &prompts);
    assert!(specs.iter().all(|s| !s.name.starts_with("challenger")));
    let by_name = |n: &str| specs.iter().find(|s| s.name == n).unwrap().clone();
    assert!(!by_name("solver_update").resident.reference);
    let labels = by_name("question_set_solver_labels");
    assert!(labels.remote && labels.resident.frozen == 1);
    assert_eq!(by_name("eval_majority").granularity, 4);
}

#[test]
fn the_built_in_model_plans_with_its_tokenizer() {
    let dir = rzero_core::builtin::builtin_model_dir().unwrap();
    let config = rzero_core::preset("tiny").unwrap();
    let plan = plan_run(&config, &dir, &PlanOptions::new(16 * GIB)).unwrap();
    assert!(plan.exact_prompts && plan.fits);
    // 758·128 embedding + 4 · (49,216 + 147,456 + 256) + 128.
    assert_eq!(plan.params, 884_864);
    for p in &plan.phases {
        assert_eq!(p.estimate_bytes, p.breakdown.total(), "{}", p.name);
        assert!(p.sequence <= 512 && p.sequence > p.prompt_tokens, "{p:?}");
        assert_eq!(p.micro_batch_rows, p.max_rows, "{}", p.name);
    }
    // A megabyte fits nothing: weights alone are 3.5 MB per copy.
    let tiny = plan_run(&config, &dir, &PlanOptions::new(1 << 20)).unwrap();
    assert!(!tiny.fits && tiny.phases.iter().all(|p| !p.fits));
}

#[test]
fn lora_trains_adapters_and_samples_from_a_merged_copy() {
    let mut config = rzero_core::preset("paper").unwrap();
    let shape = ModelShape::qwen3_0_6b();
    let prompts = PromptLengths::approximate(&config);
    let options = PlanOptions::new(80 * GIB);
    let full = choose(&shape, &phase_specs(&config, &prompts), &options, false);
    let settings = rzero_grpo::LoraSettings {
        rank: 16,
        alpha: None,
        targets: rzero_grpo::LoraTargets::ALL,
    };
    config.grpo.lora = Some(settings);
    let lora = choose(&shape, &phase_specs(&config, &prompts), &options, false);
    let t = shape.trainable(Some(&settings));
    let p = shape.params();
    // The Solver samples its rollouts with the reference beside it: with
    // LoRA, base + adapters + the merged copy, and moments of the adapters;
    // on a CPU either way the generator's transposed copy of the tied head.
    let (f, l) = (
        full.phase("solver_rollouts").unwrap(),
        lora.phase("solver_rollouts").unwrap(),
    );
    let head = estimate::decode_head(&shape, true, false);
    // The paper preset's reference stores its matrices in BF16.
    let m = shape.matrix_params();
    let reference = m * 2 + (p - m) * 4;
    assert_eq!(f.breakdown.weights, p * 4 + reference + head);
    assert_eq!(f.breakdown.optimizer, 2 * p * 4);
    assert_eq!(
        l.breakdown.weights,
        (p + t.params + t.adapted) * 4 + reference + head
    );
    assert_eq!(l.breakdown.optimizer, 2 * t.params * 4);
    // Updates need less with adapters only, so they never get fewer rows.
    let (f, l) = (
        full.phase("solver_update").unwrap(),
        lora.phase("solver_update").unwrap(),
    );
    assert!(
        l.breakdown.gradients < f.breakdown.gradients / 50,
        "{f:?}\n{l:?}"
    );
    assert!(l.micro_batch_rows >= f.micro_batch_rows);
}

/// A plan that must lower rows per generation call and per scoring pass
/// hands them back as `[memory]` settings, and those settings, planned
/// again, fit with nothing left to lower.
#[test]
fn memory_settings_carry_the_lowered_rows_back_into_the_run() {
    let shape = ModelShape::qwen3_0_6b();
    let mut config = rzero_core::preset("paper").unwrap();
    let prompts = PromptLengths::approximate(&config);
    let budget = 60 * GIB;
    let plan = choose(
        &shape,
        &phase_specs(&config, &prompts),
        &PlanOptions::new(budget).with_config(&config),
        false,
    );
    let memory = plan.memory_settings(&config.memory);
    // 128 rows of an 8k-token f32 KV cache is ~480 GiB: the sampling rows come down.
    assert!(
        memory.sampling_rows < config.memory.sampling_rows,
        "{memory:?}"
    );
    for p in plan.phases.iter().filter(|p| p.kind == PhaseKind::Sampling) {
        assert!(memory.sampling_rows as u64 <= p.micro_batch_rows.max(p.max_rows));
    }
    let update = plan.phase("solver_update").unwrap();
    assert_eq!(update.score_rows, Some(memory.score_rows as u64));
    assert!(memory.logprob_chunk as u64 <= update.logprob_chunk.unwrap());

    config.memory = memory;
    let again = choose(
        &shape,
        &phase_specs(&config, &prompts),
        &PlanOptions::new(budget).with_config(&config),
        false,
    );
    for p in &again.phases {
        // Whole prompts, or fewer rows of one prompt: never more rows than set.
        if p.kind == PhaseKind::Sampling && p.fits {
            assert!(p.micro_batch_rows <= memory.sampling_rows as u64, "{p:?}");
        }
    }
    assert_eq!(again.memory_settings(&config.memory), config.memory);
}

/// `memory.score_rows` is lowered, halving, until the no-grad scoring pass
/// fits; `memory.recompute = "off"` keeps recomputation out of the choice.
#[test]
fn scoring_rows_halve_to_fit_and_recompute_off_is_respected() {
    let shape = ModelShape::qwen3_0_6b();
    let spec = PhaseSpec {
        score_rows: 64,
        ..solver_update(1, 4096)
    };
    let wide = choose(
        &shape,
        std::slice::from_ref(&spec),
        &PlanOptions::new(u64::MAX / 4),
        true,
    );
    assert_eq!(wide.phases[0].score_rows, Some(64));
    // Just above what one scoring row needs (the backward of one row
    // needs less than the scoring pass of 64 rows).
    let one_row = wide.phases[0].breakdown.weights + wide.phases[0].breakdown.optimizer;
    let tight = choose(
        &shape,
        std::slice::from_ref(&spec),
        &PlanOptions::new(one_row + 12 * GIB),
        true,
    );
    let rows = tight.phases[0].score_rows.unwrap();
    assert!(rows < 64 && rows.is_power_of_two(), "{:?}", tight.phases[0]);
    let mut off = PlanOptions::new(one_row + 12 * GIB);
    off.capabilities.recompute = true;
    off.recompute = rzero_core::memory::Recompute::Off;
    let plan = choose(&shape, std::slice::from_ref(&spec), &off, true);
    assert_eq!(plan.phases[0].recompute, Some(false));
    off.recompute = rzero_core::memory::Recompute::On;
    let plan = choose(&shape, std::slice::from_ref(&spec), &off, true);
    assert_eq!(plan.phases[0].recompute, Some(true));
}
