//! LoRA: adapters, gradients, merging, and PEFT files against `peft`
//! (fixtures built by `tests/fixtures/lora/make_peft_fixture.py`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use burn::module::{ModuleMapper, Param};
use burn::optim::{AdamWConfig, GradientsParams};
use burn::prelude::*;
use rzero_model::lora::{ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE, has_lora};
use rzero_model::sampling::Sampling;
use rzero_model::{
    CompletionBatch, GenerateOptions, LoraConfig, LoraTarget, ModelError, Qwen3, Qwen3Config,
    SaveOptions, apply_lora, completion_logprobs, generate, load_peft_adapter, load_pretrained,
    merge_lora, save_peft_adapter, save_pretrained, trainable_params,
};
use safetensors::SafeTensors;
use serde::Deserialize;

use crate::common::{device, max_abs_diff, single, to_vec};

/// Max |Δlogit| against transformers + peft (F32 on both sides).
const PEFT_TOLERANCE: f32 = 1e-4;
/// Max |Δlogit| between an adapted model and its merge (same framework).
const MERGE_TOLERANCE: f32 = 1e-5;

fn lora_fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/lora")
        .join(name)
}

#[derive(Debug, Deserialize)]
struct AdapterExpected {
    r: usize,
    lora_alpha: f64,
    target_modules: Vec<String>,
    logits: Vec<Vec<Vec<f32>>>,
    merged_logits: Vec<Vec<Vec<f32>>>,
}

/// What transformers + peft computed (`expected.json`).
#[derive(Debug, Deserialize)]
struct Expected {
    cases: Vec<Vec<u32>>,
    base_logits: Vec<Vec<Vec<f32>>>,
    peft_adapter: AdapterExpected,
    rzero_adapter: AdapterExpected,
}

fn expected() -> Expected {
    let text = std::fs::read_to_string(lora_fixture("expected.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn base() -> Qwen3 {
    load_pretrained(&lora_fixture("base"), &device()).unwrap().0
}

/// Logits of every case, flattened per case.
fn logits(model: &Qwen3, cases: &[Vec<u32>]) -> Vec<Vec<f32>> {
    cases
        .iter()
        .map(|ids| {
            let (tokens, positions) = single(ids, &device());
            to_vec(model.forward(tokens, positions, None))
        })
        .collect()
}

fn worst(got: &[Vec<f32>], want: &[Vec<f32>]) -> f32 {
    assert_eq!(got.len(), want.len());
    got.iter()
        .zip(want)
        .map(|(g, w)| max_abs_diff(g, w))
        .fold(0.0, f32::max)
}

fn flat(cases: &[Vec<Vec<f32>>]) -> Vec<Vec<f32>> {
    cases.iter().map(|c| c.concat()).collect()
}

/// Replaces every LoRA factor (`….lora.a`, `….lora.b`) by seeded uniform
/// values in `[-amplitude, amplitude]`, keeping ids and gradient settings.
struct RandomFactors {
    path: Vec<String>,
    state: u64,
    amplitude: f32,
}

impl RandomFactors {
    fn next(&mut self) -> f32 {
        // xorshift64*
        self.state ^= self.state >> 12;
        self.state ^= self.state << 25;
        self.state ^= self.state >> 27;
        let bits = self.state.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 40;
        (bits as f32 / (1u64 << 24) as f32 * 2.0 - 1.0) * self.amplitude
    }
}

impl ModuleMapper for RandomFactors {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.push(name.to_string());
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }

    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        if !self.path.iter().any(|p| p == "lora") {
            return param;
        }
        let shape = param.lazy_shape();
        let values: Vec<f32> = (0..shape.num_elements()).map(|_| self.next()).collect();
        param.map(|t| {
            let grad = t.is_require_grad();
            Tensor::from_data(TensorData::new(values, shape), &t.device()).set_require_grad(grad)
        })
    }
}

