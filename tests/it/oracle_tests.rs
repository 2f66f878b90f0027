// The oracle's own tests: every rule it enforces, accepted and rejected.

use crate::oracle::Value::{Float, Int};
use crate::oracle::*;

fn s(name: &str, labels: &[(&str, &str)], value: Value) -> Sample {
    let labels = labels.iter().map(|&(k, v)| (k.into(), v.into())).collect();
    Sample {
        name: name.into(),
        labels,
        value,
    }
}

fn fam(name: &str, help: &str, kind: Kind) -> Family {
    let (name, help) = (name.into(), help.into());
    Family {
        name,
        help,
        kind,
        samples: vec![],
    }
}

const G: &str = "# HELP x h\n# TYPE x gauge\n";
const C: &str = "# HELP x h\n# TYPE x counter\n";
const H: &str = "# HELP h h\n# TYPE h histogram\n";
const Q: &str = "# HELP q h\n# TYPE q summary\n";

/// `table` holds one case per line, `body ~> fragment`: `head + body` must
/// be rejected with an error containing `fragment`. In bodies `|` stands
/// for `\n` so each case stays on one line (and out of rustfmt's way).
#[track_caller]
fn rejects(head: &str, table: &str) {
    for case in table
        .split('\n')
        .map(|c| c.trim_start_matches(' '))
        .filter(|c| !c.is_empty())
    {
        let (body, want) = case.split_once(" ~> ").expect("case needs ' ~> '");
        let text = format!("{head}{}", body.replace('|', "\n"));
        match parse(&text) {
            Ok(e) => panic!("accepted {text:?} as {e:?}; wanted error {want:?}"),
            Err(e) => assert!(e.contains(want), "{text:?}: error {e:?} lacks {want:?}"),
        }
    }
}

#[track_caller]
fn accepts(head: &str, body: &str) -> Exposition {
    let text = format!("{head}{}", body.replace('|', "\n"));
    parse(&text).unwrap_or_else(|e| panic!("rejected {text:?}: {e}"))
}

#[test]
fn parses_multi_family_exposition_exactly() {
    let text = r#"# HELP requests_total Total requests.
# TYPE requests_total counter
requests_total{method="GET"} 10
requests_total{method="POST"} -0
# HELP temp Temperature.
# TYPE temp gauge
temp -3.5
# HELP lat Latency.
# TYPE lat histogram
lat_bucket{path="/a",le="0.1"} 1
lat_bucket{path="/a",le="1"} 3
lat_bucket{path="/a",le="+Inf"} 4
lat_sum{path="/a"} 2.5
lat_count{path="/a"} 4
lat_bucket{le="1e-1",path="/b"} 0
lat_bucket{le="+Inf",path="/b"} 0
lat_sum{path="/b"} 0
lat_count{path="/b"} 0
# HELP misc
# TYPE misc untyped
misc 1e3
# HELP rpc RPC durations.
# TYPE rpc summary
rpc{quantile="0.5"} 0.2
rpc{quantile="0.99"} NaN
rpc_sum 7
rpc_count 12
# HELP empty 
# TYPE empty gauge
"#;
    let mut want = vec![
        fam("requests_total", "Total requests.", Kind::Counter),
        fam("temp", "Temperature.", Kind::Gauge),
        fam("lat", "Latency.", Kind::Histogram),
        fam("misc", "", Kind::Untyped),
        fam("rpc", "RPC durations.", Kind::Summary),
        fam("empty", "", Kind::Gauge),
    ];
    want[0].samples = vec![
        s("requests_total", &[("method", "GET")], Int(10)),
        s("requests_total", &[("method", "POST")], Float(-0.0)),
    ];
    want[1].samples = vec![s("temp", &[], Float(-3.5))];
    let (a, b) = ([("path", "/a")], [("path", "/b")]);
    want[2].samples = vec![
        s("lat_bucket", &[("path", "/a"), ("le", "0.1")], Int(1)),
        s("lat_bucket", &[("path", "/a"), ("le", "1")], Int(3)),
        s("lat_bucket", &[("path", "/a"), ("le", "+Inf")], Int(4)),
        s("lat_sum", &a, Float(2.5)),
        s("lat_count", &a, Int(4)),
        s("lat_bucket", &[("le", "1e-1"), ("path", "/b")], Int(0)),
        s("lat_bucket", &[("le", "+Inf"), ("path", "/b")], Int(0)),
        s("lat_sum", &b, Int(0)),
        s("lat_count", &b, Int(0)),
    ];
    want[3].samples = vec![s("misc", &[], Float(1000.0))];
    want[4].samples = vec![
        s("rpc", &[("quantile", "0.5")], Float(0.2)),
        s("rpc", &[("quantile", "0.99")], Float(f64::NAN)),
        s("rpc_sum", &[], Int(7)),
        s("rpc_count", &[], Int(12)),
    ];
    let got = parse(text).unwrap();
    assert_eq!(got, Exposition { families: want });
    assert_eq!(got.family("temp").map(|f| f.kind), Some(Kind::Gauge));
    assert!(got.family("nope").is_none());
    let v = got.value("lat_bucket", &[("le", "1"), ("path", "/a")]);
    assert!(v.is_some_and(|v| v.same(Int(3))), "{v:?}");
    let (subset, superset) = (&[("le", "1")], &[("path", "/b"), ("x", "y")]);
    assert!(got.value("lat_bucket", subset).is_none());
    assert!(got.value("lat_sum", superset).is_none());
    assert_eq!(parse("").unwrap(), Exposition { families: vec![] });
}

