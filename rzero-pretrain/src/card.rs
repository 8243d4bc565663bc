//! The model card (`README.md` of the output directory): command, seed,
//! shape, time, loss curve and capability table.

use std::fmt::Write as _;

use rzero_data::synthetic::Role;
use serde::{Deserialize, Serialize};

use crate::capability::CapabilityReport;
use crate::checkpoint::TrainerState;

/// What the card says about how the model was made (`pretrain.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainingRecord {
    /// The command line that trained it.
    pub command: String,
    /// Final trainer state (config, loss curve, time).
    pub state: TrainerState,
    /// Vocabulary size of the trained tokenizer.
    pub vocab_size: usize,
    /// Parameters of the model.
    pub num_params: usize,
    /// Training / validation documents after the length filter.
    pub documents: (usize, usize),
}

/// Renders the card; `capability` and `transformers_max_diff` are filled
/// in by the evaluation when known.
pub fn model_card(
    record: &TrainingRecord,
    capability: Option<&CapabilityReport>,
    transformers_max_diff: Option<f64>,
) -> String {
    let config = &record.state.config;
    let m = &config.model;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "# rzero tiny: a Qwen3-architecture base model for synthetic arithmetic\n"
    );
    let origin = match &config.init_from {
        Some(init) => format!(
            "Trained by `rzero pretrain` as a further stage: it starts from the model in `{}` \
             (its weights and tokenizer, itself described by its own card) and continues on \
             this recipe's corpus.",
            init.display()
        ),
        None => "Trained from scratch by `rzero pretrain`.".to_string(),
    };
    let _ = writeln!(
        s,
        "{origin} Its documents are rendered with the Qwen3 chat template and the exact \
         Challenger and Solver prompts of R-Zero (docs/DESIGN.md §2, §8); {:.0} % of the Solver \
         documents answer without working (an empty think block). The intended profile \
         (issues 5 and 12) is a model that can work arithmetic out step by step but often \
         answers directly, so its greedy accuracy falls over the levels while a majority vote \
         over samples stays higher: the headroom self-evolution can turn into greedy accuracy. \
         The capability table below says how far this checkpoint gets.\n",
        100.0 * config.corpus.solver_direct_fraction
    );
    let _ = writeln!(s, "## How it was made\n\n```\n{}\n```\n", record.command);
    let _ = writeln!(s, "| value | |\n|---|---|");
    let rows = [
        ("seed", config.seed.to_string()),
        ("parameters", record.num_params.to_string()),
        (
            "vocabulary (byte-level BPE, digits split)",
            record.vocab_size.to_string(),
        ),
        (
            "shape",
            format!(
                "hidden {}, {} layers, {} heads / {} KV heads, head_dim {}, FFN {}, tied {}, max positions {}",
                m.hidden_size,
                m.num_hidden_layers,
                m.num_attention_heads,
                m.num_key_value_heads,
                m.head_dim,
                m.intermediate_size,
                m.tie_word_embeddings,
                m.max_position_embeddings
            ),
        ),
        (
            "corpus",
            format!(
                "{} documents ({} used after the length filter, seed {}), Challenger share {}, word problems {} (Challenger {}), level weights {:?}, Solver answers without working {}",
                config.corpus.documents,
                record.documents.0,
                config.corpus.seed,
                config.corpus.challenger_fraction,
                config.corpus.word_problem_fraction,
                config.corpus.word_problem_share(Role::Challenger),
                config.corpus.level_weights,
                config.corpus.solver_direct_fraction
            ),
        ),
        (
            "loss tokens",
            format!("{:?}", config.loss_tokens).to_lowercase(),
        ),
        (
            "optimizer",
            format!(
                "AdamW lr {}, betas ({}, {}), eps {}, weight decay {}; warmup {} steps, cosine to {}×; global clip {}",
                config.optimizer.lr,
                config.optimizer.beta1,
                config.optimizer.beta2,
                config.optimizer.eps,
                config.optimizer.weight_decay,
                config.warmup_steps,
                config.min_lr_ratio,
                config.grad_clip
            ),
        ),
        (
            "steps × batch",
            format!("{} × {} documents", config.steps, config.batch_size),
        ),
        ("loss tokens seen", record.state.tokens_seen.to_string()),
        (
            "training time",
            format!("{:.1} min", record.state.elapsed_secs / 60.0),
        ),
    ];
    for (k, v) in rows {
        let _ = writeln!(s, "| {k} | {v} |");
    }
    let _ = writeln!(
        s,
        "\n## Loss curve (nats per token; validation on completion tokens)\n"
    );
    let _ = writeln!(
        s,
        "| step | train | validation | lr | minutes |\n|---:|---:|---:|---:|---:|"
    );
    for p in &record.state.history {
        let _ = writeln!(
            s,
            "| {} | {:.4} | {:.4} | {:.2e} | {:.1} |",
            p.step,
            p.train_loss,
            p.val_loss,
            p.lr,
            p.elapsed_secs / 60.0
        );
    }
    if let Some(report) = capability {
        capability_section(&mut s, report);
    }
    if let Some(diff) = transformers_max_diff {
        let _ = writeln!(
            s,
            "\n## Loads in transformers\n\n`AutoModelForCausalLM.from_pretrained` on this directory \
             gives the same logits as rzero-model for fixed ids: max |Δlogit| = {diff:.2e} \
             (`rzero-pretrain/tests/fixtures/tiny_model/check_transformers.py`).\n"
        );
    }
    s
}

fn capability_section(s: &mut String, report: &CapabilityReport) {
    let _ = writeln!(
        s,
        "\n## Capability profile\n\nGreedy decoding under the Solver prompt on the held-out set \
         (`rzero_data::synthetic::HeldOut`, seed {}), {} new tokens at most; maj@{} is the \
         majority answer of {} samples at temperature 1.0 (± one standard error):\n",
        rzero_data::synthetic::HELDOUT_SEED,
        report.config.max_new_tokens,
        report.config.maj_m,
        report.config.maj_m,
    );
    let _ = writeln!(
        s,
        "| level | items | well-formed `\\boxed{{}}` | greedy correct | maj@m correct |\n|---:|---:|---:|---:|---:|"
    );
    let pct = |p: f64, n: usize| {
        let se = (p * (1.0 - p) / n.max(1) as f64).sqrt();
        format!("{:.1} ± {:.1} %", 100.0 * p, 100.0 * se)
    };
    for l in &report.levels {
        let _ = writeln!(
            s,
            "| {} | {} | {:.0} % | {} | {} |",
            l.level,
            l.items,
            100.0 * l.boxed as f64 / l.items.max(1) as f64,
            pct(l.accuracy(), l.items),
            l.majority_accuracy()
                .map_or("–".into(), |m| pct(m, l.items)),
        );
    }
    let c = &report.challenger;
    let _ = writeln!(
        s,
        "\nChallenger prompt, temperature 1.0, {} samples (seed {}): {} pass the format gate, \
         {} of those the oracle can answer, {} carry the true answer in `\\boxed{{}}`; \
         answerable questions by level 1–6: {:?}.\n",
        c.samples, report.config.seed, c.well_formed, c.answerable, c.self_consistent, c.by_level
    );
    let _ = writeln!(s, "| target | measured | met |\n|---|---:|---|");
    for (name, value, ok) in report.targets() {
        let measured = if name.ends_with("(count)") {
            format!("{value}")
        } else {
            format!("{:.1} %", 100.0 * value)
        };
        let _ = writeln!(
            s,
            "| {name} | {measured} | {} |",
            if ok { "yes" } else { "**no**" }
        );
    }
}
