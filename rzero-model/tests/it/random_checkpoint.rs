//! The 2-layer cut of the Qwen3-0.6B shape (151 936 × 1024 tied embedding,
//! 16 / 8 heads of 128, FFN 3072): written by `random_checkpoint`, loaded
//! by the normal loader, decoded with the KV cache. About 375 MB on disk
//! and 0.75 GB of f32 weights in memory.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use burn::module::Param;
use burn::prelude::*;
use burn::store::{BurnToPyTorchAdapter, ModuleSnapshot};
use burn::tensor::activation::log_softmax;
use rzero_model::random_checkpoint::{Preset, RandomCheckpoint, write};
use rzero_model::tokenizer::Tokenizer;
use rzero_model::{GenerateOptions, Qwen3, generate, load_pretrained};
use serde_json::Value;

use crate::common::{device, single, to_vec};

/// Every tensor's HF-layout shape, worked out from the published config by
/// hand (burn path, that is HF name without `model.`).
fn shapes_from_config(layers: usize) -> BTreeMap<String, Vec<usize>> {
    let (vocab, d, ffn, q, kv, hd) = (151_936, 1024, 3072, 16 * 128, 8 * 128, 128);
    let mut out = BTreeMap::from([
        ("embed_tokens.weight".to_string(), vec![vocab, d]),
        ("norm.weight".to_string(), vec![d]),
    ]);
    for i in 0..layers {
        for (name, shape) in [
            ("self_attn.q_proj", vec![q, d]),
            ("self_attn.k_proj", vec![kv, d]),
            ("self_attn.v_proj", vec![kv, d]),
            ("self_attn.o_proj", vec![d, q]),
            ("self_attn.q_norm", vec![hd]),
            ("self_attn.k_norm", vec![hd]),
            ("mlp.gate_proj", vec![ffn, d]),
            ("mlp.up_proj", vec![ffn, d]),
            ("mlp.down_proj", vec![d, ffn]),
            ("input_layernorm", vec![d]),
            ("post_attention_layernorm", vec![d]),
        ] {
            out.insert(format!("layers.{i}.{name}.weight"), shape);
        }
    }
    out
}

/// Reads BF16 elements straight from the file (header offsets, then a seek
/// per element), as f32.
fn file_values(path: &Path, name: &str, indices: &[usize]) -> Vec<f32> {
    let mut file = File::open(path).unwrap();
    let mut len = [0u8; 8];
    file.read_exact(&mut len).unwrap();
    let mut header = vec![0u8; u64::from_le_bytes(len) as usize];
    file.read_exact(&mut header).unwrap();
    let data_start = 8 + header.len() as u64;
    let header: Value = serde_json::from_slice(&header).unwrap();
    assert_eq!(header[name]["dtype"], "BF16", "{name}");
    let begin = header[name]["data_offsets"][0].as_u64().unwrap();
    indices
        .iter()
        .map(|&i| {
            let at = data_start + begin + 2 * i as u64;
            file.seek(SeekFrom::Start(at)).unwrap();
            let mut bits = [0u8; 2];
            file.read_exact(&mut bits).unwrap();
            f32::from_bits(u32::from(u16::from_le_bytes(bits)) << 16)
        })
        .collect()
}

/// Elements of a `[rows, cols]` burn parameter at HF-layout flat indices;
/// `transposed` for linear weights (burn `[in, out]`, HF `[out, in]`).
fn loaded_values(param: &Param<Tensor<2>>, indices: &[usize], transposed: bool) -> Vec<f32> {
    let weight = param.val();
    let [rows, cols] = weight.dims();
    let hf_cols = if transposed { rows } else { cols };
    indices
        .iter()
        .map(|&i| {
            let (r, c) = (i / hf_cols, i % hf_cols);
            let (r, c) = if transposed { (c, r) } else { (r, c) };
            assert!(r < rows && c < cols);
            weight
                .clone()
                .slice(s![r..r + 1, c..c + 1])
                .into_scalar::<f32>()
        })
        .collect()
}

/// Spread-out flat indices of a tensor with `n` elements, first and last included.
fn spots(n: usize) -> Vec<usize> {
    let mut out: Vec<usize> = (0..40).map(|k| (k * 7_919_993 + 13 * k * k) % n).collect();
    out.extend([0, 1, n - 1]);
    out
}

/// The greedy next token and its log-prob, from a full forward pass over
/// `ids` with no cache.
fn argmax_without_cache(model: &Qwen3, ids: &[u32]) -> (u32, f32) {
    let (tokens, positions) = single(ids, &device());
    let hidden = model.hidden(tokens, positions, None);
    let last = model.logits(hidden.narrow(1, ids.len() - 1, 1));
    let logprobs = to_vec(log_softmax(last, 2));
    let (best, logprob) =
        logprobs
            .iter()
            .enumerate()
            .fold(
                (0, f32::NEG_INFINITY),
                |acc, (i, &v)| if v > acc.1 { (i, v) } else { acc },
            );
    (best as u32, logprob)
}