fn randomize_factors(model: Qwen3, seed: u64, amplitude: f32) -> Qwen3 {
    model.map(&mut RandomFactors {
        path: Vec::new(),
        state: seed.max(1),
        amplitude,
    })
}

/// A small random model (2 layers, GQA, hidden 32, intermediate 48).
fn tiny_config() -> Qwen3Config {
    Qwen3Config::new(64, 32, 48, 2, 4, 2, 8, 64)
}

#[test]
#[expect(clippy::print_stderr, reason = "reports the measured difference")]
fn fresh_adapter_leaves_logits_unchanged() {
    let cases = expected().cases;
    let model = base();
    let before = logits(&model, &cases);
    let adapted = apply_lora(model, &LoraConfig::all_targets(4, 8.0), 1).unwrap();
    assert!(has_lora(&adapted));
    let after = logits(&adapted, &cases);
    let diff = worst(&after, &before);
    eprintln!("fresh adapter: max |logit - base| = {diff:.3e}");
    assert!(diff <= 1e-6, "{diff}");
}

#[test]
fn init_is_peft_uniform_seeded_and_per_weight() {
    let cfg = tiny_config();
    let model = cfg.init(&device());
    let config = LoraConfig::all_targets(4, 8.0);
    let factors = |seed| {
        let m = apply_lora(model.clone(), &config, seed).unwrap();
        m.layers
            .iter()
            .flat_map(|l| LoraTarget::ALL.map(|t| t.linear(l).weight.adapter().cloned()))
            .map(|a| a.expect("every target adapted"))
            .map(|a| (to_vec(a.a.val()), to_vec(a.b.val()), a.a.val().dims()[0]))
            .collect::<Vec<_>>()
    };
    let (first, again, other) = (factors(5), factors(5), factors(6));
    assert_eq!(first, again, "same seed, same adapters");
    for ((a, b, d_in), (a_other, _, _)) in first.iter().zip(&other) {
        assert_ne!(a, a_other, "another seed, other A");
        assert!(b.iter().all(|&v| v == 0.0), "B starts at 0");
        let bound = 1.0 / (*d_in as f32).sqrt();
        assert!(a.iter().all(|v| v.abs() <= bound), "A within ±1/√in");
        // Roughly uniform: the mean |A| of U(-b, b) is b/2.
        let mean = a.iter().map(|v| v.abs()).sum::<f32>() / a.len() as f32;
        assert!(
            (mean / bound - 0.5).abs() < 0.15,
            "mean |A| = {mean}, bound {bound}"
        );
    }
    // Each weight draws its own stream.
    assert_ne!(first[0].0[..8], first[7].0[..8]);
}

#[test]
fn generation_merges_adapters_and_matches_the_merged_model() {
    let config = LoraConfig::new(2, 4.0, vec![LoraTarget::KProj, LoraTarget::GateProj]);
    let adapted = randomize_factors(apply_lora(base(), &config, 1).unwrap(), 9, 0.3);
    let merged = merge_lora(adapted.clone());
    let options = GenerateOptions {
        max_new_tokens: 12,
        samples_per_prompt: 2,
        sampling: Sampling::Temperature { temperature: 1.0 },
        seed: 4,
        ..GenerateOptions::default()
    };
    let prompts = [vec![1, 2, 3], vec![40, 41]];
    let a = generate(&adapted, &prompts, &options, None).unwrap();
    let b = generate(&merged, &prompts, &options, None).unwrap();
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x.token_ids, y.token_ids);
        assert_eq!(x.logprobs, y.logprobs);
    }
}

