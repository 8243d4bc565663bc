//! The R-Zero loop end to end on the smoke preset with the built-in model.

use std::path::Path;

use burn::prelude::Device;
use rzero_core::MetricsRecord;
use rzero_core::config::FrozenDtype;
use rzero_core::phases::eval::BenchSource;
use rzero_core::progress::{NoProgress, StopFlag};
use rzero_core::run::{RunOptions, Runner, init_run};
use rzero_core::rundir::{Role, RunDir};
use rzero_core::state::{Phase, RunState};
use rzero_core::{CoreError, RunConfig, preset};

pub(crate) fn base_model() -> std::path::PathBuf {
    rzero_core::builtin::builtin_model_dir().expect("built-in model unpacks")
}

fn options() -> RunOptions {
    RunOptions {
        base_model: base_model(),
        device: Device::flex(),
        benches: BenchSource::default(),
    }
}

fn smoke() -> RunConfig {
    let mut c = preset("smoke").expect("smoke preset");
    c.eval.limit = 3;
    c
}

pub(crate) fn run_to_end(dir: &Path, config: &RunConfig) -> Vec<MetricsRecord> {
    init_run(dir, config, &base_model()).expect("init");
    let stop = StopFlag::default();
    let mut runner = Runner::open(dir, options(), &NoProgress, &stop).expect("open");
    runner.run().expect("run completes");
    RunDir::new(dir).read_metrics().expect("metrics")
}

/// Metrics without wall-clock figures, which legitimately differ.
fn deterministic(records: &[MetricsRecord]) -> Vec<MetricsRecord> {
    records
        .iter()
        .map(|r| {
            let mut r = r.clone();
            r.values
                .retain(|k, _| !k.contains("per_second") && !k.contains("seconds"));
            r
        })
        .collect()
}

#[test]
fn smoke_run_writes_every_artifact_and_stops_on_request_then_resumes_identically() {
    let config = smoke();
    let full_dir = tempfile::tempdir().unwrap();
    let full = run_to_end(full_dir.path(), &config);
    let run = RunDir::new(full_dir.path());
    assert_eq!(run.read_state().unwrap().unwrap().next, Phase::Done);
    for t in 0..=config.iterations {
        assert!(run.eval(t).exists(), "eval of iteration {t}");
    }
    for t in 1..=config.iterations {
        assert!(run.questions_all(t).exists());
        assert!(
            run.checkpoint(t, Role::Challenger, config.challenger.rollout_steps - 1)
                .join("model.safetensors")
                .exists()
        );
        assert!(
            run.checkpoint(t, Role::Solver, config.solver.rollout_steps - 1)
                .join("tokenizer.json")
                .exists()
        );
    }
    let phases: Vec<&str> = full.iter().map(|r| r.phase.as_str()).collect();
    assert!(
        phases.contains(&"challenger")
            && phases.contains(&"question_set")
            && phases.contains(&"eval")
    );

    // Stop at the first safe point (as Ctrl-C does), then resume: same metrics.
    let split_dir = tempfile::tempdir().unwrap();
    init_run(split_dir.path(), &config, &base_model()).unwrap();
    let stop = StopFlag::default();
    stop.request();
    let mut runner = Runner::open(split_dir.path(), options(), &NoProgress, &stop).unwrap();
    assert!(matches!(runner.run(), Err(CoreError::Interrupted)));
    let state = RunDir::new(split_dir.path()).read_state().unwrap().unwrap();
    assert_eq!(
        state,
        RunState::start(),
        "nothing ran before the stop was honoured"
    );
    let go = StopFlag::default();
    Runner::open(split_dir.path(), options(), &NoProgress, &go)
        .unwrap()
        .run()
        .unwrap();
    let resumed = RunDir::new(split_dir.path()).read_metrics().unwrap();
    assert_eq!(deterministic(&resumed), deterministic(&full));
}