#[test]
fn qwen3_0_6b_two_layer_cut_loads_and_decodes_like_the_full_recompute() {
    let dir = tempfile::tempdir().unwrap();
    let spec = RandomCheckpoint::preset(Preset::Qwen3_0_6B).with_layers(2);
    let written = write(dir.path(), &spec).unwrap();
    assert_eq!(written.parameters, spec.config.num_params());
    let (model, hf) = load_pretrained(dir.path(), &device()).unwrap();
    assert_eq!(hf.to_config(dir.path()).unwrap(), spec.config);

    // Every tensor has the shape the config implies.
    let loaded: BTreeMap<String, Vec<usize>> = model
        .collect(None, Some(Box::new(BurnToPyTorchAdapter)), false)
        .into_iter()
        .map(|t| (t.name.clone(), t.shape.to_vec()))
        .collect();
    assert_eq!(loaded, shapes_from_config(2));

    // Loaded f32 values are the file's BF16 values, exactly.
    let file = dir.path().join("model.safetensors");
    let layer = &model.layers[1];
    let checks: [(&str, &Param<Tensor<2>>, bool); 4] = [
        (
            "model.embed_tokens.weight",
            &model.embed_tokens.weight,
            false,
        ),
        (
            "model.layers.1.self_attn.k_proj.weight",
            &layer.self_attn.k_proj.weight,
            true,
        ),
        (
            "model.layers.1.self_attn.o_proj.weight",
            &layer.self_attn.o_proj.weight,
            true,
        ),
        (
            "model.layers.1.mlp.down_proj.weight",
            &layer.mlp.down_proj.weight,
            true,
        ),
    ];
    for (name, param, transposed) in checks {
        let at = spots(param.val().shape().num_elements());
        let want = file_values(&file, name, &at);
        assert!(want.iter().any(|&v| v != 0.0), "{name}");
        assert_eq!(loaded_values(param, &at, transposed), want, "{name}");
    }
    assert_eq!(to_vec(layer.input_layernorm.gamma.val()), vec![1.0; 1024]);

    // Greedy decoding with the KV cache = argmax of a full forward each step.
    let tok = Tokenizer::from_dir(dir.path()).unwrap();
    let prompts = [
        tok.encode("Question: What is 17 + 25? Answer:").unwrap(),
        tok.encode("2 + 3 =").unwrap(),
    ];
    assert_ne!(
        prompts[0].len(),
        prompts[1].len(),
        "padding must be exercised"
    );
    let options = GenerateOptions {
        max_new_tokens: 5,
        stop_strings: vec!["never produced".into()],
        ..GenerateOptions::default()
    };
    let batched = generate(&model, &prompts, &options, Some(&tok)).unwrap();
    for (prompt, out) in prompts.iter().zip(&batched) {
        assert_eq!(out.token_ids.len(), 5);
        let mut ids = prompt.clone();
        for (step, (&token, &logprob)) in out.token_ids.iter().zip(&out.logprobs).enumerate() {
            let (want, want_logprob) = argmax_without_cache(&model, &ids);
            assert_eq!(token, want, "step {step} of prompt {ids:?}");
            assert!(
                (logprob - want_logprob).abs() < 1e-4,
                "{logprob} vs {want_logprob}"
            );
            ids.push(token);
        }
        // Each prompt alone gives what it gave in the batch.
        let alone = generate(&model, &[prompt], &options, Some(&tok)).unwrap();
        assert_eq!(alone[0].token_ids, out.token_ids);
        for (a, b) in alone[0].logprobs.iter().zip(&out.logprobs) {
            assert!((a - b).abs() < 1e-4, "{a} vs {b}");
        }
    }

    // Rows past the tokenizer's vocabulary are generated and decode to nothing.
    let vocab = tok.vocab_size() as u32;
    let all: Vec<u32> = batched.iter().flat_map(|c| c.token_ids.clone()).collect();
    assert!(all.iter().any(|&t| t >= vocab), "{all:?}");
    for c in &batched {
        let known: Vec<u32> = c.token_ids.iter().copied().filter(|&t| t < vocab).collect();
        assert_eq!(
            c.text.as_deref(),
            Some(tok.decode(&known, true).unwrap().as_str())
        );
    }
    assert_eq!(tok.decode(&[vocab, 151_935], false).unwrap(), "");
}
