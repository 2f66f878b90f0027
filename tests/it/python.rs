//! Runs a Python script that reads an exposition on stdin with the
//! `prometheus_client` parsers: one place that knows how a missing
//! `python3` or a missing `prometheus_client` becomes a visible SKIP (or
//! a failure under CI).

use std::io::Write;
use std::process::{Command, Stdio};

/// Runs `python3 -c script` with `text` on stdin: `None` when `python3`
/// or `prometheus_client` is missing (after [`crate::missing_program`]),
/// else the printed lines, or the error output when the script failed
/// (the parser refused the text).
pub(crate) fn run_parser_script(script: &str, text: &str) -> Option<Result<Vec<String>, String>> {
    let Ok(mut child) = Command::new("python3")
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    else {
        crate::missing_program("python3");
        return None;
    };
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(text.as_bytes())
        .expect("write to python3");
    let output = child.wait_with_output().expect("python3 runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    if stderr.contains("No module named 'prometheus_client'") {
        crate::missing_program("python3 -m pip install prometheus_client==0.26.0");
        return None;
    }
    Some(if output.status.success() {
        Ok(String::from_utf8(output.stdout)
            .expect("python3 prints UTF-8")
            .lines()
            .map(str::to_owned)
            .collect())
    } else {
        Err(stderr.into_owned())
    })
}
