//! [`on_pool`]: runs a stretch of model work on one of rayon's threads.
//!
//! Every CPU kernel splits its work over rayon's pool. Called from a thread
//! outside the pool (a program's main thread), each kernel hands its work
//! to the pool and sleeps until a worker wakes it, hundreds of times per
//! forward pass. Inside the pool, the calling worker runs one part itself
//! while the other workers steal the rest: the scoring forward and the
//! training step of the M workload ran 4–9 % faster on 2 cores.

/// `work()` on a rayon worker thread (directly when already on one).
///
/// The model's entry points ([`crate::completion_logprobs`],
/// [`crate::generate`]) call it themselves; wrap a training step's forward
/// and `backward()` in it too.
///
/// ```
/// let sum = rzero_model::pool::on_pool(|| (1..=4).sum::<u32>());
/// assert_eq!(sum, 10);
/// ```
pub fn on_pool<R: Send>(work: impl FnOnce() -> R + Send) -> R {
    if rayon::current_thread_index().is_some() {
        return work();
    }
    rayon::join(work, || ()).0
}

/// Stack of each rayon thread after [`use_main_sized_stacks`]: a main
/// thread's 8 MiB (rayon's own default is 2 MiB).
pub const STACK_BYTES: usize = 8 << 20;

/// Builds rayon's global pool with [`STACK_BYTES`] per thread, so that a
/// program's whole run can move to it with [`on_pool`]. Call it first
/// thing; `false` when the pool was already built (it keeps its stacks).
pub fn use_main_sized_stacks() -> bool {
    rayon::ThreadPoolBuilder::new()
        .stack_size(STACK_BYTES)
        .build_global()
        .is_ok()
}
