//! Batched generation with a KV cache: [`generate`].
//!
//! Prompts of different lengths share one batch: each length is prefilled
//! on its own, the cache is left-padded, the padding keys are masked, and
//! each row's RoPE positions start at 0 after its padding, so every row
//! computes what it would alone, to the bit (the matmul and attention
//! kernels compute a row the same way whatever the batch's size). The prompts are
//! prefilled once and the cache is replicated for the `n` samples of each
//! prompt. Each sample owns a [`Sampler`] seeded from
//! `(seed, prompt index, sample index)`, or with [`generate_seeded`] from
//! `(prompt seed, sample index)` only, so a prompt draws the same tokens
//! whichever batch (or server) it lands in. A row stops at an EOS id, a stop string or
//! `max_new_tokens`; finished rows leave the batch.
//!
//! The log-prob of each chosen token is `log softmax(logits)[token]` at
//! temperature 1, whatever the sampling rule: the quantity GRPO compares
//! against [`completion_logprobs`](crate::completion_logprobs).

mod head;
mod rows;

use burn::prelude::*;
use serde::Serialize;

use crate::error::{ModelError, Result};
use crate::logprobs::check_tokens;
use crate::model::{KvCache, Qwen3};
use crate::sampling::{Sampler, Sampling, sample_seed};
pub use head::DecodeHead;
use rows::Row;

/// Turns generated ids into text (for stop strings and [`Completion::text`]).
///
/// Implemented for closures `Fn(&[u32]) -> Result<String>` and for the
/// crate's tokenizer (special tokens skipped).
pub trait TextDecoder: Sync {
    /// The text of `ids`.
    fn decode_text(&self, ids: &[u32]) -> Result<String>;
}

impl<F: Fn(&[u32]) -> Result<String> + Sync> TextDecoder for F {
    fn decode_text(&self, ids: &[u32]) -> Result<String> {
        self(ids)
    }
}

impl TextDecoder for crate::tokenizer::Tokenizer {
    fn decode_text(&self, ids: &[u32]) -> Result<String> {
        self.decode(ids, true)
    }
}

/// What [`generate`] does.
#[derive(Debug, Clone, PartialEq)]
pub struct GenerateOptions {
    /// Most tokens generated per sample.
    pub max_new_tokens: usize,
    /// Samples per prompt (`n`), sharing one prefill.
    pub samples_per_prompt: usize,
    /// How the next token is chosen.
    pub sampling: Sampling,
    /// Seed of every sample's RNG (mixed with prompt and sample index).
    pub seed: u64,
    /// Ids that end a sample (kept as its last token).
    pub eos_token_ids: Vec<u32>,
    /// Strings that end a sample (the text stops before them); needs a decoder.
    pub stop_strings: Vec<String>,
}

impl Default for GenerateOptions {
    fn default() -> Self {
        Self {
            max_new_tokens: 64,
            samples_per_prompt: 1,
            sampling: Sampling::Greedy,
            seed: 0,
            eos_token_ids: Vec::new(),
            stop_strings: Vec::new(),
        }
    }
}

/// Why a sample stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FinishReason {
    /// It produced an EOS id.
    Eos,
    /// Its text contains a stop string.
    StopString,
    /// It reached `max_new_tokens` or `max_position_embeddings`.
    Length,
}

/// One generated sample.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Completion {
    /// Index of its prompt.
    pub prompt_index: usize,
    /// Index among the samples of that prompt.
    pub sample_index: usize,
    /// Generated ids (an EOS id that stopped it included).
    pub token_ids: Vec<u32>,
    /// Decoded text (special tokens skipped, cut before a stop string), if a
    /// decoder was given.
    pub text: Option<String>,
    /// `log p(token)` at temperature 1, one per generated id.
    pub logprobs: Vec<f32>,
    /// Why it stopped.
    pub finish_reason: FinishReason,
}

