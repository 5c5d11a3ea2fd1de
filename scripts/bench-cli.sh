#!/usr/bin/env bash
# Measures `cce-autopilot kubeconfig get` end to end, from process start to exit, against a local emulator:
# wall time of N runs (median, p90, mean, min, max) and peak RSS, next to `cce-autopilot --version` (the cost
# of starting the process at all). Uses hyperfine when it is installed (`apt-get install hyperfine`), else
# a bash loop timed with $EPOCHREALTIME; peak RSS comes from GNU time (`/usr/bin/time -f %M`).
# Everything runs on 127.0.0.1. The numbers depend on the machine and on what else runs on it.
#
# Usage: scripts/bench-cli.sh
# Environment (all optional):
#   BENCH_RUNS        measured runs per command; default 50
#   BENCH_WARMUP      unmeasured runs first; default 3
#   BENCH_RSS_RUNS    runs under /usr/bin/time for the peak RSS; default 10
#   BENCH_TIMER       hyperfine | loop; default: hyperfine if installed, else loop
#   BENCH_CLI         a built cce-autopilot binary instead of `cargo build --release -p cce-autopilot-cli`
#   BENCH_KEEP        1: keep the work directory (raw timings, logs)
set -euo pipefail

started=$SECONDS
# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" # sets root, the workspace root
runs=${BENCH_RUNS:-50}
warmup=${BENCH_WARMUP:-3}
rss_runs=${BENCH_RSS_RUNS:-10}
setup_work cce-bench-cli BENCH_KEEP "work directory kept:"

die() { printf 'FAIL bench-cli: %s\n' "$*"; exit 1; }

timer=${BENCH_TIMER:-}
if [[ -z $timer ]]; then
    if command -v hyperfine >/dev/null; then timer=hyperfine; else timer=loop; fi
fi
[[ $timer == hyperfine || $timer == loop ]] || die "BENCH_TIMER must be hyperfine or loop, not $timer"
[[ -x /usr/bin/time ]] || die "/usr/bin/time (GNU time, Debian package 'time') is needed for the peak RSS"

# ---------------------------------------------------------------------------------------------------
# 1. The release binary and the emulator
find_cli release "${BENCH_CLI:-}"
[[ -x $cli ]] || die "no executable at $cli"

log "starting: $cli emulator serve"
start_emulator 30
[[ -n $url ]] || die "the emulator printed no base URL: $(tail -n3 "$work/emulator.err")"
read_banner
cluster=$private_cluster
[[ -n $project_id && -n $ak && -n $sk && -n $cluster ]] || die "cannot parse the emulator's banner: $banner"

# The CLI sees only what the benchmark gives it: no real ~/.huaweicloud, ~/.kube or SDK variables.
mkdir -p "$work/home"
clean_env=(env -i "PATH=$PATH" "HOME=$work/home" "KUBECONFIG=$work/home/kubeconfig"
    "HUAWEICLOUD_SDK_AK=$ak" "HUAWEICLOUD_SDK_SK=$sk")
get_cmd=("$cli" --endpoint "$url" --project-id "$project_id"
    kubeconfig get --cluster-id "$cluster" --duration 30 -o "$work/kubeconfig.yaml")
version_cmd=("$cli" --version)

"${clean_env[@]}" "${get_cmd[@]}" 2>"$work/get.err" || die "kubeconfig get failed: $(tail -n3 "$work/get.err")"
grep -q "current-context: internal" "$work/kubeconfig.yaml" || die "kubeconfig get wrote no kubeconfig"

# ---------------------------------------------------------------------------------------------------
# 2. Wall time: one line per run, in nanoseconds, in $work/<name>.ns
measure() {
    local name=$1
    shift
    local out="$work/$name.ns"
    : >"$out"
    if [[ $timer == hyperfine ]]; then
        # -N: no intermediate shell, so the time is the process's own.
        "${clean_env[@]}" hyperfine -N --style none --warmup "$warmup" --runs "$runs" \
            --export-json "$work/$name.json" -- "$(printf '%q ' "$@")" >"$work/$name.hyperfine" 2>&1 ||
            die "hyperfine $name failed: $(tail -n5 "$work/$name.hyperfine")"
        python3 -c 'import json,sys
for t in json.load(open(sys.argv[1]))["results"][0]["times"]: print(round(t * 1e9))' "$work/$name.json" >"$out"
    else
        # One bash in the clean environment runs the loop, timing each run with $EPOCHREALTIME (bash 5,
        # microseconds, no fork), so the time is the process's own plus one fork+exec of bash's.
        # shellcheck disable=SC2016 # expanded by the inner bash
        "${clean_env[@]}" bash -c '
            out=$1 warmup=$2 runs=$3; shift 3
            for ((i = 0; i < warmup; i++)); do "$@" >/dev/null 2>&1 || exit 1; done
            for ((i = 0; i < runs; i++)); do
                t0=${EPOCHREALTIME/[.,]/}
                "$@" >/dev/null 2>"$out.err" || exit 1
                t1=${EPOCHREALTIME/[.,]/}
                echo $(((t1 - t0) * 1000)) >>"$out"
            done' bench-loop "$out" "$warmup" "$runs" "$@" || die "$name failed: $(tail -n3 "$out.err" 2>/dev/null)"
    fi
}

# 3. Peak RSS (KiB): one line per run in $work/<name>.rss
rss() {
    local name=$1 i
    shift
    : >"$work/$name.rss"
    for ((i = 0; i < rss_runs; i++)); do
        "${clean_env[@]}" /usr/bin/time -f %M -o "$work/$name.rss.one" "$@" >/dev/null 2>&1 || die "$name failed under time"
        tail -n1 "$work/$name.rss.one" >>"$work/$name.rss"
    done
}

log "timing with $timer: $warmup warm-up + $runs runs each"
measure version "${version_cmd[@]}"
measure get "${get_cmd[@]}"
log "peak RSS with /usr/bin/time -f %M: $rss_runs runs each"
rss version "${version_cmd[@]}"
rss get "${get_cmd[@]}"

# ---------------------------------------------------------------------------------------------------
# 4. The table (p90: nearest rank, the ceil(0.9 n)-th smallest)
stats() {
    sort -n "$1" | awk '{ v[NR] = $1; s += $1 }
        END {
            p90 = int(0.9 * NR); if (p90 < 0.9 * NR) p90++
            med = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
            printf "%5d %9.2f %8.2f %8.2f %8.2f %8.2f", NR, med / 1e6, v[p90] / 1e6, s / NR / 1e6, v[1] / 1e6, v[NR] / 1e6
        }'
}
rss_stats() {
    sort -n "$1" | awk '{ v[NR] = $1 } END { med = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
        printf "%10d %8d", med, v[NR] }'
}
echo
echo "==== cce-autopilot CLI, process start to exit, against the emulator at $url"
echo "     $("$cli" --version); $timer; $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-34s %5s %9s %8s %8s %8s %8s %10s %8s\n' command runs "median ms" "p90 ms" "mean ms" "min ms" "max ms" \
    "RSS KiB" "max KiB"
printf '%-34s %s %s\n' "cce-autopilot --version" "$(stats "$work/version.ns")" "$(rss_stats "$work/version.rss")"
printf '%-34s %s %s\n' "kubeconfig get --duration 30 -o F" "$(stats "$work/get.ns")" "$(rss_stats "$work/get.rss")"
echo "(RSS: median and max of $rss_runs runs' peak resident set size; $((SECONDS - started)) s in all)"
echo "PASS bench-cli"
