//! `allocator::release_freed_memory` gives freed heap pages back: its own
//! test binary, so no other test allocates while the resident set is read.

use rzero_model::allocator::{keep_freed_memory, release_freed_memory};

/// The process's resident set, bytes (`VmRSS` of `/proc/self/status`).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let kb = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .expect("a VmRSS line");
    kb << 10
}

/// Blocks under the mmap threshold freed between kept ones (what a model's
/// matrices leave behind when they are converted to BF16 one by one) stay
/// resident until released.
#[test]
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn freed_blocks_between_kept_ones_leave_the_resident_set_once_released() {
    assert!(keep_freed_memory());
    const BLOCK: usize = 4 << 20; // f32 elements: 16 MiB, under the threshold
    let mut blocks: Vec<Vec<f32>> = (0..24).map(|i| vec![i as f32 + 1.0; BLOCK]).collect();
    let freed: u64 = 12 * (BLOCK as u64) * 4;
    // Keep every odd block, so the freed ones sit inside the heap.
    let mut kept = Vec::new();
    for (i, b) in blocks.drain(..).enumerate() {
        if i % 2 == 1 {
            kept.push(b);
        }
    }
    let before = rss();
    assert!(release_freed_memory());
    let after = rss();
    assert!(
        before.saturating_sub(after) > freed / 2,
        "{before} -> {after} bytes resident; {freed} were freed"
    );
    // The kept blocks are untouched.
    assert!(
        kept.iter()
            .enumerate()
            .all(|(i, b)| b[BLOCK - 1] == (2 * i + 2) as f32)
    );
}
