//! Training-time log-probs (`completion_logprobs`) against generation-time ones.

use rzero_model::sampling::Sampling;
use rzero_model::{
    CompletionBatch, GenerateOptions, completion_logprobs, generate, load_pretrained,
};

use crate::common::{device, expected, fixture, load, max_abs_diff, to_vec};

/// Prompts (one per sample), sampled completions and their generation-time log-probs.
type Sampled = (Vec<Vec<u32>>, Vec<Vec<u32>>, Vec<Vec<f32>>);

fn sampled(model: &rzero_model::Qwen3) -> Sampled {
    let prompts: Vec<Vec<u32>> = vec![vec![1, 2, 3, 4, 5, 6, 7], vec![11], vec![300, 301, 302]];
    let options = GenerateOptions {
        max_new_tokens: 12,
        samples_per_prompt: 2,
        sampling: Sampling::Temperature { temperature: 1.0 },
        seed: 3,
        eos_token_ids: vec![2],
        ..GenerateOptions::default()
    };
    let out = generate(model, &prompts, &options, None).unwrap();
    let rows_prompts = out
        .iter()
        .map(|c| prompts[c.prompt_index].clone())
        .collect();
    let completions = out.iter().map(|c| c.token_ids.clone()).collect();
    let logprobs = out.iter().map(|c| c.logprobs.clone()).collect();
    (rows_prompts, completions, logprobs)
}

#[test]
#[expect(clippy::print_stderr, reason = "reports the measured difference")]
fn generation_and_training_logprobs_agree() {
    let (model, _) = load("qwen3_s_tied");
    let (prompts, completions, generated) = sampled(&model);
    let batch = CompletionBatch::new(&model, &prompts, &completions, &device()).unwrap();
    let width = batch.max_completion();
    let trained = to_vec(completion_logprobs(&model, &batch));
    let mask = to_vec(batch.mask());
    let mut worst = 0.0f32;
    for (i, gen_row) in generated.iter().enumerate() {
        let row = &trained[i * width..(i + 1) * width];
        worst = worst.max(max_abs_diff(&row[..gen_row.len()], gen_row));
        assert!(
            row[gen_row.len()..].iter().all(|&x| x == 0.0),
            "padding is not masked"
        );
        let real: f32 = mask[i * width..(i + 1) * width].iter().sum();
        assert_eq!(real as usize, gen_row.len());
    }
    eprintln!("max |generation logprob - training logprob| = {worst:.3e}");
    assert!(worst < 1e-4, "{worst}");
}

#[test]
fn logprobs_on_autodiff_match_and_have_gradients() {
    let (plain, _) = load("qwen3_sharded");
    let ad = device().autodiff();
    let (model, _) = load_pretrained(&fixture("qwen3_sharded"), &ad).unwrap();
    let prompts = vec![vec![1u32, 2], vec![3u32, 4, 5, 6]];
    let completions = vec![vec![7u32, 8, 9], vec![10u32]];
    let on_plain = CompletionBatch::new(&plain, &prompts, &completions, &device()).unwrap();
    let on_ad = CompletionBatch::new(&model, &prompts, &completions, &ad).unwrap();
    let want = to_vec(completion_logprobs(&plain, &on_plain));
    let lp = completion_logprobs(&model, &on_ad);
    assert!(max_abs_diff(&to_vec(lp.clone()), &want) < 1e-6);
    let grads = lp.sum().backward();
    let grad = model.layers[0]
        .self_attn
        .q_proj
        .weight
        .grad(&grads)
        .unwrap();
    let norm: f32 = grad.abs().sum().into_scalar::<f32>();
    assert!(norm > 0.0 && norm.is_finite());
}

#[test]
fn empty_completions_give_an_empty_row() {
    let (model, _) = load("qwen3_sharded");
    let batch =
        CompletionBatch::new(&model, &[vec![1u32, 2]], &[Vec::<u32>::new()], &device()).unwrap();
    let lp = completion_logprobs(&model, &batch);
    assert_eq!(lp.dims(), [1, 0]);
}

/// GQA (fewer KV heads than query heads) on the autodiff device: training
/// log-probs equal the plain device's and transformers' greedy log-probs.
#[test]
#[expect(clippy::print_stderr, reason = "reports the measured difference")]
fn gqa_logprobs_on_autodiff_match_plain_and_transformers() {
    for name in ["qwen3_s_tied", "qwen3_bf16_untied"] {
        let (plain, config) = load(name);
        assert!(
            config
                .num_key_value_heads
                .is_some_and(|kv| kv < config.num_attention_heads),
            "{name} is not a GQA fixture"
        );
        let ad = device().autodiff();
        let (model, _) = load_pretrained(&fixture(name), &ad).unwrap();
        let greedy = expected(name).greedy;
        let prompts = vec![greedy.prompt.clone(), vec![5u32, 6, 7]];
        let completions = vec![greedy.tokens.clone(), greedy.tokens[..5].to_vec()];
        let on_plain = CompletionBatch::new(&plain, &prompts, &completions, &device()).unwrap();
        let on_ad = CompletionBatch::new(&model, &prompts, &completions, &ad).unwrap();
        let want = to_vec(completion_logprobs(&plain, &on_plain));
        let got = to_vec(completion_logprobs(&model, &on_ad));
        let vs_plain = max_abs_diff(&got, &want);
        let width = on_ad.max_completion();
        let vs_hf = max_abs_diff(&got[..greedy.logprobs.len()], &greedy.logprobs);
        eprintln!("{name}: autodiff vs plain {vs_plain:.3e}, vs transformers {vs_hf:.3e}");
        assert_eq!(width, greedy.tokens.len());
        assert!(vs_plain < 1e-5, "{name}: {vs_plain}");
        assert!(vs_hf < 1e-4, "{name}: {vs_hf}");
    }
}
