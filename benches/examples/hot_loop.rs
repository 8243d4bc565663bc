//! Runs one benchmark workload in a loop, for `perf record`: criterion's own
//! profiling mode also samples the other groups' setup.
//!
//! `cargo run --release -p rzero-benches --example hot_loop -- train S 20`
//! (workloads: `train`, `forward`, `sample`; presets `S`, `M`; `gemm`
//! times the packed matmul alone on S's and M's projection shapes).
#![expect(clippy::print_stdout, reason = "an example reports its timing")]

use burn::optim::GradientsParams;
use burn::prelude::*;
use rzero_benches::token_rows;
use rzero_grpo::{AdamW, AdamWConfig};
use rzero_model::sampling::Sampling;
use rzero_model::{CompletionBatch, GenerateOptions, Qwen3Config, completion_logprobs, generate};

/// With `OFF_POOL` set, the loop runs on the main thread instead of a
/// rayon thread (`rzero_model::pool`), to measure the hand-offs.
fn main() {
    // First thing, as `rzero` itself does.
    rzero_model::allocator::keep_freed_memory();
    if std::env::var_os("OFF_POOL").is_some() {
        run();
    } else {
        rzero_model::pool::on_pool(run);
    }
}

fn run() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let work = args.first().map_or("train", String::as_str);
    let config = match args.get(1).map_or("S", String::as_str) {
        "M" => Qwen3Config::m(),
        _ => Qwen3Config::s(),
    };
    let iters: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(10);
    let device = Device::flex();
    let rows = token_rows(16, 128, config.vocab_size, 1);
    let prompts: Vec<Vec<u32>> = rows.iter().map(|r| r[..1].to_vec()).collect();
    let completions: Vec<Vec<u32>> = rows.iter().map(|r| r[1..].to_vec()).collect();
    let start = std::time::Instant::now();
    match work {
        "gemm" => return gemm_shapes(iters),
        "forward" => {
            let model = config.init(&device);
            let batch = CompletionBatch::new(&model, &prompts, &completions, &device).unwrap();
            for _ in 0..iters {
                completion_logprobs(&model, &batch)
                    .sum()
                    .into_scalar::<f32>();
            }
        }
        "sample" => {
            let model = config.init(&device);
            let prompts = token_rows(16, 16, config.vocab_size, 3);
            let options = GenerateOptions {
                max_new_tokens: 64,
                sampling: Sampling::Temperature { temperature: 1.0 },
                ..GenerateOptions::default()
            };
            for _ in 0..iters {
                generate(&model, &prompts, &options, None).unwrap();
            }
        }
        _ => {
            let ad = device.autodiff();
            let mut model = config.init(&ad);
            let batch = CompletionBatch::new(&model, &prompts, &completions, &ad).unwrap();
            let mut optim = AdamW::new(AdamWConfig {
                lr: 1e-4,
                ..AdamWConfig::r_zero()
            });
            for _ in 0..iters {
                let loss = completion_logprobs(&model, &batch).sum().neg() / 2032.0;
                let grads = GradientsParams::from_grads(loss.backward(), &model);
                model = match optim.step(model, grads, 1e-4, 1.0) {
                    Ok(m) => m,
                    Err(e) => panic!("AdamW step: {e}"),
                };
            }
        }
    }
    let per = start.elapsed().as_secs_f64() * 1e3 / iters as f64;
    println!("{work}: {per:.1} ms per iteration");
}

/// GFLOP/s of the packed matmul on S's and M's training-row projection
/// shapes, `a · b`, `a · bᵀ` (a backward's `dy · wᵀ`) and `aᵀ · b` (its
/// `xᵀ · dy`).
fn gemm_shapes(iters: usize) {
    use rzero_model::gemm::{MatRef, matmul};
    use rzero_model::small_matmul::kernel::Isa;
    for (m, k, n) in [
        (2048, 128, 384),
        (2048, 384, 128),
        (2048, 128, 128),
        (2048, 256, 256),
        (2048, 256, 768),
        (2048, 768, 256),
        (2048, 256, 2048),
        (256, 2048, 768),
        (768, 2048, 256),
    ] {
        let a: Vec<f32> = (0..m * k).map(|i| (i % 7) as f32 * 0.1).collect();
        let b: Vec<f32> = (0..k * n).map(|i| (i % 5) as f32 * 0.1).collect();
        let mut c = vec![0.0f32; m * n];
        let mut line = format!("{m}x{k}x{n}:");
        for (ta, tb) in [(false, false), (false, true), (true, false)] {
            let start = std::time::Instant::now();
            for _ in 0..iters {
                let a = if ta {
                    MatRef::row_major(&a, k, m).t()
                } else {
                    MatRef::row_major(&a, m, k)
                };
                let b = if tb {
                    MatRef::row_major(&b, n, k).t()
                } else {
                    MatRef::row_major(&b, k, n)
                };
                matmul(Isa::detect(), a, b, &mut c);
            }
            let per = start.elapsed().as_secs_f64() / iters as f64;
            let gflops = 2.0 * (m * k * n) as f64 / per / 1e9;
            let name = ["ab", "abT", "aTb"][usize::from(tb) + 2 * usize::from(ta)];
            line += &format!("  {name} {gflops:.0} GFLOP/s");
        }
        println!("{line}");
    }
}