#[test]
fn escapes_round_trip() {
    let text = r#"# HELP e a\\b\nc \ndone "q"
# TYPE e gauge
e{a="back\\slash",b="q\"uote",c="new\nline"} 1
"#;
    let got = parse(text).unwrap();
    assert_eq!(got.families[0].help, "a\\b\nc \ndone \"q\"");
    let want = [("a", "back\\slash"), ("b", "q\"uote"), ("c", "new\nline")];
    assert!(got.value("e", &want).is_some());
    // Encode values the canonical way and check they decode back exactly.
    let esc = |v: &str| v.replace('\\', r"\\").replace('\n', r"\n");
    let values = ["", "🦀🎉", "שלום עולם", "مرحبا", "\\\"\n\\n", "{},= \t|", "\u{202e}x"];
    for v in values {
        let line = format!("x{{v=\"{}\"}} 1\n", esc(v).replace('"', "\\\""));
        let got = parse(&format!("{G}{line}")).unwrap();
        assert_eq!(got.families[0].samples[0].labels, [("v".into(), v.into())]);
        let got = parse(&format!("# HELP g {}\n# TYPE g gauge\n", esc(v))).unwrap();
        assert_eq!(got.families[0].help, v);
    }
}

#[test]
fn values_parse_exactly() {
    let cases = [
        ("18446744073709551615", Int(i128::from(u64::MAX))),
        ("9007199254740993", Int(9_007_199_254_740_993)),
        ("-5", Int(-5)),
        ("0", Int(0)),
        ("-0", Float(-0.0)),
        ("007", Float(7.0)),
        ("1e-7", Float(1e-7)),
        ("1.5e300", Float(1.5e300)),
        ("2.5E+3", Float(2500.0)),
        ("+Inf", Float(f64::INFINITY)),
        ("-Inf", Float(f64::NEG_INFINITY)),
        ("NaN", Float(f64::NAN)),
        ("170141183460469231731687303715884105728", Float(2f64.powi(127))),
    ];
    for (tok, want) in cases {
        let v = accepts(G, &format!("x {tok}|")).families[0].samples[0].value;
        assert!(v.same(want), "{tok}: got {v:?}, want {want:?}");
    }
    assert!(!Float(0.0).same(Float(-0.0)) && !Int(1).same(Float(1.0)));
    assert!(Float(f64::NAN).same(Float(-f64::NAN)) && Int(-3).as_f64() < -2.9);
    let bad = "inf Infinity nan 0x10 1_000 +5 .5 5. 1e 1e+ --1 - 1.2.3 ½ 1e400 NAN +inf";
    for tok in bad.split(' ') {
        rejects(G, &format!("x {tok}| ~> value"));
    }
    rejects(G, "x | ~> trailing space\nx  1| ~> exactly one space");
}

