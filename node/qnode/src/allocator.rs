//! The node's allocator and its settings. The block benches (`node/chain/benches/block.rs`)
//! include this file, so they measure with exactly what `qnode` runs with.

/// mimalloc: fewer cycles in allocation-heavy block building and committing than glibc malloc.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// How long memory freed by the allocator stays mapped before it goes back to the OS
/// (mimalloc's default is 1 s). A busy node frees a block's worth of arenas and tries every
/// flush and reuses it within seconds; returned memory comes back through page faults that
/// zero every page (≈30 % fewer page faults and ≈6 % less CPU per block at 10 s,
/// `docs/benchmarks.md` §1.1). `MIMALLOC_PURGE_DELAY` in the environment still wins.
const ALLOCATOR_PURGE_DELAY_MS: std::ffi::c_long = 10_000;

/// `mi_option_purge_delay` in mimalloc 3's `mimalloc.h` (libmimalloc-sys names no constant
/// for it).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Applies the settings above; call first thing in `main`.
pub(crate) fn tune() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: sets one of mimalloc's global options; it may be called at any time.
        unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, ALLOCATOR_PURGE_DELAY_MS) };
    }
}