/// Generates `samples_per_prompt` completions for every prompt, prompt-major
/// (all samples of prompt 0, then prompt 1, …).
///
/// Runs on the model's device; a model on an autodiff device is first copied
/// off it (`valid()`), since inference there is several times slower, and
/// LoRA adapters are merged into a copy ([`crate::lora::merge_lora`]) rather
/// than recomposed at every decoding step.
pub fn generate<P: AsRef<[u32]> + Sync>(
    model: &Qwen3,
    prompts: &[P],
    options: &GenerateOptions,
    decoder: Option<&dyn TextDecoder>,
) -> Result<Vec<Completion>> {
    let seed_of = |p: usize, s: usize| sample_seed(options.seed, 0, p as u64, s as u64);
    generate_rows(model, prompts, options, decoder, &seed_of)
}

/// [`generate`] with one seed per prompt (`options.seed` is unused): sample
/// `s` of prompt `p` draws from `sample_seed(prompt_seeds[p], 0, 0, s)`, the
/// stream that [`generate`] gives a lone prompt with `seed = prompt_seeds[p]`.
/// Batching prompts together (locally or on a server) then changes no RNG
/// stream.
pub fn generate_seeded<P: AsRef<[u32]> + Sync>(
    model: &Qwen3,
    prompts: &[P],
    prompt_seeds: &[u64],
    options: &GenerateOptions,
    decoder: Option<&dyn TextDecoder>,
) -> Result<Vec<Completion>> {
    generate_seeded_from(model, prompts, prompt_seeds, 0, options, decoder)
}

/// [`generate_seeded`] for samples `first_sample..first_sample + n` of each
/// prompt (`n = options.samples_per_prompt`): the same RNG streams and
/// `sample_index` as those samples of one larger call, so one prompt's
/// samples can be split over calls of fewer rows (a smaller KV cache).
pub fn generate_seeded_from<P: AsRef<[u32]> + Sync>(
    model: &Qwen3,
    prompts: &[P],
    prompt_seeds: &[u64],
    first_sample: usize,
    options: &GenerateOptions,
    decoder: Option<&dyn TextDecoder>,
) -> Result<Vec<Completion>> {
    if prompt_seeds.len() != prompts.len() {
        return Err(ModelError::BadRequest {
            reason: format!(
                "{} prompt seeds for {} prompts",
                prompt_seeds.len(),
                prompts.len()
            ),
        });
    }
    let seed_of =
        |p: usize, s: usize| sample_seed(prompt_seeds[p], 0, 0, (first_sample + s) as u64);
    let mut out = generate_rows(model, prompts, options, decoder, &seed_of)?;
    for c in &mut out {
        c.sample_index += first_sample;
    }
    Ok(out)
}

/// The sample seed of (prompt, sample).
type SeedOf<'a> = &'a (dyn Fn(usize, usize) -> u64 + Sync);

fn generate_rows<P: AsRef<[u32]> + Sync>(
    model: &Qwen3,
    prompts: &[P],
    options: &GenerateOptions,
    decoder: Option<&dyn TextDecoder>,
    seed_of: SeedOf<'_>,
) -> Result<Vec<Completion>> {
    crate::pool::on_pool(|| generate_on_pool(model, prompts, options, decoder, seed_of))
}

fn generate_on_pool<P: AsRef<[u32]> + Sync>(
    model: &Qwen3,
    prompts: &[P],
    options: &GenerateOptions,
    decoder: Option<&dyn TextDecoder>,
    seed_of: SeedOf<'_>,
) -> Result<Vec<Completion>> {
    validate(model, prompts, options, decoder.is_some())?;
    let device = model.embed_tokens.weight.device();
    let plain;
    let model = if device.is_autodiff() || crate::lora::has_lora(model) {
        plain = crate::lora::merge_lora(model.valid());
        &plain
    } else {
        model
    };
    if prompts.len() < 2 || !decode_in_halves(model, prompts.len() * options.samples_per_prompt) {
        return decode_batch(model, prompts, options, decoder, seed_of);
    }
    // Every row draws its own stream and is computed alone, so the halves'
    // completions are those of one batch.
    let mid = prompts.len() / 2;
    let late_seed = |p: usize, s: usize| seed_of(mid + p, s);
    let (early, late) = rayon::join(
        || decode_batch(model, &prompts[..mid], options, decoder, seed_of),
        || decode_batch(model, &prompts[mid..], options, decoder, &late_seed),
    );
    let mut out = early?;
    out.extend(late?.into_iter().map(|mut c| {
        c.prompt_index += mid;
        c
    }));
    Ok(out)
}