#[test]
fn rejects_malformed_lines() {
    rejects(G, "x 1 ~> line 3: missing final newline");
    rejects(G, "x 1\r| ~> line 3: carriage return");
    rejects("", "\r| ~> line 1: carriage return\n| ~> line 1: empty line\n");
    let cases = r#"
        |x 1| ~> line 3: empty line
        x 1| x 2| ~> line 4: leading space
        x 1 | ~> trailing space
        x  1| ~> exactly one space
        x| ~> without a value
        x 1 1700000000000| ~> timestamps are not allowed
        # a comment| ~> unsupported comment
        #HELP y h| ~> unsupported comment
        # EOF| ~> unsupported comment
        # HELP| ~> unsupported comment
        # HELP y a\tb| ~> invalid escape \t
        # HELP y a\"b| ~> invalid escape \"
        # HELP y ab\| ~> lone trailing backslash
        # HELP y h|# TYPE y info| ~> unknown metric type
        # HELP y h|# TYPE y| ~> exactly '# TYPE
        # HELP y h|# TYPE y gauge gauge| ~> exactly '# TYPE
        # HELP y h|# TYPE y gauge | ~> trailing space
    "#;
    rejects(G, cases);
}

#[test]
fn rejects_bad_names_and_labels() {
    let cases = r#"
        # HELP 1y h| ~> invalid metric name "1y"
        x-y 1| ~> invalid metric name "x-y"
        x{1a="v"} 1| ~> invalid label name "1a"
        x{a:b="v"} 1| ~> invalid label name "a:b"
        x{__name__="v"} 1| ~> reserved __ prefix
        x{a="1",a="2"} 1| ~> duplicate label name "a"
        x{} 1| ~> empty label set
        x{a="1",} 1| ~> trailing comma
        x{a="1", b="2"} 1| ~> invalid label name " b"
        x{a="1" } 1| ~> expected ',' or '}'
        x{a=1} 1| ~> unquoted label value
        x{a} 1| ~> without '='
        x{a="\t"} 1| ~> label "a": invalid escape \t
        x{a="1\"} 1| ~> unterminated label value
        x{a="1"}1| ~> no space before the value
    "#;
    rejects(G, cases);
}

#[test]
fn rejects_bad_family_structure() {
    let cases = r#"
        x 1|# HELP y h|# TYPE y gauge|x 2| ~> line 6: TYPE/sample name mismatch
        # HELP y h|# TYPE y gauge|# HELP x h| ~> line 5: second HELP for x
        # TYPE x gauge| ~> line 3: TYPE for x not directly after
        # HELP y h|# HELP z h| ~> family y has no TYPE
        # HELP y h|y 1| ~> sample between HELP and TYPE
        # HELP y h| ~> line 3: family y has HELP but no TYPE
        # HELP y h|# TYPE z gauge| ~> TYPE for z not directly after
        x{a="1",b="2"} 1|x{b="2",a="1"} 1| ~> line 4: duplicate series
        x 1|x{a=""} 2| ~> duplicate series
        # HELP z_count h|# TYPE z_count gauge|# HELP z h|# TYPE z summary| ~> z_count would
        # HELP y h|# TYPE y histogram|# HELP y_sum h|# TYPE y_sum gauge| ~> y_sum would
        x_sum 1| ~> mismatch: x_sum in Gauge family x
        x_bucket{le="1"} 1| ~> mismatch
    "#;
    rejects(G, cases);
    rejects("", "x 1| ~> line 1: sample before any HELP/TYPE");
    rejects(H, "h 1| ~> mismatch\nh_total 1| ~> mismatch");
    rejects(Q, "q_bucket{le=\"1\"} 1| ~> mismatch\nq_total 1| ~> mismatch");
    let cases = r"
        x_total 1| ~> TYPE/sample name mismatch: x_total in Counter family x
        x -1| ~> negative or NaN
        x -0.5| ~> negative or NaN
        x -Inf| ~> negative or NaN
        x NaN| ~> negative or NaN
    ";
    rejects(C, cases);
    // Accepted edge cases: -0 counter, families without samples, gauge NaN.
    accepts(C, "x -0|x{a=\"b\"} 0.0|# HELP a|# TYPE a histogram|");
    accepts(G, "x NaN|# HELP y_total h|# TYPE y_total counter|y_total 1|");
}

#[test]
fn rejects_bad_histograms() {
    accepts(H, r#"h_bucket{le="1"} 1|h_bucket{le="+Inf"} 2|h_sum NaN|h_count 2|"#);
    accepts(
        H,
        r#"h_bucket{le="-Inf"} 0|h_bucket{le="+Inf"} 2.0|h_sum -1|h_count 2|"#,
    );
    let cases = r#"
        h_bucket{le="1"} 1|h_sum 1|h_count 1| ~> line 4: h _sum must follow
        h_bucket{le="1"} 1| ~> line 3: h group [] lacks _sum
        h_bucket{le="1"} 2|h_bucket{le="+Inf"} 1| ~> count 1 < previous 2
        h_bucket{le="+Inf"} 2|h_sum 1|h_count 3| ~> _count 3 != +Inf bucket Some(2)
        h_bucket{le="2"} 1|h_bucket{le="1"} 1| ~> line 4: h le="1" is not strictly
        h_bucket{le="1"} 1|h_bucket{le="1.0"} 1| ~> not strictly ascending
        h_bucket{le="NaN"} 1| ~> not strictly ascending
        h_bucket{le="x"} 1| ~> le: invalid value
        h_bucket{le="+Inf"} 1|h_count 1| ~> _count must directly follow
        h_bucket{le="+Inf"} 1|h_sum 1| ~> lacks _sum and _count
        h_bucket{le="+Inf"} -1| ~> not a non-negative integer
        h_bucket{le="+Inf"} 1.5| ~> not a non-negative integer
        h_bucket{le="+Inf"} 1|h_sum 1|h_count 1e39| ~> not a non-negative integer
        h_bucket{le="+Inf"} 1|h_sum 1|h_bucket{le="2"} 1| ~> after the group's _sum
        h_bucket 1| ~> without a "le" label
        h_sum{le="1"} 1| ~> must not carry a "le" label
        h_bucket{a="1",le="+Inf"} 1|h_bucket{a="2",le="+Inf"} 1| ~> line 4: h group
    "#;
    rejects(H, cases);
    // Two complete groups, then the first group comes back.
    let g = |a| format!(r#"h_bucket{{a="{a}",le="+Inf"}} 1|h_sum{{a="{a}"}} 1|"#);
    let twice = format!(r#"{}h_count{{a="1"}} 1|{}h_count{{a="2"}} 1|"#, g(1), g(2));
    accepts(H, &twice);
    rejects(H, &format!(r#"{twice}h_bucket{{a="1",le="1"}} 0| ~> reappears"#));
}

#[test]
fn rejects_bad_summaries() {
    accepts(
        Q,
        r#"q_sum 0|q_count 0|q{a="x",quantile="1"} 1|q_sum{a="x"} 1|q_count{a="x"} 1|"#,
    );
    let cases = r#"
        q{quantile="1.5"} 1| ~> outside [0,1] or repeated
        q{quantile="-0.1"} 1| ~> outside [0,1] or repeated
        q{quantile="0.5"} 1|q{quantile="0.50"} 1| ~> outside [0,1] or repeated
        q{quantile="0.5"} 1|q{quantile="0.5"} 1| ~> duplicate series
        q 1| ~> without a "quantile" label
        q_count{quantile="0.5"} 1| ~> must not carry a "quantile" label
        q_sum 1| ~> lacks _sum and _count
        q_count 1| ~> _count must directly follow
        q_sum 1|q_count -1| ~> not a non-negative integer
        q_sum 1|q_count 1|q{quantile="0.5"} 1| ~> after the group's _sum/_count
        q_sum 1|q_count 1|q_sum 2| ~> duplicate series
    "#;
    rejects(Q, cases);
}