#[test]
#[expect(clippy::print_stderr, reason = "reports the measured difference")]
fn merged_model_matches_adapted_model() {
    let cases = expected().cases;
    let model = base();
    let before = logits(&model, &cases);
    let config = LoraConfig::new(
        3,
        5.0,
        vec![LoraTarget::QProj, LoraTarget::OProj, LoraTarget::UpProj],
    );
    let adapted = randomize_factors(apply_lora(model, &config, 1).unwrap(), 7, 0.3);
    let adapted_logits = logits(&adapted, &cases);
    let change = worst(&adapted_logits, &before);
    assert!(
        change > 1e-2,
        "random factors barely change the logits: {change}"
    );

    let merged = merge_lora(adapted);
    assert!(!has_lora(&merged));
    assert_eq!(trainable_params(&merged), merged.num_params());
    let diff = worst(&logits(&merged, &cases), &adapted_logits);
    eprintln!("merge: max |merged - adapted| = {diff:.3e} (adapter moved logits by {change:.3})");
    assert!(diff < MERGE_TOLERANCE, "{diff}");
}

#[test]
#[expect(clippy::print_stderr, reason = "reports the optimizer state sizes")]
fn only_adapter_factors_get_gradients_and_optimizer_state() {
    let ad = device().autodiff();
    let targets = vec![LoraTarget::QProj, LoraTarget::VProj, LoraTarget::DownProj];
    let config = LoraConfig::new(2, 4.0, targets.clone());
    let full = load_pretrained(&lora_fixture("base"), &ad).unwrap().0;
    let model = randomize_factors(apply_lora(full.clone(), &config, 1).unwrap(), 3, 0.2);

    let prompts = vec![vec![1, 2, 3, 4], vec![9, 8]];
    let completions = vec![vec![5, 6, 7], vec![10, 11, 12]];
    let loss_of = |m: &Qwen3| {
        let batch = CompletionBatch::new(m, &prompts, &completions, &ad).unwrap();
        completion_logprobs(m, &batch).sum()
    };
    let grads = loss_of(&model).backward();

    for (i, layer) in model.layers.iter().enumerate() {
        for t in LoraTarget::ALL {
            let weight = &t.linear(layer).weight;
            assert!(
                weight.base().grad(&grads).is_none(),
                "layer {i} {t}: base has a gradient"
            );
            match weight.adapter() {
                Some(adapter) => {
                    assert!(targets.contains(&t), "layer {i} {t}: untargeted adapter");
                    for (name, factor) in [("A", &adapter.a), ("B", &adapter.b)] {
                        let g = factor.val().grad(&grads).expect("factor gradient");
                        let norm: f32 = g.abs().sum().into_scalar();
                        assert!(norm > 0.0, "layer {i} {t} {name}: zero gradient");
                    }
                }
                None => assert!(!targets.contains(&t), "layer {i} {t}: no adapter"),
            }
        }
        for norm in [&layer.input_layernorm, &layer.post_attention_layernorm] {
            assert!(norm.gamma.val().grad(&grads).is_none());
        }
        assert!(layer.self_attn.q_norm.gamma.val().grad(&grads).is_none());
    }
    assert!(model.embed_tokens.weight.val().grad(&grads).is_none());
    assert!(model.norm.gamma.val().grad(&grads).is_none());
    let head = model.lm_head.as_ref().expect("the fixture is untied");
    assert!(head.weight.val().grad(&grads).is_none());

    // The optimizer sees the factors only, and one step moves nothing else.
    let grads = GradientsParams::from_grads(grads, &model);
    assert_eq!(grads.len(), 2 * targets.len() * model.layers.len());
    let mut opt = AdamWConfig::new().init();
    let stepped = opt.step(1e-2, model.clone(), grads);
    for (old, new) in model.layers.iter().zip(&stepped.layers) {
        for t in LoraTarget::ALL {
            let (o, n) = (&t.linear(old).weight, &t.linear(new).weight);
            assert_eq!(
                to_vec(o.base().inner()),
                to_vec(n.base().inner()),
                "{t} base moved"
            );
            if let (Some(a), Some(b)) = (o.adapter(), n.adapter()) {
                let moved = max_abs_diff(&to_vec(a.a.val().inner()), &to_vec(b.a.val().inner()));
                assert!(moved > 0.0, "{t}: factor A did not move");
            }
        }
        assert_eq!(
            to_vec(old.input_layernorm.gamma.val().inner()),
            to_vec(new.input_layernorm.gamma.val().inner())
        );
    }
    let lora_state = opt.into_bytes().unwrap().len();

    // Full fine-tuning of the same model, for scale.
    let grads = GradientsParams::from_grads(loss_of(&full).backward(), &full);
    let mut full_opt = AdamWConfig::new().init();
    let _ = full_opt.step(1e-2, full.clone(), grads);
    let full_state = full_opt.into_bytes().unwrap().len();
    let (trainable, total) = (trainable_params(&stepped), full.num_params());
    eprintln!(
        "AdamW state: LoRA {lora_state} B for {trainable} params, full {full_state} B for {total}"
    );
    // Two f32 moments per trained element, plus bookkeeping.
    assert!(lora_state >= 8 * trainable && lora_state < 8 * trainable + 16_384);
    assert!(full_state >= 8 * total);
}

