//! KV cache, batching and stopping rules of `generate`.

use burn::prelude::*;
use rzero_model::sampling::Sampling;
use rzero_model::{
    FinishReason, GenerateOptions, ModelError, Result, generate, generate_seeded,
    generate_seeded_from,
};

use crate::common::{device, expected, load, max_abs_diff, single, to_vec};

/// Float noise between batched / cached and one-shot computations.
const TOLERANCE: f32 = 1e-5;

#[test]
fn kv_cache_logits_equal_full_recompute() {
    let (model, _) = load("qwen3_s_tied");
    let ids: Vec<u32> = (0..12).map(|i| (i * 37 + 5) % 512).collect();
    let (tokens, positions) = single(&ids, &device());
    let full = to_vec(model.forward(tokens, positions, None));
    let mut cache = model.new_cache();
    let (tokens, positions) = single(&ids[..5], &device());
    let mut got = to_vec(model.forward(tokens, positions, Some(&mut cache)));
    for (i, &t) in ids.iter().enumerate().skip(5) {
        let tokens =
            Tensor::<2, Int>::from_data(TensorData::new(vec![i64::from(t)], [1, 1]), &device());
        let positions =
            Tensor::<2, Int>::from_data(TensorData::new(vec![i as i64], [1, 1]), &device());
        got.extend(to_vec(model.forward(tokens, positions, Some(&mut cache))));
    }
    assert_eq!(cache.len(), ids.len());
    let diff = max_abs_diff(&got, &full);
    assert!(diff < TOLERANCE, "cache vs recompute: {diff}");
}

fn greedy(max_new_tokens: usize) -> GenerateOptions {
    GenerateOptions {
        max_new_tokens,
        ..GenerateOptions::default()
    }
}

#[test]
fn mixed_length_batch_matches_one_by_one() {
    let (model, _) = load("qwen3_bf16_untied");
    let prompts: Vec<Vec<u32>> = vec![vec![5, 9, 200, 31, 7, 8, 100], vec![3], vec![42, 17, 250]];
    let options = greedy(12);
    let batched = generate(&model, &prompts, &options, None).unwrap();
    for (i, prompt) in prompts.iter().enumerate() {
        let alone = generate(&model, std::slice::from_ref(prompt), &options, None).unwrap();
        assert_eq!(batched[i].token_ids, alone[0].token_ids, "prompt {i}");
        assert_eq!(batched[i].logprobs, alone[0].logprobs, "prompt {i}");
    }
}

/// A server batches requests as they arrive, so a prompt's log-probs must
/// not depend on its batch: the same bits alone, beside prompts of other
/// lengths, and in a batch of more decode rows than the small-row kernel
/// takes (the packed matmul then computes the rows; the S model's
/// 384-wide MLP spans two of its `KC` slices).
#[test]
fn a_prompts_samples_are_the_same_bits_in_any_batch() {
    let (model, _) = load("qwen3_s_tied");
    let options = |n| GenerateOptions {
        max_new_tokens: 6,
        samples_per_prompt: n,
        sampling: Sampling::Temperature { temperature: 1.0 },
        ..GenerateOptions::default()
    };
    let prompt = |len: u32, salt: u32| -> Vec<u32> {
        (0..len).map(|i| (i * 37 + salt * 11 + 5) % 500).collect()
    };
    let prompts = vec![prompt(60, 0), prompt(115, 1), prompt(170, 2), prompt(7, 3)];
    let seeds = [1u64, 2, 3, 4];
    for n in [3, 90] {
        let all = generate_seeded(&model, &prompts, &seeds, &options(n), None).unwrap();
        for (p, prompt) in prompts.iter().enumerate() {
            let one = std::slice::from_ref(prompt);
            let alone = generate_seeded(&model, one, &seeds[p..=p], &options(n), None).unwrap();
            for (s, (a, b)) in alone.iter().zip(&all[p * n..(p + 1) * n]).enumerate() {
                assert_eq!(a.token_ids, b.token_ids, "n {n} prompt {p} sample {s}");
                assert_eq!(a.logprobs, b.logprobs, "n {n} prompt {p} sample {s}");
            }
        }
    }
}

