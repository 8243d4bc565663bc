//! `rzero plan`: the estimated peak memory of every phase of a run, and the
//! micro-batch rows, log-prob chunk and recomputation setting that fit;
//! `--measure` checks the estimates with one step of each phase.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};
use clap::Args;
use rzero_core::RunConfig;
use rzero_core::config::Override;
use rzero_core::plan::measure::{Measurement, measure_phase};
use rzero_core::plan::size::{format_size, parse_size, total_memory};
use rzero_core::plan::{Plan, PlanOptions, plan_run};
use rzero_model::DeviceSpec;

/// Arguments of `rzero plan`.
#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Model directory (HF layout; only config.json is needed for estimates,
    /// tokenizer.json makes prompt lengths exact); default: the run config's
    /// model, else the built-in tiny model.
    #[arg(long)]
    model: Option<PathBuf>,
    /// Preset: tiny, smoke or paper (default: the config file's, else tiny).
    #[arg(long)]
    preset: Option<String>,
    /// TOML run config, whole or partial, over the preset.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Override one key after the preset and --config; repeatable.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<Override>,
    /// Memory to fit in: 20GiB, 80GB, 512MiB or bytes. Default: the
    /// device's memory (on a CPU, MemTotal of /proc/meminfo).
    #[arg(long, value_parser = memory_size)]
    memory: Option<u64>,
    /// Device: cpu, wgpu[:N] or cuda[:N].
    #[arg(long, default_value = "cpu")]
    device: DeviceSpec,
    /// Also run one training micro-step of each update phase and one decode
    /// step with a full KV cache of each sampling phase (random tokens, one
    /// process per phase) and report the peak resident memory.
    #[arg(long)]
    measure: bool,
    /// With --measure: measure only this phase (repeatable; e.g.
    /// solver_update). The others keep their estimates.
    #[arg(long, value_name = "PHASE", requires = "measure")]
    only: Vec<String>,
    /// Print one JSON object instead of the table.
    #[arg(long)]
    json: bool,
    /// Measure this phase in this process and print the measurement as JSON
    /// (what `--measure` runs in a child process per phase).
    #[arg(long, hide = true)]
    measure_phase: Option<String>,
}

/// Parses `--memory`.
pub fn memory_size(text: &str) -> Result<u64, String> {
    parse_size(text).map_err(|e| e.to_string())
}

/// The memory budget and where it came from: `--memory`, else the
/// device's memory (`None` where it cannot be read).
pub fn budget(memory: Option<u64>, device: DeviceSpec) -> anyhow::Result<Option<(u64, String)>> {
    if let Some(bytes) = memory {
        return Ok(Some((bytes, "--memory".into())));
    }
    match device {
        DeviceSpec::Cpu => Ok(Some((
            total_memory()?,
            "the host's memory, MemTotal of /proc/meminfo".into(),
        ))),
        _ => Ok(None),
    }
}

/// The model directory: `--model`, else the config's, else the built-in one.
pub fn model_dir(model: Option<&Path>, config: &RunConfig) -> anyhow::Result<PathBuf> {
    let dir = match (model, config.model.as_deref()) {
        (Some(m), _) | (None, Some(m)) => m.to_path_buf(),
        (None, None) => {
            rzero_core::builtin::builtin_model_dir().context("unpacking the built-in tiny model")?
        }
    };
    if !dir.join("config.json").exists() {
        bail!("{}: not a model directory (no config.json)", dir.display());
    }
    Ok(dir)
}

/// Runs `rzero plan`; an error (exit 1) when the run does not fit.
pub fn run(args: &PlanArgs) -> anyhow::Result<()> {
    let config = RunConfig::layered(args.preset.as_deref(), args.config.as_deref(), &args.set)?;
    let model = model_dir(args.model.as_deref(), &config)?;
    let Some((bytes, source)) = budget(args.memory, args.device)? else {
        bail!(
            "cannot read the memory of device {}: pass --memory (e.g. --memory 80GB)",
            args.device
        );
    };
    let mut plan = plan_run(
        &config,
        &model,
        &PlanOptions::for_device(bytes, args.device == DeviceSpec::Cpu),
    )?;
    if let Some(name) = &args.measure_phase {
        let phase = plan.phase(name)?;
        let measured = measure_phase(&config, &model, phase, &args.device.device()?)?;
        println!("{}", serde_json::to_string(&measured)?);
        return Ok(());
    }
    if args.measure {
        measure_all(args, &config, &model, &mut plan)?;
    }
    if args.json {
        // The plan, with the model and where the budget came from.
        let mut report = serde_json::to_value(&plan)?;
        report["model"] = serde_json::json!(model);
        report["budget_source"] = serde_json::json!(source);
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_table(&model, &source, &plan);
    }
    match plan.refusal() {
        Some(message) => bail!("{message}"),
        None => Ok(()),
    }
}

