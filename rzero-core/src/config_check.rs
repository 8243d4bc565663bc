//! Range checks for [`RunConfig`]; each message starts with the key.

use crate::config::{RunConfig, SamplingConfig};

fn positive(key: &str, v: usize) -> Result<(), String> {
    if v == 0 {
        return Err(format!("`{key}` must be at least 1"));
    }
    Ok(())
}

fn unit(key: &str, v: f64) -> Result<(), String> {
    if !(0.0..=1.0).contains(&v) {
        return Err(format!("`{key}` must be in [0, 1], got {v}"));
    }
    Ok(())
}

fn sampling(key: &str, s: &SamplingConfig) -> Result<(), String> {
    if !(s.temperature >= 0.0 && s.temperature.is_finite()) {
        return Err(format!("`{key}.temperature` must be ≥ 0"));
    }
    if !(s.top_p > 0.0 && s.top_p <= 1.0) {
        return Err(format!("`{key}.top_p` must be in (0, 1]"));
    }
    if s.top_k == 0 || s.top_k < -1 {
        return Err(format!("`{key}.top_k` must be -1 (off) or ≥ 1"));
    }
    positive(&format!("{key}.max_new_tokens"), s.max_new_tokens)
}

fn divides(key: &str, whole: usize, part: usize) -> Result<(), String> {
    if part == 0 || !whole.is_multiple_of(part) {
        return Err(format!("`{key}` ({part}) must divide {whole}"));
    }
    Ok(())
}

/// Validates every field that has a range.
pub fn validate(c: &RunConfig) -> Result<(), String> {
    positive("iterations", c.iterations)?;
    let g = &c.grpo;
    positive("grpo.micro_batch_rows", g.micro_batch_rows)?;
    positive("memory.sampling_rows", c.memory.sampling_rows)?;
    positive("memory.score_rows", c.memory.score_rows)?;
    positive("memory.logprob_chunk", c.memory.logprob_chunk)?;
    if let Some(lora) = &g.lora {
        positive("grpo.lora.rank", lora.rank)?;
        let alpha = lora.alpha();
        if !(alpha.is_finite() && alpha > 0.0) {
            return Err(format!(
                "`grpo.lora.alpha` must be finite and > 0, got {alpha}"
            ));
        }
        if lora.targets.is_empty() {
            return Err(format!(
                "`grpo.lora.targets` must name at least one of {}",
                rzero_grpo::LORA_TARGET_NAMES.join(", ")
            ));
        }
    }
    let phases = [
        (
            "challenger",
            c.challenger.group_size,
            c.challenger.global_batch,
        ),
        ("solver", c.solver.group_size, c.solver.global_batch),
    ];
    for (phase, group, batch) in phases {
        g.for_phase(group.max(1), batch.max(1))
            .validate()
            .map_err(|e| format!("`grpo` (as used by the {phase} phase): {e}"))?;
    }
    let ch = &c.challenger;
    positive("challenger.rollout_steps", ch.rollout_steps)?;
    positive("challenger.group_size", ch.group_size)?;
    positive("challenger.m_reward", ch.m_reward)?;
    divides(
        "challenger.global_batch",
        ch.prompts_per_step,
        ch.global_batch,
    )?;
    sampling("challenger.sampling", &ch.sampling)?;
    sampling("challenger.reward_sampling", &ch.reward_sampling)?;
    unit("challenger.cluster_threshold", ch.cluster_threshold)?;
    let q = &c.question_set;
    positive("question_set.n", q.n)?;
    positive("question_set.m_label", q.m_label)?;
    sampling("question_set.sampling", &q.sampling)?;
    sampling("question_set.label_sampling", &q.label_sampling)?;
    q.filter
        .band
        .validate()
        .map_err(|e| format!("`question_set.filter.band`: {e}"))?;
    let s = &c.solver;
    positive("solver.rollout_steps", s.rollout_steps)?;
    positive("solver.group_size", s.group_size)?;
    divides("solver.global_batch", s.prompts_per_step, s.global_batch)?;
    sampling("solver.sampling", &s.sampling)?;
    positive("eval.max_new_tokens", c.eval.max_new_tokens)?;
    c.inference.validate()
}
