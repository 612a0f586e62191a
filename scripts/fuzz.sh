#!/usr/bin/env bash
# Fuzzes llkv with libFuzzer: builds the harness in rust/llkv-fuzz/fuzz with
# coverage instrumentation (stable toolchain; no cargo-fuzz needed), then
# runs each target for SECONDS over a scratch copy of its checked-in corpus
# (rust/llkv-fuzz/corpus/<target>). Stops at the first crash, leaving the
# input in target/fuzz/artifacts/<target>/; copy it to
# rust/llkv-fuzz/regressions/<target>/ once fixed, so `cargo test` replays it.
#
#   bash scripts/fuzz.sh [SECONDS] [TARGET...]   # default: 60 s, all four
#   FUZZ_SEED=1 bash scripts/fuzz.sh 25          # the same inputs every run
#   FUZZ_SAVE=1 bash scripts/fuzz.sh 600 sql     # also replace the checked-in
#                                                # corpus by a minimal set
#                                                # covering the old and new
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

seconds="${1:-60}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(sql db_file wal chunk)
fi

# What cargo-fuzz passes, minus AddressSanitizer (nightly only; the engine
# is safe Rust, and what the fuzzer looks for are panics, aborts, hangs and
# runaway memory). The harness profile turns on debug assertions and
# overflow checks.
export RUSTFLAGS="-Cpasses=sancov-module \
-Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters \
-Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares \
--cfg fuzzing"
harness=rust/llkv-fuzz/fuzz
# An explicit --target keeps RUSTFLAGS off build scripts and proc macros
# (they would need the coverage runtime to link).
host="$(rustc -vV | sed -n 's/^host: //p')"
cargo build --release --manifest-path "$harness/Cargo.toml" --target-dir target/fuzz \
    --target "$host" --bins
bin="target/fuzz/$host/release"

for target in "${targets[@]}"; do
    corpus="rust/llkv-fuzz/corpus/$target"
    work="target/fuzz/work/$target"
    artifacts="target/fuzz/artifacts/$target"
    mkdir -p "$work" "$artifacts"
    echo "== fuzzing $target for ${seconds} s (corpus: $(ls "$corpus" | wc -l) inputs)"
    log="target/fuzz/$target.log"
    set +e
    "$bin/$target" "$work" "$corpus" \
        -max_total_time="$seconds" -timeout=20 -rss_limit_mb=3072 -max_len=65536 \
        -print_final_stats=1 -artifact_prefix="$artifacts/" ${FUZZ_SEED:+-seed="$FUZZ_SEED"} \
        >"$log" 2>&1
    status=$?
    set -e
    grep -E "^#[0-9]+[[:space:]]+(INITED|DONE)|^stat::(number_of_executed_units|peak_rss_mb|new_units_added)" "$log" || true
    if [ "$status" -ne 0 ]; then
        tail -40 "$log" >&2
        echo "fuzz target $target failed (exit $status); inputs in $artifacts" >&2
        exit "$status"
    fi
    if [ "${FUZZ_SAVE:-0}" = 1 ]; then
        # The smallest set of inputs covering what corpus and run reached
        # replaces the checked-in corpus.
        merged="target/fuzz/merged/$target"
        rm -rf "$merged"
        mkdir -p "$merged"
        "$bin/$target" -set_cover_merge=1 "$merged" "$corpus" "$work" >"$log.merge" 2>&1
        tail -1 "$log.merge"
        find "$corpus" -type f -delete
        cp "$merged"/* "$corpus"/
    fi
done
