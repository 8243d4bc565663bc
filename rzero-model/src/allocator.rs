//! Keeping freed memory in the process.
//!
//! A tensor op allocates its output afresh, so a training step allocates
//! and frees the same few sizes over and over. glibc's malloc gives freed
//! memory at the top of a heap back to the OS (and blocks over its
//! adaptive threshold come from `mmap`), so the next allocation of that
//! size is page-faulted in and zeroed by the kernel again: measured on 2
//! cores, 180,000 page faults in 8 train steps of preset S, and 13–17 % of
//! a step's time. [`keep_freed_memory`] raises both thresholds; with it the
//! same steps take 26,000 faults.
//!
//! It also keeps the heaps of other threads. Model work runs on rayon's
//! threads ([`crate::pool`]), and a thread's own malloc arena is a chain
//! of 64 MiB heaps that glibc unmaps as soon as one empties, whatever the
//! trim threshold: a training step of preset M re-faulted 60 MiB this way
//! (15,000 faults, 2–4 % of the step). glibc keeps a heap whose emptying
//! leaves less than its top pad, so [`TOP_PAD`] is a whole heap. (Serving
//! every thread from the main arena instead made decoding, which allocates
//! small blocks on two threads at once, 50 % slower on preset S.)
//!
//! ```
//! // At the start of `main`, before other threads allocate.
//! rzero_model::allocator::keep_freed_memory();
//! ```

/// Freed memory at a heap's top that malloc keeps instead of returning.
pub const TRIM_THRESHOLD: usize = 256 << 20;

/// Blocks at least this large come from `mmap` (and go back on free).
pub const MMAP_THRESHOLD: usize = 32 << 20;

/// Extra memory malloc asks for whenever a heap grows, and so the least
/// it keeps when one empties: the 64 MiB of a thread's heap. Asked for,
/// not touched: the resident set does not grow by it.
pub const TOP_PAD: usize = 64 << 20;

/// Tells glibc's malloc to keep up to [`TRIM_THRESHOLD`] bytes of freed
/// heap memory for reuse, to serve blocks under [`MMAP_THRESHOLD`] from
/// the heap, and to keep emptied thread heaps ([`TOP_PAD`]). Returns
/// whether it took effect: `false` on other C libraries (where it does
/// nothing).
///
/// Meant for binaries: call it once, early. A process may hold up to
/// [`TRIM_THRESHOLD`] bytes per malloc arena more than it uses.
pub fn keep_freed_memory() -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let (Ok(trim), Ok(mmap), Ok(pad)) = (
            libc::c_int::try_from(TRIM_THRESHOLD),
            libc::c_int::try_from(MMAP_THRESHOLD),
            libc::c_int::try_from(TOP_PAD),
        ) else {
            return false;
        };
        // SAFETY: `mallopt` only sets malloc's parameters; both values are
        // in the ranges glibc accepts.
        #[expect(unsafe_code, reason = "setting glibc malloc parameters")]
        let ok = unsafe {
            libc::mallopt(libc::M_TRIM_THRESHOLD, trim) == 1
                && libc::mallopt(libc::M_MMAP_THRESHOLD, mmap) == 1
                && libc::mallopt(libc::M_TOP_PAD, pad) == 1
        };
        ok
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        false
    }
}

/// Gives the free memory inside malloc's heaps back to the OS
/// (`malloc_trim(0)`), keeping it mapped for reuse. Call it after a large
/// one-off release of small blocks, such as converting a model's matrices to
/// BF16: [`keep_freed_memory`] serves blocks under [`MMAP_THRESHOLD`] from
/// the heap, so the f32 originals' pages would otherwise stay resident
/// (measured: 0.5 GiB per converted Qwen3-0.6B copy). Returns whether
/// memory was released; `false` on other C libraries.
pub fn release_freed_memory() -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: `malloc_trim` only returns free pages to the kernel.
        #[expect(unsafe_code, reason = "calling glibc's malloc_trim")]
        let released = unsafe { libc::malloc_trim(0) } == 1;
        released
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        false
    }
}

#[cfg(test)]
mod tests {
    #[test]
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    fn glibc_accepts_the_thresholds() {
        assert!(super::keep_freed_memory());
    }
}