#[test]
fn trainable_params_are_rank_times_in_plus_out() {
    let cfg = tiny_config();
    let model = cfg.init(&device());
    assert_eq!(trainable_params(&model), model.num_params());
    let (d, i) = (cfg.hidden_size, cfg.intermediate_size);
    let (q, kv) = (
        cfg.num_attention_heads * cfg.head_dim,
        cfg.num_key_value_heads * cfg.head_dim,
    );
    let dims = |t: LoraTarget| match t {
        LoraTarget::QProj => (d, q),
        LoraTarget::KProj | LoraTarget::VProj => (d, kv),
        LoraTarget::OProj => (q, d),
        LoraTarget::GateProj | LoraTarget::UpProj => (d, i),
        LoraTarget::DownProj => (i, d),
    };
    let configs = [
        LoraConfig::all_targets(4, 8.0),
        LoraConfig::new(2, 2.0, vec![LoraTarget::VProj, LoraTarget::GateProj]),
        LoraConfig::new(5, 1.5, vec![LoraTarget::DownProj]),
    ];
    for config in configs {
        let adapted = apply_lora(model.clone(), &config, 1).unwrap();
        let per_layer: usize = config
            .targets
            .iter()
            .map(|&t| {
                let (n_in, n_out) = dims(t);
                config.rank * (n_in + n_out)
            })
            .sum();
        let want = per_layer * cfg.num_hidden_layers;
        assert_eq!(trainable_params(&adapted), want, "{config:?}");
        // burn counts base and factors together.
        assert_eq!(adapted.num_params(), model.num_params() + want);
    }
}

/// Names, shapes and bytes of a safetensors file.
fn read_safetensors(path: &Path) -> BTreeMap<String, (Vec<usize>, Vec<f32>)> {
    let bytes = std::fs::read(path).unwrap();
    let st = SafeTensors::deserialize(&bytes).unwrap();
    st.tensors()
        .into_iter()
        .map(|(name, view)| {
            assert_eq!(view.dtype(), safetensors::Dtype::F32, "{name}");
            let values = view
                .data()
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect();
            (name, (view.shape().to_vec(), values))
        })
        .collect()
}

fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn saved_adapter_has_peft_names_shapes_and_config() {
    let cfg = tiny_config();
    let config = LoraConfig::new(3, 6.0, vec![LoraTarget::UpProj, LoraTarget::KProj]);
    let model = randomize_factors(
        apply_lora(cfg.init(&device()), &config, 1).unwrap(),
        11,
        0.5,
    );
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("adapter");
    save_peft_adapter(&model, &config, "Qwen/Qwen3-0.6B", &out).unwrap();

    let tensors = read_safetensors(&out.join(ADAPTER_WEIGHTS_FILE));
    let (d, i, kv) = (
        cfg.hidden_size,
        cfg.intermediate_size,
        cfg.num_key_value_heads * cfg.head_dim,
    );
    let mut want = BTreeMap::new();
    for layer in 0..cfg.num_hidden_layers {
        let p = format!("base_model.model.model.layers.{layer}");
        want.insert(format!("{p}.self_attn.k_proj.lora_A.weight"), vec![3, d]);
        want.insert(format!("{p}.self_attn.k_proj.lora_B.weight"), vec![kv, 3]);
        want.insert(format!("{p}.mlp.up_proj.lora_A.weight"), vec![3, d]);
        want.insert(format!("{p}.mlp.up_proj.lora_B.weight"), vec![i, 3]);
    }
    let got: BTreeMap<String, Vec<usize>> = tensors
        .iter()
        .map(|(k, (s, _))| (k.clone(), s.clone()))
        .collect();
    assert_eq!(got, want);
    // Values are burn's factors transposed: lora_A = Aᵀ, lora_B = Bᵀ.
    let adapter = model.layers[1].mlp.up_proj.weight.adapter().unwrap();
    let a_t = to_vec(adapter.a.val().transpose());
    let b_t = to_vec(adapter.b.val().transpose());
    assert_eq!(
        tensors["base_model.model.model.layers.1.mlp.up_proj.lora_A.weight"].1,
        a_t
    );
    assert_eq!(
        tensors["base_model.model.model.layers.1.mlp.up_proj.lora_B.weight"].1,
        b_t
    );

    let json = read_json(&out.join(ADAPTER_CONFIG_FILE));
    assert_eq!(json["peft_type"], "LORA");
    assert_eq!(json["task_type"], "CAUSAL_LM");
    assert_eq!(json["r"], 3);
    assert_eq!(json["lora_alpha"], 6);
    assert_eq!(
        json["target_modules"],
        serde_json::json!(["k_proj", "up_proj"])
    );
    assert_eq!(json["base_model_name_or_path"], "Qwen/Qwen3-0.6B");
    assert_eq!(json["bias"], "none");
    assert_eq!(json["fan_in_fan_out"], false);
    assert_eq!(json["use_rslora"], false);

    // Reading it back gives the same model, bit for bit.
    let (reloaded, read_config) = load_peft_adapter(cfg.init(&device()), &out).unwrap();
    assert_eq!(
        read_config,
        LoraConfig::new(3, 6.0, vec![LoraTarget::KProj, LoraTarget::UpProj])
    );
    let again = reloaded.layers[1].mlp.up_proj.weight.adapter().unwrap();
    assert_eq!(to_vec(again.a.val()), to_vec(adapter.a.val()));
    assert_eq!(to_vec(again.b.val()), to_vec(adapter.b.val()));
    assert_eq!(again.scale, 2.0);
}

/// Loads `base/` + an adapter in rzero and compares with peft's logits,
/// adapted and merged (also through a saved and reloaded HF checkpoint).
fn check_against_peft(adapter: &str, want: &AdapterExpected) -> (f32, f32, f32) {
    let exp = expected();
    let (model, config) = load_peft_adapter(base(), &lora_fixture(adapter)).unwrap();
    assert_eq!(config.rank, want.r);
    assert_eq!(config.alpha, want.lora_alpha);
    let mut names: Vec<&str> = config.targets.iter().map(|t| t.name()).collect();
    names.sort_unstable();
    assert_eq!(names, want.target_modules);

    let adapted = worst(&logits(&model, &exp.cases), &flat(&want.logits));
    let merged_model = merge_lora(model);
    let merged = worst(
        &logits(&merged_model, &exp.cases),
        &flat(&want.merged_logits),
    );

    let dir = tempfile::tempdir().unwrap();
    let hf = rzero_model::HfQwen3Config::from_file(&lora_fixture("base/config.json")).unwrap();
    save_pretrained(&merged_model, &hf, dir.path(), &SaveOptions::default()).unwrap();
    let reloaded = load_pretrained(dir.path(), &device()).unwrap().0;
    let saved = worst(&logits(&reloaded, &exp.cases), &flat(&want.merged_logits));
    (adapted, merged, saved)
}