/// BF16 frozen copies lose nothing when the base model is stored in BF16,
/// as the built-in one (and Hugging Face's Qwen3) is. With
/// `reference_dtype = "bf16"` iteration 1's KL terms and losses are the f32
/// reference's, to the bit; with `sampler_dtype = "bf16"` too, so is
/// everything up to the question set, whose Challenger is a trained (f32)
/// checkpoint rounded to BF16.
#[test]
fn bf16_frozen_copies_of_a_bf16_base_give_the_same_run() {
    let mut config = smoke();
    config.iterations = 1;
    assert_eq!(config.memory.reference_dtype, FrozenDtype::F32);
    let run = |config: &RunConfig| {
        let dir = tempfile::tempdir().unwrap();
        deterministic(&run_to_end(dir.path(), config))
    };
    let f32_run = run(&config);
    let kl: Vec<f64> = f32_run
        .iter()
        .filter_map(|r| r.values.get("kl").copied())
        .collect();
    assert_eq!(kl.len(), 2, "{f32_run:?}");
    assert!(kl.iter().all(|&k| k > 0.0), "{kl:?}");
    config.memory.reference_dtype = FrozenDtype::Bf16;
    assert_eq!(run(&config), f32_run);
    config.memory.sampler_dtype = FrozenDtype::Bf16;
    let both = run(&config);
    let until_question_set = |r: &[MetricsRecord]| -> Vec<MetricsRecord> {
        r.iter()
            .take_while(|r| r.phase != "question_set")
            .cloned()
            .collect()
    };
    let head = until_question_set(&f32_run);
    assert!(head.iter().any(|r| r.phase == "challenger"), "{head:?}");
    assert_eq!(until_question_set(&both), head);
}

#[test]
fn an_empty_question_set_skips_solver_training_with_a_warning() {
    let mut config = smoke();
    config.iterations = 1;
    // m = 4 votes give p̂ in {0, .25, .5, .75, 1}: nothing lies in [0.3, 0.45].
    config.question_set.filter.band = rzero_data::Band::Range { lo: 0.3, hi: 0.45 };
    let dir = tempfile::tempdir().unwrap();
    run_to_end(dir.path(), &config);
    let run = RunDir::new(dir.path());
    let kept: Vec<rzero_data::QuestionRecord> = rzero_data::read_jsonl(run.questions(1)).unwrap();
    assert!(kept.is_empty());
    assert!(
        run.checkpoint(1, Role::Solver, config.solver.rollout_steps - 1)
            .join("config.json")
            .exists()
    );
    assert!(run.eval(1).exists());
}

#[test]
fn missing_model_dir_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    init_run(dir.path(), &smoke(), Path::new("/nonexistent/model")).unwrap();
    let mut opts = options();
    opts.base_model = "/nonexistent/model".into();
    let stop = StopFlag::default();
    let err = Runner::open(dir.path(), opts, &NoProgress, &stop)
        .unwrap()
        .run()
        .unwrap_err();
    assert!(err.to_string().contains("/nonexistent/model"), "{err}");
}