#[test]
fn samples_share_a_prefill_and_do_not_depend_on_batching() {
    let (model, _) = load("qwen3_s_tied");
    let options = GenerateOptions {
        max_new_tokens: 10,
        samples_per_prompt: 3,
        sampling: Sampling::TopKTopP {
            k: 40,
            p: 0.95,
            temperature: 1.0,
        },
        seed: 7,
        ..GenerateOptions::default()
    };
    let p0 = vec![1u32, 2, 3];
    let both = generate(
        &model,
        &[p0.clone(), vec![9, 8, 7, 6, 5, 4]],
        &options,
        None,
    )
    .unwrap();
    assert_eq!(both.len(), 6);
    let alone = generate(&model, &[p0], &options, None).unwrap();
    for s in 0..3 {
        assert_eq!((both[s].prompt_index, both[s].sample_index), (0, s));
        assert_eq!(both[s].token_ids, alone[s].token_ids, "sample {s}");
    }
    // Different seeds per sample: the three samples are not all the same.
    assert!(both[0].token_ids != both[1].token_ids || both[1].token_ids != both[2].token_ids);
}

#[test]
fn prompt_seeds_make_each_prompt_independent_of_its_batch() {
    let (model, _) = load("qwen3_s_tied");
    let options = GenerateOptions {
        max_new_tokens: 10,
        samples_per_prompt: 2,
        sampling: Sampling::Temperature { temperature: 1.0 },
        ..GenerateOptions::default()
    };
    let prompts = vec![vec![1u32, 2, 3], vec![9, 8, 7, 6, 5, 4]];
    let both = generate_seeded(&model, &prompts, &[11, 22], &options, None).unwrap();
    for (p, seed) in [(0usize, 11u64), (1, 22)] {
        // A lone prompt through `generate` with that seed draws the same stream.
        let alone_options = GenerateOptions {
            seed,
            ..options.clone()
        };
        let alone = generate(&model, &prompts[p..=p], &alone_options, None).unwrap();
        for s in 0..2 {
            assert_eq!(
                both[2 * p + s].token_ids,
                alone[s].token_ids,
                "prompt {p} sample {s}"
            );
        }
    }
    let err = generate_seeded(&model, &prompts, &[1], &options, None).unwrap_err();
    assert!(matches!(err, ModelError::BadRequest { .. }), "{err}");
}

/// One prompt's samples split over calls of fewer rows are the samples of
/// the one call, token for token, with the same `sample_index`.
#[test]
fn samples_split_over_calls_equal_one_call() {
    let (model, _) = load("qwen3_s_tied");
    let options = |n| GenerateOptions {
        max_new_tokens: 12,
        samples_per_prompt: n,
        sampling: Sampling::Temperature { temperature: 1.0 },
        ..GenerateOptions::default()
    };
    let prompts = vec![vec![1u32, 2, 3], vec![9, 8, 7, 6]];
    let seeds = [5u64, 6];
    let whole = generate_seeded(&model, &prompts, &seeds, &options(5), None).unwrap();
    for (p, prompt) in prompts.iter().enumerate() {
        let one = std::slice::from_ref(prompt);
        let mut split = Vec::new();
        for (first, n) in [(0, 2), (2, 1), (3, 2)] {
            split.extend(
                generate_seeded_from(&model, one, &seeds[p..=p], first, &options(n), None).unwrap(),
            );
        }
        for (s, (got, want)) in split.iter().zip(&whole[5 * p..5 * p + 5]).enumerate() {
            assert_eq!(got.sample_index, s);
            assert_eq!(got.token_ids, want.token_ids, "prompt {p} sample {s}");
            assert_eq!(got.logprobs, want.logprobs, "prompt {p} sample {s}");
        }
    }
    // The five samples are not all one stream.
    assert!(
        whole[..5]
            .windows(2)
            .any(|w| w[0].token_ids != w[1].token_ids)
    );
}

/// A small model's batch decodes as two halves on two threads: the
/// completions (ids, log-probs, indices) are those of one batch on one thread.
#[test]
fn two_threads_decode_halves_that_equal_one_batch() {
    let (model, _) = load("qwen3_s_tied");
    let options = GenerateOptions {
        max_new_tokens: 12,
        samples_per_prompt: 2,
        sampling: Sampling::Temperature { temperature: 1.0 },
        ..GenerateOptions::default()
    };
    let prompts = vec![
        vec![1u32, 2, 3],
        vec![9, 8, 7, 6],
        vec![5],
        vec![4, 4, 2, 1, 3],
    ];
    let seeds = [1u64, 2, 3, 4];
    let on = |threads| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| generate_seeded(&model, &prompts, &seeds, &options, None).unwrap())
    };
    let (one, two) = (on(1), on(2));
    assert_eq!(one.len(), 8);
    for (i, (a, b)) in one.iter().zip(&two).enumerate() {
        assert_eq!((b.prompt_index, b.sample_index), (i / 2, i % 2));
        assert_eq!((a.prompt_index, a.sample_index), (i / 2, i % 2));
        assert_eq!(a.token_ids, b.token_ids, "row {i}");
        assert_eq!(a.logprobs, b.logprobs, "row {i}");
    }
}