#[test]
#[expect(clippy::print_stderr, reason = "reports the measured difference")]
fn base_logits_match_transformers() {
    let exp = expected();
    let diff = worst(&logits(&base(), &exp.cases), &flat(&exp.base_logits));
    eprintln!("lora base: max |logit - transformers| = {diff:.3e}");
    assert!(diff < PEFT_TOLERANCE, "{diff}");
}

#[test]
#[expect(clippy::print_stderr, reason = "reports the measured difference")]
fn peft_written_adapter_matches_peft() {
    let exp = expected();
    let (adapted, merged, saved) = check_against_peft("peft_adapter", &exp.peft_adapter);
    eprintln!(
        "peft_adapter: max |logit - peft| adapted {adapted:.3e}, merged {merged:.3e}, \
         merged+saved+reloaded {saved:.3e}"
    );
    for diff in [adapted, merged, saved] {
        assert!(diff < PEFT_TOLERANCE, "{diff}");
    }
}

#[test]
#[expect(clippy::print_stderr, reason = "reports the measured difference")]
fn rzero_written_adapter_matches_peft() {
    let exp = expected();
    let (adapted, merged, saved) = check_against_peft("rzero_adapter", &exp.rzero_adapter);
    eprintln!(
        "rzero_adapter: max |logit - peft| adapted {adapted:.3e}, merged {merged:.3e}, \
         merged+saved+reloaded {saved:.3e}"
    );
    for diff in [adapted, merged, saved] {
        assert!(diff < PEFT_TOLERANCE, "{diff}");
    }
}

#[test]
fn resaving_a_peft_adapter_gives_the_same_tensors() {
    let src = lora_fixture("peft_adapter");
    let (model, config) = load_peft_adapter(base(), &src).unwrap();
    let dir = tempfile::tempdir().unwrap();
    save_peft_adapter(&model, &config, "base", dir.path()).unwrap();
    assert_eq!(
        read_safetensors(&dir.path().join(ADAPTER_WEIGHTS_FILE)),
        read_safetensors(&src.join(ADAPTER_WEIGHTS_FILE))
    );
    let (ours, theirs) = (
        read_json(&dir.path().join(ADAPTER_CONFIG_FILE)),
        read_json(&src.join(ADAPTER_CONFIG_FILE)),
    );
    for key in [
        "peft_type",
        "r",
        "lora_alpha",
        "task_type",
        "bias",
        "fan_in_fan_out",
    ] {
        assert_eq!(ours[key], theirs[key], "{key}");
    }
}

/// A copy of the PEFT fixture adapter whose config is edited by `edit`.
fn edited_adapter(edit: impl FnOnce(&mut serde_json::Value)) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let src = lora_fixture("peft_adapter");
    std::fs::copy(
        src.join(ADAPTER_WEIGHTS_FILE),
        dir.path().join(ADAPTER_WEIGHTS_FILE),
    )
    .unwrap();
    let mut json = read_json(&src.join(ADAPTER_CONFIG_FILE));
    edit(&mut json);
    std::fs::write(dir.path().join(ADAPTER_CONFIG_FILE), json.to_string()).unwrap();
    dir
}

