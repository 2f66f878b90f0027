//! The protobuf exposition decoded independently of the crate: by a
//! Python decoder of the wire format (`pb_decode.py`, written from the
//! protobuf encoding spec and the `metrics.proto` field numbers), for every
//! kind of metric, compared with the values the test put in.

use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::Arc;

use bareprom::{
    Counter, CounterVec, FloatGauge, Gauge, Histogram, Info, NativeHistogram, NativeHistogramVec, Registry,
};

/// What `pb_decode.py` prints of `body`; `None` when Python cannot run (a
/// failure under CI, else a visible skip).
#[track_caller]
pub(crate) fn python_decode(body: &[u8]) -> Option<Result<String, String>> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/it/pb_decode.py");
    let child = Command::new("python3")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let Ok(mut child) = child else {
        crate::missing_program("python3");
        return None;
    };
    child.stdin.take().expect("stdin").write_all(body).expect("write");
    let output = child.wait_with_output().expect("python3 runs");
    Some(if output.status.success() {
        Ok(String::from_utf8(output.stdout).expect("utf-8"))
    } else {
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    })
}

#[test]
fn python_decodes_every_kind_as_the_values_put_in() {
    static REQUESTS: CounterVec<2> = CounterVec::new("py_requests_total", "Requests.", ["method", "path"]);
    static DEPTH: Gauge = Gauge::new("py_depth", "Depth.");
    static TEMP: FloatGauge = FloatGauge::new("py_temp_celsius", "Temperature.").with_unit("celsius");
    static BIG: Counter = Counter::new("py_big_total", "Big.");
    static CLASSIC: Histogram = Histogram::with_buckets("py_classic_seconds", "Classic.", &[0.1, 1.0]);
    static NATIVE: NativeHistogram = NativeHistogram::new("py_native_seconds", "Native.");
    static BOTH: NativeHistogram = NativeHistogram::new("py_both_seconds", "Both.").with_classic_buckets(&[0.5, 2.0]);
    static EMPTY: NativeHistogram = NativeHistogram::new("py_empty_seconds", "Empty.");
    static OPS: NativeHistogramVec<1> =
        NativeHistogramVec::with_range("py_ops_seconds", "Ops.", ["op"], 2.0, 0.25, 8.0, 1e-9);

    let registry = Registry::with_const_labels(&[("zone", "eu \"1\"")])
        .unwrap()
        .without_health();
    registry.register(&REQUESTS).unwrap();
    registry.register(&DEPTH).unwrap();
    registry.register(&TEMP).unwrap();
    registry.register(&BIG).unwrap();
    registry.register(&CLASSIC).unwrap();
    registry.register(&NATIVE).unwrap();
    registry.register(&BOTH).unwrap();
    registry.register(&EMPTY).unwrap();
    registry.register(&OPS).unwrap();
    let info = Info::new("py_build_info", "Build.", &[("version", "1.2.3")]).unwrap();
    registry.register_arc(Arc::new(info)).unwrap();

    REQUESTS.with(["GET", "/a\\b\n\"c\""]).inc_by(3);
    DEPTH.set(-7);
    TEMP.set(21.5);
    BIG.inc_by(u64::MAX);
    for v in [0.05, 0.5, 5.0] {
        CLASSIC.observe(v);
    }
    // Schema 3: 1.0 is the top of key 0, 2.0 of key 8, 1.05 is in key 1
    // (2^(1/8) = 1.09); negative values by magnitude; 1e-4 and 0 are in the
    // zero bucket (threshold 2^-10).
    let native = [1.0, 1.0, 1.05, 2.0, -1.0, -2.0, -2.0, 1e-4, 0.0];
    for v in native {
        NATIVE.observe(v);
    }
    // Added in the same order as the histogram adds them.
    let native_sum = native.iter().fold(0.0, |sum, v| sum + v);
    for v in [0.25, 1.0, 4.0] {
        BOTH.observe(v);
    }
    // Schema 0: key k holds (2^(k-1), 2^k].
    OPS.with(["read"]).observe(3.0);
    OPS.with(["write"]).observe(-0.5);

    let mut body = Vec::new();
    registry.encode_protobuf(&mut body);
    let Some(decoded) = python_decode(&body) else {
        return;
    };
    let decoded = decoded.unwrap_or_else(|e| panic!("the Python decoder refuses our protobuf: {e}"));
    let zone = "zone='eu \"1\"'";
    let expected = format!(
        "py_requests_total COUNTER help='Requests.'\n\
         \x20 {{{zone},method='GET',path='/a\\\\b\\n\"c\"'}} counter=3.0\n\
         py_depth GAUGE help='Depth.'\n\
         \x20 {{{zone}}} gauge=-7.0\n\
         py_temp_celsius GAUGE help='Temperature.' unit=celsius\n\
         \x20 {{{zone}}} gauge=21.5\n\
         py_big_total COUNTER help='Big.'\n\
         \x20 {{{zone}}} counter=1.8446744073709552e+19\n\
         py_classic_seconds HISTOGRAM help='Classic.'\n\
         \x20 {{{zone}}} count=3 sum=5.55 classic=0.1:1,1.0:2\n\
         py_native_seconds HISTOGRAM help='Native.'\n\
         \x20 {{{zone}}} count=9 sum={native_sum:?} schema=3 zero_threshold=0.0009765625 zero_count=2 \
         positive=0:2,1:1,8:1 negative=0:1,8:2 pspans=2\n\
         py_both_seconds HISTOGRAM help='Both.'\n\
         \x20 {{{zone}}} count=3 sum=5.25 classic=0.5:1,2.0:2 schema=3 zero_threshold=0.0009765625 zero_count=0 \
         positive=-16:1,0:1,16:1 negative= pspans=3\n\
         py_empty_seconds HISTOGRAM help='Empty.'\n\
         \x20 {{{zone}}} count=0 sum=0.0 schema=3 zero_threshold=0.0009765625 zero_count=0 positive= negative= pspans=1\n\
         py_ops_seconds HISTOGRAM help='Ops.'\n\
         \x20 {{{zone},op='read'}} count=1 sum=3.0 schema=0 zero_threshold=0.25 zero_count=0 positive=2:1 negative= pspans=1\n\
         \x20 {{{zone},op='write'}} count=1 sum=-0.5 schema=0 zero_threshold=0.25 zero_count=0 positive= negative=-1:1 pspans=0\n\
         py_build_info GAUGE help='Build.'\n\
         \x20 {{{zone},version='1.2.3'}} gauge=1.0\n"
    );
    assert_eq!(decoded, expected);
}

/// The decoder is a real check: it refuses what is not a valid exposition.
#[test]
fn the_python_decoder_refuses_broken_protobuf() {
    static H: NativeHistogram = NativeHistogram::new("py_broken_seconds", "Broken.");
    let registry = Registry::new().without_health();
    registry.register(&H).unwrap();
    H.observe(1.0);
    let mut body = Vec::new();
    registry.encode_protobuf(&mut body);
    let truncated = &body[..body.len() - 1];
    // A delta too many: the last delta field gets one more varint.
    let mut extra = body.clone();
    extra.push(0x02);
    for (what, bad) in [("truncated", truncated.to_vec()), ("trailing byte", extra)] {
        match python_decode(&bad) {
            None => return,
            Some(Ok(out)) => panic!("{what}: decoded as {out}"),
            Some(Err(e)) => assert!(e.contains("bad protobuf"), "{what}: {e}"),
        }
    }
}