#[test]
fn malformed_toml_names_the_key() {
    let text = preset("smoke")
        .unwrap()
        .to_toml()
        .unwrap()
        .replace("group_size = 2", "group_sise = 2");
    let err = RunConfig::from_toml_str(&text, Path::new("bad.toml"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("bad.toml") && err.contains("group_sise"),
        "{err}"
    );
    let text = preset("smoke")
        .unwrap()
        .to_toml()
        .unwrap()
        .replace("iterations = 2", "iterations = 0");
    let err = RunConfig::from_toml_str(&text, Path::new("zero.toml"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("iterations"), "{err}");
}

#[test]
fn a_second_run_in_the_same_directory_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    init_run(dir.path(), &smoke(), &base_model()).unwrap();
    let err = init_run(dir.path(), &smoke(), &base_model())
        .unwrap_err()
        .to_string();
    assert!(err.contains("--resume"), "{err}");
}

#[test]
fn presets_round_trip_through_toml() {
    for name in rzero_core::presets::PRESETS {
        let c = preset(name).unwrap();
        let back = RunConfig::from_toml_str(&c.to_toml().unwrap(), Path::new("x.toml")).unwrap();
        assert_eq!(back, c, "{name}");
    }
}

#[test]
fn a_failing_weights_hook_stops_the_run_with_its_stderr_and_state_intact() {
    let mut config = smoke();
    // Nothing listens on port 9: the hook fails before any request is sent.
    config.inference.eval.endpoints = vec!["http://127.0.0.1:9".into()];
    config.inference.weights_hook = Some(vec![
        "sh".into(),
        "-c".into(),
        "echo \"cannot reach $RZERO_ENDPOINTS for $RZERO_ROLE\" >&2; exit 4".into(),
    ]);
    let dir = tempfile::tempdir().unwrap();
    init_run(dir.path(), &config, &base_model()).unwrap();
    let run = RunDir::new(dir.path());
    let before = run.read_state().unwrap();
    let stop = StopFlag::default();
    let mut runner = Runner::open(dir.path(), options(), &NoProgress, &stop).unwrap();
    let err = runner.run().unwrap_err();
    assert!(matches!(err, CoreError::Hook { .. }), "{err}");
    let text = err.to_string();
    assert!(
        text.contains("cannot reach http://127.0.0.1:9 for solver"),
        "{text}"
    );
    assert!(
        text.contains("exit status: 4") && text.contains("--resume"),
        "{text}"
    );
    assert_eq!(run.read_state().unwrap(), before, "state untouched");
    assert!(!run.eval(0).exists(), "no unit ran");
}

/// A checkpoint saved after its source directory is gone (older checkpoints
/// are deleted as a phase advances) is still a complete HF directory.
#[test]
fn a_policy_saves_its_tokenizer_after_its_source_is_deleted() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let source = tmp.path().join("step_000");
    let policy = rzero_core::policy::Policy::load(&base_model(), &Device::flex()).expect("load");
    policy.save(&source).expect("save");
    let reloaded = rzero_core::policy::Policy::load(&source, &Device::flex()).expect("reload");
    std::fs::remove_dir_all(&source).expect("delete the source");
    let next = tmp.path().join("step_001");
    reloaded.save(&next).expect("save again");
    for name in ["tokenizer.json", "tokenizer_config.json", "config.json"] {
        assert!(next.join(name).exists(), "{name} missing");
    }
    rzero_core::policy::Policy::load(&next, &Device::flex()).expect("a complete model dir");
}

/// Requests a stop when a unit whose label contains `at` begins (honoured
/// once that unit is done), as Ctrl-C would.
struct StopAt<'a> {
    stop: &'a StopFlag,
    at: &'static str,
}

impl rzero_core::progress::Progress for StopAt<'_> {
    fn unit(&self, label: &str) {
        if label.contains(self.at) {
            self.stop.request();
        }
    }

    fn done(&self, _done: usize, _total: usize) {}
}

/// Every file under a directory, by relative path.
fn files(dir: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut out = std::collections::BTreeMap::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        let name = e.file_name().to_string_lossy().into_owned();
        if e.path().is_dir() {
            for (inner, bytes) in files(&e.path()) {
                out.insert(format!("{name}/{inner}"), bytes);
            }
        } else {
            out.insert(name, std::fs::read(e.path()).unwrap());
        }
    }
    out
}