#[test]
fn bad_configs_and_adapters_are_typed_errors() {
    let model = tiny_config().init(&device());
    let lora = |c: LoraConfig| apply_lora(model.clone(), &c, 1).unwrap_err();
    assert!(matches!(
        lora(LoraConfig::all_targets(0, 8.0)),
        ModelError::Lora { .. }
    ));
    assert!(matches!(
        lora(LoraConfig::all_targets(4, 0.0)),
        ModelError::Lora { .. }
    ));
    assert!(matches!(
        lora(LoraConfig::new(4, 8.0, vec![])),
        ModelError::Lora { .. }
    ));
    let twice = LoraConfig::new(4, 8.0, vec![LoraTarget::QProj, LoraTarget::QProj]);
    assert!(matches!(lora(twice), ModelError::Lora { .. }));
    assert!("qkv_proj".parse::<LoraTarget>().is_err());
    assert_eq!(
        "gate_proj".parse::<LoraTarget>().unwrap(),
        LoraTarget::GateProj
    );

    let config = LoraConfig::all_targets(2, 4.0);
    let adapted = apply_lora(model.clone(), &config, 1).unwrap();
    assert!(matches!(
        apply_lora(adapted.clone(), &config, 1),
        Err(ModelError::Lora { .. })
    ));
    // Saving with a config that does not describe the adapters.
    let dir = tempfile::tempdir().unwrap();
    let other = LoraConfig::all_targets(3, 4.0);
    let err = save_peft_adapter(&adapted, &other, "base", dir.path()).unwrap_err();
    assert!(matches!(err, ModelError::Lora { .. }), "{err}");
    let fewer = LoraConfig::new(2, 4.0, vec![LoraTarget::QProj]);
    let err = save_peft_adapter(&adapted, &fewer, "base", dir.path()).unwrap_err();
    assert!(matches!(err, ModelError::Lora { .. }), "{err}");

    // PEFT options rzero does not implement are rejected by field name.
    for (key, value) in [
        ("use_dora", serde_json::json!(true)),
        ("use_rslora", serde_json::json!(true)),
        ("fan_in_fan_out", serde_json::json!(true)),
        ("rank_pattern", serde_json::json!({"q_proj": 8})),
        ("peft_type", serde_json::json!("IA3")),
        ("target_modules", serde_json::json!(".*proj")),
        (
            "target_modules",
            serde_json::json!(["q_proj", "embed_tokens"]),
        ),
    ] {
        let dir = edited_adapter(|j| j[key] = value.clone());
        match load_peft_adapter(base(), dir.path()) {
            Err(ModelError::Unsupported { field, .. }) => assert_eq!(field, key),
            other => panic!("{key} = {value}: {other:?}"),
        }
    }
    // The file holds adapters the config does not list.
    let dir = edited_adapter(|j| j["target_modules"] = serde_json::json!(["q_proj"]));
    let err = load_peft_adapter(base(), dir.path()).unwrap_err();
    assert!(matches!(err, ModelError::UnusedTensor { .. }), "{err}");
    // A rank that does not match the file.
    let dir = edited_adapter(|j| j["r"] = serde_json::json!(8));
    let err = load_peft_adapter(base(), dir.path()).unwrap_err();
    assert!(matches!(err, ModelError::ShapeMismatch { .. }), "{err}");
    // The base model is not the one the adapter was trained on.
    let err = load_peft_adapter(model, &lora_fixture("peft_adapter")).unwrap_err();
    assert!(matches!(err, ModelError::ShapeMismatch { .. }), "{err}");
}

/// The committed `tests/fixtures/lora/rzero_adapter` (which PEFT's side of
/// the fixture loads) is what rzero writes today, byte for byte: rank 2,
/// alpha 3, q/v/down_proj, seeded random factors. `RZERO_WRITE_FIXTURES=1`
/// rewrites it first (see make_peft_fixture.py).
#[test]
fn rzero_adapter_fixture_is_what_rzero_writes() {
    let config = LoraConfig::new(
        2,
        3.0,
        vec![LoraTarget::QProj, LoraTarget::VProj, LoraTarget::DownProj],
    );
    let model = randomize_factors(apply_lora(base(), &config, 1).unwrap(), 2024, 0.4);
    let committed = lora_fixture("rzero_adapter");
    if std::env::var_os("RZERO_WRITE_FIXTURES").is_some() {
        save_peft_adapter(&model, &config, "base", &committed).unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    save_peft_adapter(&model, &config, "base", dir.path()).unwrap();
    for name in ["adapter_config.json", "adapter_model.safetensors"] {
        let written = std::fs::read(dir.path().join(name)).unwrap();
        let fixture = std::fs::read(committed.join(name)).unwrap();
        assert!(
            written == fixture,
            "{name} differs from the committed fixture"
        );
    }
}