/// Whether `rows` rows decode faster as two batches on two threads than as
/// one: on flex, when a half's decode-step layer products are too small for
/// the kernels to split them over threads themselves (waking a worker per
/// op costs more than the op); a bigger model splits inside each op instead.
fn decode_in_halves(model: &Qwen3, rows: usize) -> bool {
    let device = model.embed_tokens.weight.device();
    let [_, hidden] = model.embed_tokens.weight.dims();
    let widest = model
        .layers
        .first()
        .map_or(0, |l| l.mlp.gate_proj.weight.dims()[1])
        .max(hidden);
    rayon::current_num_threads() > 1
        && crate::small_matmul::uses_small_kernel(&device)
        && rows.div_ceil(2) * hidden * widest < crate::small_matmul::kernel::PARALLEL_MIN_WORK
}

/// One batch: prefill, then decode steps until every row is done.
fn decode_batch<P: AsRef<[u32]>>(
    model: &Qwen3,
    prompts: &[P],
    options: &GenerateOptions,
    decoder: Option<&dyn TextDecoder>,
    seed_of: SeedOf<'_>,
) -> Result<Vec<Completion>> {
    let device = model.embed_tokens.weight.device();
    let n = options.samples_per_prompt;
    let mut rows: Vec<Row> = (0..prompts.len() * n)
        .map(|r| {
            let (p, s) = (r / n, r % n);
            Row::new(
                p,
                s,
                prompts[p].as_ref().len(),
                Sampler::new(options.sampling, seed_of(p, s)),
            )
        })
        .collect();
    if options.max_new_tokens == 0 {
        return Ok(rows
            .into_iter()
            .map(|r| r.finish(FinishReason::Length, None))
            .collect());
    }
    let head = DecodeHead::new(model);
    let (mut cache, mut last) = prefill(model, &head, prompts, options, &device);
    if n > 1 {
        let idx: Vec<i64> = (0..rows.len()).map(|r| (r / n) as i64).collect();
        let idx = Tensor::<1, Int>::from_data(TensorData::new(idx, [rows.len()]), &device);
        cache = cache.select_rows(idx.clone());
        last = last.select(0, idx);
    }
    let mut active: Vec<usize> = (0..rows.len()).collect();
    let vocab = model.vocab_size();
    let hidden_size = model.embed_tokens.weight.dims()[1];
    let max_len = model.max_position_embeddings();
    loop {
        let logits = host_logits(last)?;
        let mut keep = Vec::with_capacity(active.len());
        for (slot, &r) in active.iter().enumerate() {
            let row_logits = &logits[slot * vocab..(slot + 1) * vocab];
            rows[r].step(row_logits, options, decoder, max_len)?;
            if rows[r].finished.is_none() {
                keep.push(slot);
            }
        }
        if keep.is_empty() {
            break;
        }
        if keep.len() < active.len() {
            let idx: Vec<i64> = keep.iter().map(|&s| s as i64).collect();
            cache = cache.select_rows(Tensor::from_data(
                TensorData::new(idx, [keep.len()]),
                &device,
            ));
            active = keep.iter().map(|&s| active[s]).collect();
        }
        let (tokens, positions): (Vec<i64>, Vec<i64>) =
            active.iter().map(|&r| rows[r].next_input()).unzip();
        let a = active.len();
        let tokens = Tensor::<2, Int>::from_data(TensorData::new(tokens, [a, 1]), &device);
        let positions = Tensor::<2, Int>::from_data(TensorData::new(positions, [a, 1]), &device);
        let hidden = model.hidden(tokens, positions, Some(&mut cache));
        last = head.logits(model, hidden.reshape([a, hidden_size]));
    }
    rows.into_iter()
        .map(|r| r.into_completion(decoder))
        .collect()
}