/// `[grpo.lora]` from `--set grpo.lora.rank=4`: only the adapters train,
/// each checkpoint holds the merged model and the PEFT adapter in `adapter/`, and
/// a run stopped inside a LoRA phase resumes (base + saved adapter +
/// optimizer) to the same files.
#[test]
fn a_lora_run_trains_adapters_saves_merged_checkpoints_and_resumes_identically() {
    use rzero_model::lora::{ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE};

    let set: rzero_core::config::Override = "grpo.lora.rank=4".parse().unwrap();
    let mut config = RunConfig::layered(Some("smoke"), None, &[set]).unwrap();
    let lora = config.grpo.lora.expect("[grpo.lora] set");
    assert_eq!(
        (lora.rank, lora.alpha(), lora.targets.names().count()),
        (4, 8.0, 7)
    );
    config.eval.limit = 3;
    config.iterations = 1;
    config.solver.rollout_steps = 2;

    let full_dir = tempfile::tempdir().unwrap();
    let full = run_to_end(full_dir.path(), &config);
    let run = RunDir::new(full_dir.path());
    let device = Device::flex();
    let (base, _) = rzero_model::load_pretrained(&base_model(), &device).unwrap();
    for (role, steps) in [(Role::Challenger, 1), (Role::Solver, 2)] {
        let dir = run.checkpoint(1, role, steps - 1);
        let adapter_dir = dir.join(rzero_core::policy::ADAPTER_DIR);
        for name in [ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE] {
            assert!(adapter_dir.join(name).exists(), "{role:?}: {name}");
            // transformers would apply an adapter beside config.json on top
            // of the (already merged) weights.
            assert!(
                !dir.join(name).exists(),
                "{role:?}: {name} beside the merged model"
            );
        }
        assert!(dir.join("model.safetensors").exists());
        let adapter: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(adapter_dir.join(ADAPTER_CONFIG_FILE)).unwrap(),
        )
        .unwrap();
        assert_eq!(
            (adapter["r"].clone(), adapter["lora_alpha"].clone()),
            (4.into(), 8.into())
        );
        assert_eq!(adapter["peft_type"], "LORA");
        assert_eq!(
            adapter["base_model_name_or_path"],
            base_model().to_string_lossy().as_ref()
        );
        // The merged weights moved where adapters are, nowhere else.
        let (merged, _) = rzero_model::load_pretrained(&dir, &device).unwrap();
        let diff = |a: burn::tensor::Tensor<2>, b: burn::tensor::Tensor<2>| -> f32 {
            (a - b).abs().max().into_scalar()
        };
        let q = |m: &rzero_model::Qwen3| m.layers[0].self_attn.q_proj.weight.val();
        assert!(
            diff(q(&merged), q(&base)) > 0.0,
            "{role:?}: q_proj did not train"
        );
        let e = |m: &rzero_model::Qwen3| m.embed_tokens.weight.val();
        assert_eq!(
            diff(e(&merged), e(&base)),
            0.0,
            "{role:?}: embeddings moved"
        );
        // The adapter beside it, on the base, is the merged model.
        let (adapted, _) = rzero_model::load_peft_adapter(base.clone(), &adapter_dir).unwrap();
        let again = rzero_model::merge_lora(adapted);
        for (a, b) in again.layers.iter().zip(&merged.layers) {
            let d = diff(a.mlp.down_proj.weight.val(), b.mlp.down_proj.weight.val());
            assert!(
                d <= 1e-6,
                "{role:?}: adapter and merged weights differ by {d}"
            );
        }
    }

    // Stop after the first Solver step, then resume from its checkpoint.
    let split_dir = tempfile::tempdir().unwrap();
    init_run(split_dir.path(), &config, &base_model()).unwrap();
    let stop = StopFlag::default();
    let progress = StopAt {
        stop: &stop,
        at: "solver step 1/2",
    };
    let mut runner = Runner::open(split_dir.path(), options(), &progress, &stop).unwrap();
    assert!(matches!(runner.run(), Err(CoreError::Interrupted)));
    let split = RunDir::new(split_dir.path());
    assert_eq!(
        split.read_state().unwrap().unwrap().next,
        Phase::Solver { step: 1 }
    );
    let go = StopFlag::default();
    Runner::open(split_dir.path(), options(), &NoProgress, &go)
        .unwrap()
        .run()
        .unwrap();
    assert_eq!(
        deterministic(&split.read_metrics().unwrap()),
        deterministic(&full)
    );
    let last = |r: &RunDir| files(&r.checkpoint(1, Role::Solver, 1));
    assert!(last(&run).contains_key("adapter/adapter_model.safetensors"));
    assert_eq!(last(&split), last(&run), "resumed checkpoint differs");
}

/// Rows per generation call below the votes per question split each
/// question's samples over calls; the completions equal one call's.
#[test]
fn a_policy_splits_a_prompts_samples_over_calls_of_fewer_rows() {
    use rzero_core::policy::{Policy, SampleRequest, Sampler};
    let mut policy = Policy::load(&base_model(), &Device::flex()).expect("load");
    let request = SampleRequest {
        prompts: vec![vec![1, 2, 3], vec![7, 8]],
        n: 5,
        sampling: rzero_core::config::SamplingConfig {
            temperature: 1.0,
            top_p: 1.0,
            top_k: -1,
            max_new_tokens: 8,
        },
        seed: 3,
    };
    policy.max_batch_rows = 10;
    let whole = policy.sample(&request).expect("one call");
    policy.max_batch_rows = 2;
    let split = policy.sample(&request).expect("calls of 2 rows");
    assert_eq!(whole.len(), 10);
    assert_eq!(split.len(), 10);
    for (i, (a, b)) in whole.iter().zip(&split).enumerate() {
        assert_eq!((b.prompt_index, b.sample_index), (i / 5, i % 5));
        assert_eq!(a.token_ids, b.token_ids, "row {i}");
    }
}
