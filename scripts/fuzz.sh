#!/usr/bin/env bash
# Coverage-guided fuzzing of Finch with libFuzzer (clang's, through swiftc -sanitize=fuzzer,address).
#   scripts/fuzz.sh [SECONDS] [TARGET ...]   each target for SECONDS (default 60), every target by default
#   scripts/fuzz.sh --short                  every target for a fixed number of inputs from its seeds
#                                            (fixed random seed, fresh corpus): the check `make test` runs
# Long runs keep their corpora in .build-fuzz/corpus/TARGET (started from seeds made from the tests,
# lessons and data). A crash is kept as Tests/FinchFuzzingTests/crashes/TARGET/crash-HASH, which the
# Swift tests replay ever after. Prints a line per target: inputs run, coverage (edges), corpus, crashes.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
short=0
if [[ ${1:-} == --short ]]; then short=1; shift; fi
seconds=${1:-60}
shift || true
targets=("$@")
if ((${#targets[@]} == 0)); then targets=(lang gguf safetensors config tokenizer encode jsonl json csv notebook chat); fi
scratch=$root/.build-fuzz
bin=$scratch/release/finch-fuzz

# A separate build folder: every module instrumented for coverage and for AddressSanitizer.
mkdir -p "$scratch"
if ! FINCH_FUZZ=1 swift build -c release --product finch-fuzz --scratch-path "$scratch" --quiet \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -enable-testing >"$scratch/build.log" 2>&1; then
    cat "$scratch/build.log" >&2
    echo "fuzz: building the fuzzer failed (output above)" >&2
    exit 1
fi

# Reference cycles among Finch values and the static registries are not leaks worth a report.
export ASAN_OPTIONS=detect_leaks=0:allocator_may_return_null=1
# libFuzzer reports a trap with its own stack trace; Swift's backtracer, reading the stack of an
# instrumented process, would trip AddressSanitizer and bury the trap's message.
export SWIFT_BACKTRACE=enable=no
mkdir -p "$scratch/work"
status=0
for t in "${targets[@]}"; do
    seeds=$scratch/seeds/$t crashes=$root/Tests/FinchFuzzingTests/crashes/$t
    corpus=$scratch/corpus/$t
    if ((short)); then corpus=$scratch/short-corpus/$t; rm -rf "$corpus"; fi
    mkdir -p "$corpus" "$crashes"
    rm -rf "$seeds"
    FINCH_FUZZ_TARGET=$t FINCH_FUZZ_ROOT=$root FINCH_FUZZ_WRITE_SEEDS=$seeds "$bin" >/dev/null
    opts=(-timeout=10 -detect_leaks=0 -rss_limit_mb=4096 -malloc_limit_mb=2048 -close_fd_mask=1
          -artifact_prefix="$crashes/" -print_final_stats=1)
    if ((short)); then
        # A fixed amount of work, the same on every run: slow targets get fewer inputs.
        case $t in lang) runs=1500 ;; gguf) runs=10000 ;; encode|notebook) runs=5000 ;; *) runs=20000 ;; esac
        opts+=(-seed=1 -runs=$runs)
    else
        opts+=(-max_total_time="$seconds")
    fi
    case $t in
        lang) FINCH_FUZZ_TARGET=lang FINCH_FUZZ_WRITE_DICT=$scratch/finch.dict "$bin" >/dev/null
              opts+=(-dict="$scratch/finch.dict" -max_len=4096) ;;
        gguf|safetensors) opts+=(-max_len=131072) ;;
        *) opts+=(-max_len=16384) ;;
    esac
    log=$scratch/$t.log
    before=$(ls "$crashes" | wc -l)
    # Programs under fuzzing run in a scratch folder, and may write files only there.
    (cd "$scratch/work" && FINCH_FUZZ_TARGET=$t FINCH_HOME=$scratch/work/home "$bin" "${opts[@]}" "$corpus" "$seeds" >"$log" 2>&1) || true
    after=$(ls "$crashes" | wc -l)
    runs_done=$(grep -a -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
    edges=$(grep -a -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*' || echo 0)
    if ((after > before)) || ! grep -a -q 'stat::number_of_executed_units' "$log"; then
        status=1
        echo "fuzz $t: FAILED after $runs_done inputs; the input is kept in $crashes/ (log: $log)"
        grep -a -m1 -A14 -E 'ERROR|runtime failure|Fatal error|finch-fuzz:|deadly signal' "$log" | sed 's/^/    /' || tail -20 "$log"
    elif ((!short)); then
        printf 'fuzz %-12s inputs: %-8s edges: %-6s corpus: %s\n' "$t" "$runs_done" "$edges" "$(ls "$corpus" | wc -l)"
    fi
done
if ((short && status == 0)); then echo "fuzz: ${#targets[@]} targets ran their short check, no crash"; fi
exit $status
