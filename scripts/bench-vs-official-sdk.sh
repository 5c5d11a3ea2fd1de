#!/usr/bin/env bash
# Throughput of our Rust client next to the vendor's official Python SDK (huaweicloudsdkcce), on the same
# emulator instance, same cluster, same certificate duration, in the same run: after a warm-up, N sequential
# calls with one client object each (scripts/bench/official_loop.py; scripts/bench/rust-loop, a stand-alone
# program over the `cce-autopilot` crate), one thread each, no retries, in alternating rounds. Prints calls/s
# and p50/p90 latency per round, and the ratio of the median calls/s. Every call includes the emulator's own work (a new ECDSA key and certificate per call), the
# same for both clients, so the ratio understates the difference between the clients themselves.
# Everything runs on 127.0.0.1; the only network access is pip installing the SDK from PyPI (and crates.io
# for the Rust program's dependencies, normally already in the cargo cache).
#
# Usage: scripts/bench-vs-official-sdk.sh
# Environment (all optional):
#   BENCH_CALLS        measured calls per client; default 200
#   BENCH_WARMUP       unmeasured calls per client first; default 5
#   BENCH_ROUNDS       rounds (SDK loop, then Rust loop, each a new process with its warm-up); default 3;
#                      the ratio is that of the median calls/s
#   BENCH_DURATION     certificate validity in days asked for on every call; default 30
#   BENCH_VENV         virtualenv to (create and) reuse; default: a temporary one, removed at exit
#   BENCH_SDK_VERSION  huaweicloudsdkcce/huaweicloudsdkcore version; default 3.1.219
#   BENCH_CLI          a built cce-autopilot binary (for the emulator) instead of `cargo build --release`
#   BENCH_KEEP         1: keep the work directory (logs)
set -euo pipefail

started=$SECONDS
# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" # sets root, the workspace root
here="$root/scripts/bench"
calls=${BENCH_CALLS:-200}
warmup=${BENCH_WARMUP:-5}
days=${BENCH_DURATION:-30}
rounds=${BENCH_ROUNDS:-3}
sdk_version=${BENCH_SDK_VERSION:-3.1.219}
target_dir=${CARGO_TARGET_DIR:-$root/target}
setup_work cce-bench-sdk BENCH_KEEP "work directory kept:"

die() { printf 'FAIL bench-vs-official-sdk: %s\n' "$*"; exit 1; }

# ---------------------------------------------------------------------------------------------------
# 1. The official SDK in a virtualenv (as scripts/official-sdk-interop.sh installs it)
venv=${BENCH_VENV:-$work/venv}
setup_venv "$venv" "huaweicloudsdkcce==$sdk_version" "huaweicloudsdkcore==$sdk_version"
py="$venv/bin/python"

# ---------------------------------------------------------------------------------------------------
# 2. Release builds: the CLI (for the emulator) and the Rust loop, sharing the workspace's target/
find_cli release "${BENCH_CLI:-}"
[[ -x $cli ]] || die "no executable at $cli"
log "cargo build --release (scripts/bench/rust-loop, target dir $target_dir)"
# The workspace's lock file, so the loop gets the same dependency versions (cargo only adds its own entry).
cp "$root/Cargo.lock" "$here/rust-loop/Cargo.lock"
cargo build -q --release --manifest-path "$here/rust-loop/Cargo.toml" --target-dir "$target_dir"
rust_loop="$target_dir/release/cce-autopilot-bench-rust-loop"
[[ -x $rust_loop ]] || die "no executable at $rust_loop"

# ---------------------------------------------------------------------------------------------------
# 3. The emulator
log "starting: $cli emulator serve"
start_emulator 30
[[ -n $url ]] || die "the emulator printed no base URL: $(tail -n3 "$work/emulator.err")"
read_banner
cluster=$private_cluster
[[ -n $project_id && -n $ak && -n $sk && -n $cluster ]] || die "cannot parse the emulator's banner: $banner"

# ---------------------------------------------------------------------------------------------------
# 4. The two loops, one after the other, against the same emulator
# Neither client sees this machine's credentials or settings (the SDK writes ~/.huaweicloud/application_id).
mkdir -p "$work/home"
clean_env=(env -i "PATH=$PATH" "HOME=$work/home" "HUAWEICLOUD_SDK_AK=$ak" "HUAWEICLOUD_SDK_SK=$sk")
loop_args=("$url" "$project_id" "$cluster" "$days" "$calls" "$warmup")

sdk_label="official Python SDK (huaweicloudsdkcce $sdk_version)"
rust_label="Rust client (cce-autopilot, one thread)"
get() { sed -nE "s/.*(^| )$1=([^ ]+).*/\\2/p" <<<"$2"; }
row() { printf '%-6s %-48s %9.3f %9.1f %9.2f %9.2f\n' "$1" "$2" "$(get seconds "$3")" "$(get calls_per_s "$3")" \
    "$(get p50_ms "$3")" "$(get p90_ms "$3")"; }
: >"$work/sdk.cps"
: >"$work/rust.cps"
rows=()
# Alternate the clients, round after round, so a burst of load from elsewhere hits both alike.
for ((round = 1; round <= rounds; round++)); do
    log "round $round/$rounds: official SDK, $warmup warm-up + $calls calls"
    sdk_line=$("${clean_env[@]}" "$py" "$here/official_loop.py" "${loop_args[@]}" 2>"$work/sdk.err") ||
        die "official SDK loop failed: $(tail -n5 "$work/sdk.err")"
    log "round $round/$rounds: Rust client, $warmup warm-up + $calls calls"
    rust_line=$("${clean_env[@]}" "$rust_loop" "${loop_args[@]}" 2>"$work/rust.err") ||
        die "Rust loop failed: $(tail -n5 "$work/rust.err")"
    [[ -n $(get calls_per_s "$sdk_line") && -n $(get calls_per_s "$rust_line") ]] ||
        die "unreadable results: SDK '$sdk_line', Rust '$rust_line'"
    get calls_per_s "$sdk_line" >>"$work/sdk.cps"
    get calls_per_s "$rust_line" >>"$work/rust.cps"
    rows+=("$(row "$round" "$sdk_label" "$sdk_line")" "$(row "$round" "$rust_label" "$rust_line")")
done
median() { sort -g "$1" | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
sdk_cps=$(median "$work/sdk.cps")
rust_cps=$(median "$work/rust.cps")

echo
echo "==== $calls sequential calls per client and round (after $warmup warm-up), $rounds rounds, duration $days days"
echo "     cluster $cluster on the emulator $url ($("$cli" --version))"
echo "     $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-6s %-48s %9s %9s %9s %9s\n' round client seconds calls/s "p50 ms" "p90 ms"
printf '%s\n' "${rows[@]}"
printf 'median calls/s: official SDK %.1f, Rust %.1f; ratio Rust/official %.2fx (%d s in all)\n' \
    "$sdk_cps" "$rust_cps" "$(awk -v r="$rust_cps" -v s="$sdk_cps" 'BEGIN { print r / s }')" "$((SECONDS - started))"
echo "PASS bench-vs-official-sdk"