#[test]
fn stops_at_eos_stop_string_and_length() {
    let (model, _) = load("qwen3_s_tied");
    let want = expected("qwen3_s_tied").greedy;
    let eos = want.tokens[5];
    let first = want.tokens.iter().position(|&t| t == eos).unwrap_or(5);
    let options = GenerateOptions {
        eos_token_ids: vec![eos],
        ..greedy(20)
    };
    let out = generate(&model, std::slice::from_ref(&want.prompt), &options, None).unwrap();
    assert_eq!(out[0].finish_reason, FinishReason::Eos);
    assert_eq!(out[0].token_ids, want.tokens[..=first]);

    let decode =
        |ids: &[u32]| -> Result<String> { Ok(ids.iter().map(|t| format!("<{t}>")).collect()) };
    let stop = format!("<{}>", want.tokens[3]);
    let options = GenerateOptions {
        stop_strings: vec![stop.clone()],
        ..greedy(20)
    };
    let out = generate(
        &model,
        std::slice::from_ref(&want.prompt),
        &options,
        Some(&decode),
    )
    .unwrap();
    assert_eq!(out[0].finish_reason, FinishReason::StopString);
    let text = out[0].text.clone().unwrap();
    assert!(!text.contains(&stop) && decode(&out[0].token_ids).unwrap().contains(&stop));

    let out = generate(&model, std::slice::from_ref(&want.prompt), &greedy(7), None).unwrap();
    assert_eq!(out[0].finish_reason, FinishReason::Length);
    assert_eq!((out[0].token_ids.len(), out[0].logprobs.len()), (7, 7));
    assert!(out[0].text.is_none());
}

#[test]
fn generation_on_an_autodiff_device_matches_the_plain_device() {
    let dir = crate::common::fixture("qwen3_sharded");
    let (model, _) = rzero_model::load_pretrained(&dir, &device().autodiff()).unwrap();
    let (plain, _) = load("qwen3_sharded");
    let a = generate(&model, &[vec![1u32, 2, 3]], &greedy(8), None).unwrap();
    let b = generate(&plain, &[vec![1u32, 2, 3]], &greedy(8), None).unwrap();
    assert_eq!(a[0].token_ids, b[0].token_ids);
}

#[test]
fn stop_strings_without_a_decoder_are_rejected() {
    let (model, _) = load("qwen3_sharded");
    let options = GenerateOptions {
        stop_strings: vec!["x".into()],
        ..greedy(4)
    };
    let err = generate(&model, &[vec![1u32]], &options, None).unwrap_err();
    assert!(matches!(err, ModelError::BadRequest { .. }), "{err}");
}

/// Regression (`rzero plan --measure` measured 1.3-1.5× the Challenger's
/// real peak): the generator's prefill reserves the completion up front, up
/// to the model's context, so filling the cache to its last position never
/// regrows (a full cache doubled its buffers at the next step), and
/// selecting rows keeps the capacity.
#[test]
fn a_reserved_cache_fills_to_its_capacity_without_growing() {
    let (model, _) = load("qwen3_s_tied");
    let head = rzero_model::generate::DecodeHead::new(&model);
    let prompts = [vec![5u32, 9, 200], vec![3, 4]];
    let (mut cache, last) =
        rzero_model::generate::prefill(&model, &head, &prompts, &greedy(6), &device());
    assert_eq!(last.dims(), [2, 512]);
    assert_eq!((cache.len(), cache.capacity()), (3, 9));
    cache.append_zeros(5);
    assert_eq!((cache.len(), cache.capacity()), (8, 9));
    let tokens = Tensor::<2, Int>::from_data(TensorData::new(vec![1i64, 2], [2, 1]), &device());
    let positions = Tensor::<2, Int>::from_data(TensorData::new(vec![8i64, 7], [2, 1]), &device());
    let _ = model.forward(tokens, positions, Some(&mut cache));
    assert_eq!((cache.len(), cache.capacity()), (9, 9));
    let rows = Tensor::<1, Int>::from_data(TensorData::new(vec![1i64], [1]), &device());
    let kept = cache.select_rows(rows);
    assert_eq!((kept.len(), kept.capacity()), (9, 9));
    // The fixture's context is 256 positions: no more is reserved.
    let (cache, _) =
        rzero_model::generate::prefill(&model, &head, &prompts, &greedy(1000), &device());
    assert_eq!(cache.capacity(), 3 + (256 - 2));
}
