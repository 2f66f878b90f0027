//! A global allocator wrapper that counts heap usage.
//!
//! Why unsafe: implementing `GlobalAlloc` is the only way to observe every
//! heap allocation, and the trait and its methods are `unsafe` by definition.
//! This module is the only place in the crate that uses `unsafe`; each block
//! only forwards a call, unchanged, to the wrapped allocator.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};

use crate::registry::{Collect, Scrape};

// The counters are statics rather than fields so that any `CountingAlloc`
// value, such as the one registered with a registry, reads the counts of the
// one installed as the global allocator. Relaxed ordering suffices: each
// counter is independent, and a scrape only needs some recent value.
/// Bytes currently allocated and not yet freed.
static LIVE_BYTES: AtomicUsize = AtomicUsize::new(0);
/// Successful allocations (including reallocations) since the process started.
static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

/// A [`GlobalAlloc`] that forwards to another allocator and counts live heap
/// bytes and allocations, which it reports as a [`Collect`] implementation:
///
/// * `process_heap_bytes` (gauge): bytes allocated and not yet freed.
/// * `bareprom_allocations_total` (counter): allocations since start; a
///   `realloc` counts as one, as it is how `Vec` and `String` grow.
///
/// The counts are process-wide and cover only memory that goes through the
/// Rust global allocator; both stay at zero unless a `CountingAlloc` is the
/// `#[global_allocator]`.
///
/// # Example
///
/// ```
/// #[global_allocator]
/// static ALLOC: bareprom::CountingAlloc = bareprom::CountingAlloc::new(std::alloc::System);
///
/// fn main() -> Result<(), Box<dyn std::error::Error>> {
///     let registry = bareprom::Registry::new();
///     registry.register_collector("heap", bareprom::CountingAlloc::new(std::alloc::System))?;
///     let text = registry.render();
///     assert!(text.contains("bareprom_allocations_total "));
///     assert!(ALLOC.heap_bytes() > 0);
///     Ok(())
/// }
/// ```
#[derive(Debug, Default, Clone, Copy)]
pub struct CountingAlloc<A: GlobalAlloc = System> {
    inner: A,
}

impl<A: GlobalAlloc> CountingAlloc<A> {
    /// Wraps `inner`, usually [`System`].
    ///
    /// # Example
    ///
    /// ```
    /// #[global_allocator]
    /// static ALLOC: bareprom::CountingAlloc = bareprom::CountingAlloc::new(std::alloc::System);
    /// # fn main() {}
    /// ```
    pub const fn new(inner: A) -> Self {
        Self { inner }
    }

    /// Bytes currently allocated through the global allocator.
    ///
    /// # Example
    ///
    /// ```
    /// let alloc = bareprom::CountingAlloc::new(std::alloc::System);
    /// let _bytes: usize = alloc.heap_bytes();
    /// ```
    #[must_use]
    pub fn heap_bytes(&self) -> usize {
        LIVE_BYTES.load(Relaxed)
    }

    /// Allocations made through the global allocator since the process
    /// started.
    ///
    /// # Example
    ///
    /// ```
    /// let alloc = bareprom::CountingAlloc::new(std::alloc::System);
    /// let _count: u64 = alloc.allocations();
    /// ```
    #[must_use]
    pub fn allocations(&self) -> u64 {
        ALLOCATIONS.load(Relaxed)
    }
}

/// Records a successful allocation of `size` bytes.
fn record_alloc(size: usize) {
    LIVE_BYTES.fetch_add(size, Relaxed);
    ALLOCATIONS.fetch_add(1, Relaxed);
}

// SAFETY: every method forwards to `inner` with the caller's arguments
// unchanged, so this allocator upholds `GlobalAlloc`'s contract exactly when
// `inner` does; the counting touches only atomics and never allocates.
unsafe impl<A: GlobalAlloc> GlobalAlloc for CountingAlloc<A> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller guarantees `layout` has a non-zero size, as
        // `GlobalAlloc::alloc` requires; it is passed on unchanged.
        let ptr = unsafe { self.inner.alloc(layout) };
        if !ptr.is_null() {
            record_alloc(layout.size());
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as in `alloc`, the caller's non-zero-size layout is passed on.
        let ptr = unsafe { self.inner.alloc_zeroed(layout) };
        if !ptr.is_null() {
            record_alloc(layout.size());
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller guarantees `ptr` came from this allocator with
        // `layout`; every such pointer came from `inner` with the same layout.
        unsafe { self.inner.dealloc(ptr, layout) };
        LIVE_BYTES.fetch_sub(layout.size(), Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller guarantees `ptr` and `layout` came from this
        // allocator, hence from `inner`, and that `new_size` is valid for
        // `layout`'s alignment; all are passed on unchanged.
        let new_ptr = unsafe { self.inner.realloc(ptr, layout, new_size) };
        // On failure the old block is still allocated, so nothing changes.
        if !new_ptr.is_null() {
            LIVE_BYTES.fetch_sub(layout.size(), Relaxed);
            record_alloc(new_size);
        }
        new_ptr
    }
}

impl<A: GlobalAlloc + Send + Sync> Collect for CountingAlloc<A> {
    fn collect(&self, out: &mut Scrape<'_>) {
        // A count beyond `i64::MAX` cannot happen on real hardware; saturating
        // keeps the conversion total anyway.
        let live = i64::try_from(self.heap_bytes()).unwrap_or(i64::MAX);
        out.gauge(
            "process_heap_bytes",
            "Bytes of heap memory currently allocated through the Rust global allocator.",
            live,
        );
        out.counter(
            "bareprom_allocations_total",
            "Total number of heap allocations made through the Rust global allocator.",
            self.allocations(),
        );
    }
}
