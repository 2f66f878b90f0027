//! Encode → strict parse gives back exactly what went in: label values of
//! any UTF-8, and every kind of f64 and u64.

use bareprom::{Counter, CounterVec, FloatGaugeVec, Registry};

use crate::oracle::Value;
use crate::parse;

fn adversarial_values() -> Vec<String> {
    let mut values: Vec<String> = (0u8..128).map(|b| char::from(b).to_string()).collect();
    values.extend(
        [
            "\\",
            "\"",
            "\n",
            "\\n",
            "\\\"",
            "\"\\",
            "a\\",
            "\\\\\\",
            "\u{1F600}",
            "שלום עולם",
            "مرحبا",
            "\u{202E}rtl",
            "",
            " ",
            "a b",
            "\0",
            "\r\n",
            "{}",
            "le=\"1\"",
            "\u{FEFF}",
            "\u{10FFFF}",
        ]
        .map(String::from),
    );
    values.push("x".repeat(64 * 1024));
    values.push("\\\"\n".repeat(1000));
    values
}

#[test]
fn every_label_value_round_trips_exactly() {
    let values = adversarial_values();
    let family = CounterVec::<2>::try_new("rt_labels_total", "Labels.", ["index", "value"]).unwrap();
    let family = std::sync::Arc::new(family);
    let r = Registry::new();
    r.register_arc(std::sync::Arc::clone(&family)).unwrap();
    for (i, v) in values.iter().enumerate() {
        family.with([&i.to_string(), v]).inc_by(i as u64 + 1);
    }
    let exposition = parse(&r.render());
    let fam = exposition.family("rt_labels_total").unwrap();
    assert_eq!(fam.samples.len(), values.len());
    for (i, v) in values.iter().enumerate() {
        let got = exposition.value("rt_labels_total", &[("index", &i.to_string()), ("value", v)]);
        assert!(
            matches!(got, Some(Value::Int(n)) if n == i as i128 + 1),
            "value #{i} {:?} came back as {got:?}",
            v.chars().take(40).collect::<String>()
        );
    }
}

#[test]
fn every_kind_of_f64_round_trips_bit_for_bit() {
    let values = [
        0.0,
        -0.0,
        5e-324,
        f64::from_bits(0x000f_ffff_ffff_ffff), // the largest subnormal
        f64::MIN_POSITIVE,
        f64::MAX,
        f64::MIN,
        f64::EPSILON,
        1e21,
        1e-7,
        0.1 + 0.2,
        1.0 / 3.0,
        123_456_789.123_456_79,
        9_007_199_254_740_993.0,
        -1.5e300,
        1e15,
        1e16,
        0.000_1,
        0.000_099_999,
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
    ];
    let gauges = FloatGaugeVec::<1>::try_new("rt_floats", "Floats.", ["i"]).unwrap();
    let gauges = std::sync::Arc::new(gauges);
    let r = Registry::new();
    r.register_arc(std::sync::Arc::clone(&gauges)).unwrap();
    for (i, v) in values.iter().enumerate() {
        gauges.with([&i.to_string()]).set(*v);
    }
    let exposition = parse(&r.render());
    for (i, v) in values.iter().enumerate() {
        let got = exposition.value("rt_floats", &[("i", &i.to_string())]).unwrap();
        let same = match got {
            Value::Float(f) => f.to_bits() == v.to_bits() || (f.is_nan() && v.is_nan()),
            // Integral floats print as integers; they must still be the same number.
            Value::Int(n) => (n as f64).to_bits() == v.to_bits() && (n as f64) as i128 == n,
        };
        assert!(same, "#{i}: {v:e} came back as {got:?}");
    }
}

#[test]
fn u64_counters_print_every_digit() {
    static BIG: Counter = Counter::new("rt_big_total", "Big.");
    let r = Registry::new();
    r.register(&BIG).unwrap();
    BIG.inc_by((1 << 53) + 1);
    let exposition = parse(&r.render());
    assert!(matches!(exposition.value("rt_big_total", &[]), Some(Value::Int(n)) if n == (1 << 53) + 1));
    BIG.inc_by(u64::MAX - (1 << 53) - 1);
    let exposition = parse(&r.render());
    assert!(matches!(exposition.value("rt_big_total", &[]), Some(Value::Int(n)) if n == i128::from(u64::MAX)));
}
