#!/usr/bin/env bash
# Builds every fuzz target, then runs each for SECONDS (default 60), one after
# the other; exits non-zero on the first crash, timeout, leak or OOM, after
# printing the end of that target's log and where the crashing input is.
#
# Usage: fuzz/run.sh [SECONDS]        (from anywhere)
# Env:   FUZZ_SANITIZER=address|none  (default address)
set -euo pipefail
seconds=${1:-60}
sanitizer=${FUZZ_SANITIZER:-address}
cd "$(dirname "${BASH_SOURCE[0]}")"
fuzz_dir=$(pwd)

# cargo-fuzz passes nightly-only flags to rustc (-Zsanitizer=address and
# coverage instrumentation); RUSTC_BOOTSTRAP=1 makes stable rustc accept them.
# No nightly toolchain and no -Zbuild-std are needed.
export RUSTC_BOOTSTRAP=1

if ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked
fi
cargo fuzz --version

targets=(encode_roundtrip names float_format proc_parsers http_request push_response gzip_roundtrip negotiate protobuf_roundtrip)
cargo fuzz build --sanitizer "$sanitizer"
mkdir -p "$fuzz_dir/target/logs"
for target in "${targets[@]}"; do
  # New inputs go to a working corpus under target/ (git-ignored); the
  # checked-in seeds in corpus/ are read, never written.
  work="$fuzz_dir/target/work-corpus/$target"
  log="$fuzz_dir/target/logs/$target.log"
  mkdir -p "$work"
  # float_format reads only the first 8 bytes of an input.
  max_len=()
  if [ "$target" = float_format ]; then max_len=(-max_len=8); fi
  printf '=== fuzz %s for %ss\n' "$target" "$seconds"
  if ! cargo fuzz run --sanitizer "$sanitizer" "$target" "$work" "$fuzz_dir/corpus/$target" -- \
      -max_total_time="$seconds" -timeout=10 -print_final_stats=1 "${max_len[@]}" >"$log" 2>&1; then
    # The check's panic message says what differs; the tail says where the
    # input was written and how to reproduce and minimise it.
    grep -a -m 1 -A 15 'panicked at' "$log" || true
    echo '...'
    tail -n 25 "$log"
    echo "fuzz/run.sh: $target failed; the input is in fuzz/artifacts/$target/ (full log: $log)" >&2
    exit 1
  fi
  # The last status line: executions, coverage (cov) and features (ft).
  grep -a -E '^#[0-9]+' "$log" | tail -n 1
  grep -a -E '^stat::(number_of_executed_units|peak_rss_mb)' "$log" || true
done
echo "fuzz/run.sh: ${#targets[@]} targets ran ${seconds}s each without a crash"
