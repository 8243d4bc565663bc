//! Peak memory and time of one forward + backward of a decoder layer stack
//! (Qwen3-0.6B layer shapes: hidden 1024, 16 / 8 heads of 128, FFN 3072)
//! with and without layer recomputation. Run each mode in its own process,
//! since the peak (`VmHWM` of `/proc/self/status`, Linux) never goes down.
//!
//! Run with:
//! `cargo run -p rzero-model --example recompute_memory -- plain|recompute SEQ LAYERS`
#![expect(clippy::print_stdout, reason = "an example prints its result")]

use std::time::Instant;

use burn::prelude::*;
use rzero_model::Qwen3Config;

/// A `/proc/self/status` field in KiB (`VmHWM`, `VmRSS`).
fn status_kib(field: &str) -> Result<u64, Box<dyn std::error::Error>> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    let line = status
        .lines()
        .find(|l| l.starts_with(field))
        .ok_or_else(|| format!("no {field} in /proc/self/status"))?;
    let kib = line
        .split_whitespace()
        .nth(1)
        .ok_or_else(|| format!("bad line {line:?}"))?;
    Ok(kib.parse()?)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [mode, seq, layers] = args.as_slice() else {
        return Err("usage: recompute_memory plain|recompute SEQ LAYERS".into());
    };
    let (seq, layers): (usize, usize) = (seq.parse()?, layers.parse()?);
    let recompute = match mode.as_str() {
        "plain" => false,
        "recompute" => true,
        other => return Err(format!("mode must be plain or recompute, got {other}").into()),
    };
    let device = Device::flex().autodiff();
    // Same weights in both modes, so the printed gradient norms compare.
    device.seed(0);
    let mut model =
        Qwen3Config::new(1024, 1024, 3072, layers, 16, 8, 128, seq.max(1)).init(&device);
    model.set_recompute(if recompute { 0 } else { usize::MAX });
    let tokens: Vec<i64> = (0..seq as i64).map(|i| (i * 7) % 1024).collect();
    let tokens = Tensor::<2, Int>::from_data(TensorData::new(tokens, [1, seq]), &device);
    let positions = Tensor::<2, Int>::from_data(
        TensorData::new((0..seq as i64).collect::<Vec<_>>(), [1, seq]),
        &device,
    );
    // Parameters are initialised lazily: touch them all before measuring.
    let one = |t: i64| Tensor::<2, Int>::from_data(TensorData::new(vec![t], [1, 1]), &device);
    drop(model.hidden(one(1), one(0), None));
    let before = status_kib("VmRSS:")?;
    let start = Instant::now();
    let hidden = model.hidden(tokens, positions, None);
    let grads = hidden.sum().backward();
    let grad = model.layers[0].self_attn.q_proj.weight.val().grad(&grads);
    let norm: f32 = grad.ok_or("no gradient")?.abs().sum().into_scalar();
    let seconds = start.elapsed().as_secs_f64();
    let peak = status_kib("VmHWM:")?;
    println!(
        "{mode}: seq {seq}, layers {layers}: forward+backward {seconds:.2} s, peak RSS {:.0} MiB, \
         {:.0} MiB above the initialised model ({:.1} KiB per token per layer); |dWq| {norm:.4e}",
        peak as f64 / 1024.0,
        peak.saturating_sub(before) as f64 / 1024.0,
        peak.saturating_sub(before) as f64 / (seq * layers) as f64,
    );
    Ok(())
}