/// Measures every local phase that fits, each in a child process
/// (`rzero plan --measure-phase NAME` with the merged config in a file).
fn measure_all(
    args: &PlanArgs,
    config: &RunConfig,
    model: &Path,
    plan: &mut Plan,
) -> anyhow::Result<()> {
    if args.device != DeviceSpec::Cpu {
        bail!(
            "--measure reads the process's resident memory, so it measures on a CPU only \
             (burn 0.22 exposes no GPU allocator statistics)"
        );
    }
    for name in &args.only {
        plan.phase(name)?;
    }
    let exe = std::env::current_exe().context("locating the rzero binary")?;
    let file = std::env::temp_dir().join(format!("rzero-plan-{}.toml", std::process::id()));
    std::fs::write(&file, config.to_toml()?)
        .with_context(|| format!("writing {}", file.display()))?;
    let result = (|| -> anyhow::Result<()> {
        for phase in &mut plan.phases {
            if !args.only.is_empty() && !args.only.contains(&phase.name) {
                phase.notes.push("not measured: not named by --only".into());
                continue;
            }
            if phase.remote || !phase.fits {
                let why = if phase.remote {
                    "it samples on inference servers"
                } else {
                    "its estimate exceeds the budget"
                };
                phase.notes.push(format!("not measured: {why}"));
                continue;
            }
            eprintln!("measuring {} …", phase.name);
            let out = Command::new(&exe)
                .arg("plan")
                .arg("--model")
                .arg(model)
                .arg("--config")
                .arg(&file)
                .args(["--memory", &plan.budget_bytes.to_string()])
                .args(["--measure-phase", &phase.name])
                .output()
                .with_context(|| format!("running {}", exe.display()))?;
            if !out.status.success() {
                bail!(
                    "measuring {}: {}",
                    phase.name,
                    String::from_utf8_lossy(&out.stderr).trim()
                );
            }
            // The child's warnings and logs (RUST_LOG) reach the user.
            eprint!("{}", String::from_utf8_lossy(&out.stderr));
            let m: Measurement = serde_json::from_slice(&out.stdout)
                .with_context(|| format!("reading the measurement of {}", phase.name))?;
            phase.measured_peak_bytes = Some(m.peak_bytes);
            phase.measured_baseline_bytes = Some(m.baseline_bytes);
            if !m.peak_reset {
                phase.notes.push(
                    "measured peak includes model loading (/proc/self/clear_refs not writable)"
                        .into(),
                );
            }
        }
        Ok(())
    })();
    let _ = std::fs::remove_file(&file);
    result
}

fn print_table(model: &Path, source: &str, plan: &Plan) {
    println!(
        "model:  {} ({:.1} M parameters)",
        model.display(),
        plan.params as f64 / 1e6
    );
    println!("memory: {} ({source})", format_size(plan.budget_bytes));
    if !plan.exact_prompts {
        println!("prompt lengths approximated from the prompt text (no tokenizer.json)");
    }
    println!();
    let measured = plan.phases.iter().any(|p| p.measured_peak_bytes.is_some());
    let mut header = format!(
        "{:<27} {:>5} {:>6} {:>5} {:>7} {:>9} {:>9} {:>9} {:>11} {:>9} {:>9} {:>9}",
        "phase",
        "rows",
        "seq",
        "chunk",
        "recomp",
        "weights",
        "optimizer",
        "gradients",
        "activations",
        "logits",
        "kv_cache",
        "estimate"
    );
    if measured {
        header.push_str(&format!(" {:>9} {:>9}", "measured", "baseline"));
    }
    header.push_str("  fits");
    println!("{header}");
    for p in &plan.phases {
        let b = &p.breakdown;
        let opt = |v: Option<String>| v.unwrap_or_else(|| "-".into());
        let mut line = format!(
            "{:<27} {:>5} {:>6} {:>5} {:>7} {:>9} {:>9} {:>9} {:>11} {:>9} {:>9} {:>9}",
            p.name,
            p.micro_batch_rows,
            p.sequence,
            opt(p.logprob_chunk.map(|c| c.to_string())),
            opt(p
                .recompute
                .map(|r| if r { "on" } else { "off" }.to_string())),
            format_size(b.weights),
            format_size(b.optimizer),
            format_size(b.gradients),
            format_size(b.activations),
            format_size(b.logits),
            format_size(b.kv_cache),
            format_size(p.estimate_bytes),
        );
        if measured {
            line.push_str(&format!(
                " {:>9} {:>9}",
                opt(p.measured_peak_bytes.map(format_size)),
                opt(p.measured_baseline_bytes.map(format_size)),
            ));
        }
        line.push_str(if p.fits { "  yes" } else { "  NO" });
        println!("{line}");
    }
    let notes: Vec<String> = plan
        .phases
        .iter()
        .flat_map(|p| p.notes.iter().map(move |n| format!("  {}: {n}", p.name)))
        .collect();
    if !notes.is_empty() {
        println!("\nnotes:");
        for n in notes {
            println!("{n}");
        }
    }
    if measured {
        println!(
            "\nmeasured: peak resident memory of a process that ran one step of the phase \
             (everything resident included); baseline: its resident memory before loading any model"
        );
    }
    let caps = plan.capabilities;
    let state = |on: bool, missing: &'static str| if on { "available" } else { missing };
    println!(
        "\nlayer recomputation: {} · memory-efficient attention: {} · tensors counted as f32, \
         but frozen copies with memory.reference_dtype or sampler_dtype = \"bf16\"",
        state(caps.recompute, "not available"),
        state(caps.memory_efficient_attention, "not available yet"),
    );
    match plan.refusal() {
        None => println!(
            "fits: every phase fits in {}",
            format_size(plan.budget_bytes)
        ),
        Some(message) => println!("{message}"),
    }
}
