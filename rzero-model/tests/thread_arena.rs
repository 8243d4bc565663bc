//! `allocator::keep_freed_memory` keeps memory freed on a worker thread
//! mapped: its own test binary, as it sets malloc's parameters for the
//! whole process.

/// Minor page faults of the calling thread so far.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn thread_faults() -> i64 {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: `getrusage` fills the struct it is given.
    #[expect(unsafe_code, reason = "reading this thread's resource usage")]
    let usage = unsafe {
        assert_eq!(libc::getrusage(libc::RUSAGE_THREAD, usage.as_mut_ptr()), 0);
        usage.assume_init()
    };
    usage.ru_minflt
}

/// Allocates and touches `blocks` blocks of `len` floats, frees them, and
/// returns the page faults that took.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn faults_to_fill(blocks: usize, len: usize) -> i64 {
    let before = thread_faults();
    let filled: Vec<Vec<f32>> = (0..blocks).map(|i| vec![i as f32 + 1.0; len]).collect();
    assert!(filled.iter().all(|b| b[len - 1] > 0.0));
    drop(filled);
    thread_faults() - before
}

/// A worker thread's second round of the same allocations finds its
/// memory still mapped. Without the top pad, glibc unmapped the thread's
/// emptied 64 MiB heap and the round faulted its pages in again.
#[test]
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn memory_freed_on_a_worker_thread_is_reused_without_faults() {
    assert!(rzero_model::allocator::keep_freed_memory());
    const LEN: usize = 1 << 20; // 4 MiB blocks, as a layer's activations
    const BLOCKS: usize = 24; // 96 MiB: more than one 64 MiB thread heap
    let (first, second) =
        std::thread::spawn(|| (faults_to_fill(BLOCKS, LEN), faults_to_fill(BLOCKS, LEN)))
            .join()
            .expect("the worker thread");
    // Relative to the first round, not to a page count: with transparent
    // huge pages one fault maps 2 MiB.
    assert!(first > 0, "the first round faulted no pages in");
    assert!(
        second <= first / 20,
        "the second round faulted {second} times again (the first: {first})"
    );
}
