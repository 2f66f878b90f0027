//! The encode rows' jobs: each format's encoder, and the `memcpy` they are
//! measured against.

use std::hint::black_box;

use bareprom::Registry;

use super::timing::Job;

/// Encodes `registry` `n` times into one buffer, kept across samples so that
/// its growth is not timed.
pub(crate) fn encode_job(registry: &Registry) -> Job<'_> {
    let mut out = Vec::new();
    Box::new(move |n| {
        for _ in 0..n {
            out.clear();
            registry.encode(&mut out);
            black_box(&out);
        }
    })
}

/// As [`encode_job`], in `OpenMetrics` 1.0 text.
pub(crate) fn encode_openmetrics_job(registry: &Registry) -> Job<'_> {
    let mut out = Vec::new();
    Box::new(move |n| {
        for _ in 0..n {
            out.clear();
            registry.encode_openmetrics(&mut out);
            black_box(&out);
        }
    })
}

/// As [`encode_job`], in the protobuf exposition.
pub(crate) fn protobuf_job(registry: &Registry) -> Job<'_> {
    let mut out = Vec::new();
    Box::new(move |n| {
        for _ in 0..n {
            out.clear();
            registry.encode_protobuf(&mut out);
            black_box(&out);
        }
    })
}

/// Copies `src` `n` times into one buffer kept across samples: the `memcpy`
/// reference for the encode rows.
pub(crate) fn memcpy_job(src: &[u8]) -> Job<'_> {
    let mut out = Vec::new();
    Box::new(move |n| {
        for _ in 0..n {
            out.clear();
            out.extend_from_slice(black_box(src));
            black_box(&out);
        }
    })
}
