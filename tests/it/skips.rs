//! Skips of tests that need an outside program are visible in plain
//! `cargo test` output, not swallowed by libtest's capture of passing
//! tests' `print!`/`eprint!`.

use std::process::Command;

/// Runs this very test binary, output captured as in plain `cargo test`,
/// on the tests that need promtool, prometheus and ps, with none of them
/// findable and `CI` unset: each passes, and each says it skipped.
#[test]
fn skips_of_missing_programs_show_in_plain_cargo_test_output() {
    let mut tests = vec![
        (
            "promtool::promtool_accepts_a_kitchen_sink_without_findings",
            "SKIP: promtool not found",
        ),
        (
            "prometheus::real_prometheus_scrapes_us_and_stores_our_values",
            "SKIP: prometheus not found",
        ),
    ];
    if cfg!(target_os = "linux") {
        tests.push(("process::agrees_with_ps", "SKIP: ps cross-check"));
    }
    let output = Command::new(std::env::current_exe().expect("the test binary"))
        .args(tests.iter().map(|(name, _)| name))
        .args(["--exact", "--test-threads=1"])
        .env("PATH", "/nonexistent/bareprom-skip-check")
        .env_remove("CI")
        .env_remove("RUST_TEST_NOCAPTURE")
        .output()
        .expect("running the test binary");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
    assert!(output.status.success(), "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(
        stdout.contains(&format!("test result: ok. {} passed", tests.len())),
        "{stdout}"
    );
    for (name, line) in &tests {
        assert!(
            stderr.lines().any(|l| l.starts_with(line)),
            "{name} did not say `{line}` visibly; stderr:\n{stderr}"
        );
    }
}
