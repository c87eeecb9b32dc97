//! A global allocator that counts what one thread allocates while asked to.
//!
//! [`measure`] turns counting on for the calling thread, runs a closure and
//! returns what it allocated and freed. Other threads are never counted,
//! and when no thread is measuring every allocation pays one relaxed load
//! of a shared flag, so timings are not skewed by the counting.
//!
//! A `realloc` counts as one allocation of the new size plus a free of the
//! old one, so [`AllocStats::bytes`] is the gross number of bytes requested
//! and [`AllocStats::net`] what is still live afterwards.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};

/// What a measured closure allocated.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct AllocStats {
    /// Calls to `alloc`, `alloc_zeroed` and `realloc`.
    pub(crate) allocs: u64,
    /// Bytes requested by those calls (`realloc` counts its new size).
    pub(crate) bytes: u64,
    /// Bytes given back (`dealloc`, and the old size of a `realloc`).
    pub(crate) freed: u64,
}

impl AllocStats {
    /// Bytes still allocated when the closure returned (negative if it
    /// freed more than it allocated).
    pub(crate) fn net(&self) -> i64 {
        i64::try_from(self.bytes).unwrap_or(i64::MAX)
            - i64::try_from(self.freed).unwrap_or(i64::MAX)
    }
}

#[derive(Clone, Copy)]
struct State {
    on: bool,
    stats: AllocStats,
}

/// Threads currently measuring: while zero, the allocator does not touch
/// its thread-local state at all.
static MEASURING: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    // Const-initialised and without a destructor: reading it never
    // allocates, so the allocator may use it.
    static STATE: Cell<State> = const {
        Cell::new(State {
            on: false,
            stats: AllocStats { allocs: 0, bytes: 0, freed: 0 },
        })
    };
}

#[inline]
fn record(allocated: usize, freed: usize) {
    if MEASURING.load(Ordering::Relaxed) == 0 {
        return;
    }
    // `try_with` fails only while the thread's locals are being destroyed;
    // nothing is being measured then.
    let _ = STATE.try_with(|cell| {
        let mut state = cell.get();
        if state.on {
            if allocated > 0 {
                state.stats.allocs += 1;
                state.stats.bytes += allocated as u64;
            }
            state.stats.freed += freed as u64;
            cell.set(state);
        }
    });
}

/// Runs `f` and returns what the calling thread allocated meanwhile.
/// Not reentrant: `f` must not call `measure` itself.
pub(crate) fn measure<R>(f: impl FnOnce() -> R) -> (R, AllocStats) {
    STATE.with(|cell| {
        cell.set(State {
            on: true,
            stats: AllocStats::default(),
        });
    });
    MEASURING.fetch_add(1, Ordering::SeqCst);
    let result = f();
    MEASURING.fetch_sub(1, Ordering::SeqCst);
    let stats = STATE.with(|cell| {
        let state = cell.get();
        cell.set(State {
            on: false,
            stats: AllocStats::default(),
        });
        state.stats
    });
    (result, stats)
}

/// The system allocator, counting for [`measure`].
#[derive(Debug)]
pub(crate) struct Counting;

// SAFETY (of the impl as a whole): every method forwards to `System` with
// the caller's arguments unchanged, so `System` upholds the `GlobalAlloc`
// contract; the bookkeeping around it neither allocates nor unwinds.
#[expect(
    unsafe_code,
    reason = "a counting global allocator must implement the unsafe GlobalAlloc trait"
)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller guarantees `layout` has a non-zero size, which
        // is all `System.alloc` requires.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            record(layout.size(), 0);
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`: the caller guarantees a non-zero size.
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if !ptr.is_null() {
            record(layout.size(), 0);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller guarantees `ptr` was allocated by this
        // allocator (hence by `System`) with `layout`.
        unsafe { System.dealloc(ptr, layout) };
        record(0, layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller guarantees `ptr` came from this allocator (so
        // from `System`) with `layout`, and that `new_size` is non-zero and
        // does not overflow when rounded up to `layout.align()`.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            record(new_size, layout.size());
        }
        new
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hint::black_box;

    #[test]
    fn counts_alloc_realloc_and_free() {
        let ((), stats) = measure(|| {
            let mut v: Vec<u8> = Vec::with_capacity(1000);
            v.push(1);
            black_box(&v);
            v.reserve_exact(3000); // realloc to 3001
            black_box(&v);
            drop(v);
        });
        assert_eq!(stats.allocs, 2);
        assert_eq!(stats.bytes, 1000 + 3001);
        assert_eq!(stats.freed, 1000 + 3001);
        assert_eq!(stats.net(), 0);
    }

    #[test]
    fn counts_live_bytes() {
        let (b, stats) = measure(|| black_box(Box::new([0u64; 16])));
        assert_eq!(stats.allocs, 1);
        assert_eq!(stats.bytes, 128);
        assert_eq!(stats.net(), 128);
        drop(b);
    }

    #[test]
    fn ignores_other_threads_and_stops_after_measure() {
        let ((), stats) = measure(|| {
            std::thread::scope(|s| {
                // The spawn itself allocates on this thread; the thread's
                // own allocation must not be counted.
                s.spawn(|| black_box(vec![0u8; 1 << 20]));
            });
        });
        assert!(stats.bytes < 1 << 20, "counted another thread: {stats:?}");
        let ((), nothing) = measure(|| {});
        assert_eq!(nothing, AllocStats::default());
        // Outside `measure` nothing accumulates for the next measurement.
        black_box(vec![0u8; 100]);
        let ((), still_nothing) = measure(|| {});
        assert_eq!(still_nothing, AllocStats::default());
    }
}
