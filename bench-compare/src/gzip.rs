//! gzip of bareprom's 10k-series exposition: `bareprom::gzip` against
//! `flate2`'s `GzEncoder` (its default backend, miniz_oxide) at its default
//! level (6) and at its fastest (1), on the same bytes, interleaved in
//! every round like the rest of the table. The ratios the issue targets are
//! size ≤ 1.15 × and throughput ≥ 2 × flate2's default level.

use std::hint::black_box;
use std::io::Write as _;

use flate2::Compression;
use flate2::write::GzEncoder;

use super::timing::{Timed, median, run_rounds};

/// The rows of the gzip table: one compressor each.
const COMPRESSORS: [&str; 3] = ["bareprom::gzip", "flate2 default (6)", "flate2 fast (1)"];

fn flate2(text: &[u8], level: Compression, out: Vec<u8>) -> Vec<u8> {
    let mut encoder = GzEncoder::new(out, level);
    encoder.write_all(text).expect("writes to a Vec");
    encoder.finish().expect("writes to a Vec")
}

/// Times the three compressors on `text` and prints their table.
pub fn compare(text: &[u8], rounds: usize) {
    let sizes = {
        let mut ours = Vec::new();
        bareprom::gzip(text, &mut ours);
        [
            ours.len(),
            flate2(text, Compression::default(), Vec::new()).len(),
            flate2(text, Compression::fast(), Vec::new()).len(),
        ]
    };
    let mut jobs: Vec<Option<Timed<'_>>> = vec![
        Some(Timed::new(
            COMPRESSORS[0],
            Box::new({
                let mut out = Vec::new();
                move |n| {
                    for _ in 0..n {
                        out.clear();
                        bareprom::gzip(black_box(text), &mut out);
                        black_box(&out);
                    }
                }
            }),
        )),
        Some(Timed::new(
            COMPRESSORS[1],
            Box::new({
                let mut out = Some(Vec::new());
                move |n| {
                    for _ in 0..n {
                        let mut buf = out.take().unwrap_or_default();
                        buf.clear();
                        out = Some(black_box(flate2(black_box(text), Compression::default(), buf)));
                    }
                }
            }),
        )),
        Some(Timed::new(
            COMPRESSORS[2],
            Box::new({
                let mut out = Some(Vec::new());
                move |n| {
                    for _ in 0..n {
                        let mut buf = out.take().unwrap_or_default();
                        buf.clear();
                        out = Some(black_box(flate2(black_box(text), Compression::fast(), buf)));
                    }
                }
            }),
        )),
    ];
    run_rounds(std::slice::from_mut(&mut jobs), rounds, |jobs| jobs.as_mut_slice());
    let medians: Vec<f64> = jobs.iter().flatten().map(|t| median(&t.samples)).collect();
    println!();
    println!(
        "gzip of bareprom's 10k-series exposition ({} KB): medians of {rounds} interleaved rounds; ratios to flate2's default level",
        text.len() / 1000
    );
    println!();
    println!("| compressor | size | size ratio | time | throughput | throughput ratio |");
    println!("|---|---:|---:|---:|---:|---:|");
    for ((name, &ns), &size) in COMPRESSORS.iter().zip(&medians).zip(&sizes) {
        let rate = text.len() as f64 / ns * 1e3;
        let default_rate = text.len() as f64 / medians[1] * 1e3;
        println!(
            "| {name} | {size} B | {:.3}× | {:.2} ms | {rate:.0} MB/s | {:.2}× |",
            size as f64 / sizes[1] as f64,
            ns / 1e6,
            rate / default_rate
        );
    }
}