/// Runs the prompts once; returns the cache (left-padded to the longest
/// prompt, with room for the new tokens up to the model's context) and the
/// logits of each prompt's last position, `[prompts, vocab]`.
///
/// Prompts of one length run together without padding, so a row's keys
/// and logits are the same bits whatever other prompts share its batch
/// (a server batches requests as they arrive).
///
/// The first step of [`generate`], public so that `rzero plan --measure`
/// runs the same code as a run.
pub fn prefill<P: AsRef<[u32]>>(
    model: &Qwen3,
    head: &DecodeHead,
    prompts: &[P],
    options: &GenerateOptions,
    device: &Device,
) -> (KvCache, Tensor<2>) {
    let lens: Vec<usize> = prompts.iter().map(|p| p.as_ref().len()).collect();
    let len = lens.iter().copied().max().unwrap_or(1);
    let shortest = lens.iter().copied().min().unwrap_or(len);
    // No row outlives the context: reserving past it would be unused memory.
    let room = model.max_position_embeddings().saturating_sub(shortest);
    let reserve = options.max_new_tokens.min(room);
    let mut groups: std::collections::BTreeMap<usize, Vec<usize>> = Default::default();
    for (i, &n) in lens.iter().enumerate() {
        groups.entry(n).or_default().push(i);
    }
    if groups.len() <= 1 {
        return prefill_unpadded(model, head, prompts, reserve, device);
    }
    let (mut parts, mut lasts, mut order) = (Vec::new(), Vec::new(), Vec::new());
    for members in groups.into_values() {
        let group: Vec<&[u32]> = members.iter().map(|&i| prompts[i].as_ref()).collect();
        let (cache, last) = prefill_unpadded(model, head, &group, 0, device);
        lasts.push(last);
        order.extend(members.iter().map(|&i| i as i64));
        parts.push((cache, members));
    }
    let b = prompts.len();
    let padding: Vec<bool> = lens
        .iter()
        .flat_map(|&n| (0..len).map(move |j| j < len - n))
        .collect();
    let mask = Tensor::<2, Bool>::from_data(TensorData::new(padding, [b, len]), device);
    let cache = KvCache::left_padded(parts, b, len, reserve).with_key_padding(mask);
    // `order[j]` is the prompt of row `j` of the concatenated logits.
    let mut inverse = vec![0i64; b];
    for (j, &i) in order.iter().enumerate() {
        inverse[i as usize] = j as i64;
    }
    let inverse = Tensor::<1, Int>::from_data(TensorData::new(inverse, [b]), device);
    (cache, Tensor::cat(lasts, 0).select(0, inverse))
}

/// [`prefill`] of prompts of one length.
fn prefill_unpadded<P: AsRef<[u32]>>(
    model: &Qwen3,
    head: &DecodeHead,
    prompts: &[P],
    reserve: usize,
    device: &Device,
) -> (KvCache, Tensor<2>) {
    let b = prompts.len();
    let len = prompts.first().map_or(1, |p| p.as_ref().len());
    let tokens: Vec<i64> = prompts
        .iter()
        .flat_map(|p| p.as_ref().iter().map(|&t| i64::from(t)))
        .collect();
    let positions: Vec<i64> = (0..b).flat_map(|_| 0..len as i64).collect();
    let int2 = |v: Vec<i64>| Tensor::<2, Int>::from_data(TensorData::new(v, [b, len]), device);
    let mut cache = model.new_cache().reserve(reserve);
    let hidden = model.hidden(int2(tokens), int2(positions), Some(&mut cache));
    let [_, _, hidden_size] = hidden.dims();
    let last = head.logits(
        model,
        hidden.narrow(1, len - 1, 1).reshape([b, hidden_size]),
    );
    (cache, last)
}

fn host_logits(logits: Tensor<2>) -> Result<Vec<f32>> {
    logits
        .into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .map_err(|e| ModelError::BadRequest {
            reason: format!("reading logits back: {e:?}"),
        })
}

fn validate<P: AsRef<[u32]>>(
    model: &Qwen3,
    prompts: &[P],
    options: &GenerateOptions,
    has_decoder: bool,
) -> Result<()> {
    let bad = |reason: &str| {
        Err(ModelError::BadRequest {
            reason: reason.to_string(),
        })
    };
    if prompts.is_empty() {
        return bad("no prompts");
    }
    if options.samples_per_prompt == 0 {
        return bad("samples_per_prompt (n) must be at least 1");
    }
    if !options.stop_strings.is_empty() && !has_decoder {
        return bad("stop strings need a tokenizer to decode the text");
    }
    for (index, p) in prompts.iter().enumerate() {
        if p.as_ref().is_empty() {
            return Err(ModelError::EmptyPrompt { index });
        }
        check_tokens(model, index, p.as_ref())?;
    }
    Ok(())
}
