#!/usr/bin/env bash
# The CLI where users feel it, side by side in one run, against a local emulator (everything on 127.0.0.1):
#   - `cce-autopilot --version` (the cost of starting the process at all), the exec plugin warm (cache hit)
#     and cold (cache emptied before each run), a cold `kubeconfig get`, and, as the peer, `aws eks
#     get-token` (awscli from PyPI in a throw-away virtualenv, dummy credentials, offline);
#   - kubectl through our exec entry vs. kubectl with the certificate embedded (`get --raw /version`), and
#     through the same entry running /bin/cat on a saved ExecCredential (the floor of any plugin);
#   - `kubeconfig update --all` over 100 emulator clusters into a new file;
#   - one merge into kubeconfigs of 1k, 10k and 30k contexts, beside `kubectl config set-context` on the same
#     files (each run on a fresh copy), with peak RSS;
#   - a fleet: `update --all --all-regions --all-projects` against `emulator serve --fleet 10x5x20` (1,000
#     clusters in 50 projects of 10 regions) with 50 ms latency on every call, into a new file (wall time and
#     peak RSS at the default concurrency, kubectl counting the distinct contexts), and once more with 429 +
#     `Retry-After: 1` on every tenth call (every cluster merged, the waits counted).
# Every command runs in rounds (BENCH_ROUNDS rounds of BENCH_RUNS/BENCH_ROUNDS runs, the commands taking
# turns), so that a slow spell of the machine hits them all; the table shows medians over all runs, p90,
# peak RSS (GNU time) and the ratios the targets in docs/PERFORMANCE.md are stated in. Timing: hyperfine -N.
#
# Usage: scripts/bench-cli.sh
# Environment (all optional):
#   BENCH_RUNS         runs per command, at least 30; default 30
#   BENCH_ROUNDS       rounds the runs are spread over; default 5
#   BENCH_MERGE_SIZES  context counts of the merge files; default "1000 10000 30000"
#   BENCH_AWS_VENV     virtualenv for awscli to (create and) reuse; default: a temporary one
#   BENCH_AWSCLI       awscli version; default 1.46.3
#   BENCH_CLI          a built cce-autopilot binary instead of `cargo build --release -p cce-autopilot-cli`
#   BENCH_KEEP         1: keep the work directory (raw timings, files)
#   BENCH_SECTIONS     which parts run: "cli", "fleet" or both; default "cli fleet"
#   BENCH_FLEET_RUNS   timed runs of the fleet update; default 10
set -euo pipefail

started=$SECONDS
# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" # sets root, the workspace root
runs=${BENCH_RUNS:-30}
rounds=${BENCH_ROUNDS:-5}
sizes=${BENCH_MERGE_SIZES:-1000 10000 30000}
awscli_version=${BENCH_AWSCLI:-1.46.3}
setup_work cce-bench-cli BENCH_KEEP "work directory kept:"
die() { printf 'FAIL bench-cli: %s\n' "$*"; exit 1; }
command -v hyperfine >/dev/null || die "hyperfine is needed (apt-get install hyperfine)"
[[ -x /usr/bin/time ]] || die "/usr/bin/time (GNU time, Debian package 'time') is needed for the peak RSS"
(( runs >= 30 )) || die "BENCH_RUNS must be at least 30"
per_round=$(( (runs + rounds - 1) / rounds ))

# ---------------------------------------------------------------------------------------------------
# 1. The binary, the emulator (the demo clusters plus 100 more), the peer
find_cli release "${BENCH_CLI:-}"
[[ -x $cli ]] || die "no executable at $cli"
sections=" ${BENCH_SECTIONS:-cli fleet} "

# ---------------------------------------------------------------------------------------------------
# 0. The fleet: 1,000 clusters behind one emulator with 50 ms per call, then the same with throttling.
bench_fleet() {
    local runs=${BENCH_FLEET_RUNS:-10} fleet_url fleet_ak fleet_sk
    log "fleet: emulator serve --fleet 10x5x20, latency 50 ms on every CCE and IAM call"
    start_named_emulator fleet 120 --fleet 10x5x20 --fault latency=50ms --fault scope=gateway
    fleet_url=$url
    [[ -n $fleet_url ]] || die "the fleet emulator printed no base URL: $(tail -n3 "$work/fleet.err")"
    read_banner "$work/fleet.out"
    fleet_ak=$ak fleet_sk=$sk
    mkdir -p "$work/fleet-home"
    local fenv=(env -i "PATH=$PATH" "HOME=$work/fleet-home" "KUBECONFIG=$work/fleet-home/none"
        "HUAWEICLOUD_SDK_AK=$fleet_ak" "HUAWEICLOUD_SDK_SK=$fleet_sk" "CCE_AUTOPILOT_METADATA_DISABLED=1"
        "NO_PROXY=127.0.0.1" "no_proxy=127.0.0.1")
    local run=("$cli" --endpoint "$fleet_url" --iam-endpoint "$fleet_url" kubeconfig update --all
        --all-regions --all-projects --format json)
    # Correctness first: one run, every cluster merged, kubectl lists 1,000 distinct contexts.
    "${fenv[@]}" "${run[@]}" --kubeconfig "$work/fleet.yaml" >"$work/fleet.json" 2>"$work/fleet.run.err" ||
        die "fleet update: $(tail -n3 "$work/fleet.run.err")"
    local contexts distinct
    contexts=$(kubectl --kubeconfig "$work/fleet.yaml" config get-contexts -o name | wc -l)
    distinct=$(kubectl --kubeconfig "$work/fleet.yaml" config get-contexts -o name | sort -u | wc -l)
    [[ $contexts == 1000 && $distinct == 1000 ]] || die "kubectl lists $contexts contexts ($distinct distinct), not 1000"
    python3 - "$work/fleet.json" <<'PY' || die "the fleet report does not show 1,000 merged clusters"
import json, sys
fleet = json.load(open(sys.argv[1]))["fleet"]
ok = [c for c in fleet["clusters"] if c["outcome"] == "ok"]
assert len(ok) == 1000 and not fleet["failed-projects"], (len(ok), fleet["failed-projects"])
PY
    log "fleet: $runs timed runs into a new file (hyperfine -N), then peak RSS of 3"
    "${fenv[@]}" hyperfine -N --style none --runs "$runs" --warmup 1 --export-json "$work/fleet-time.json" \
        --prepare "rm -f $work/fleet-t.yaml $work/fleet-t.yaml.bak" \
        -- "$(printf '%q ' "${run[@]}" --kubeconfig "$work/fleet-t.yaml")" >"$work/fleet.hyperfine" 2>&1 ||
        die "fleet timing: $(tail -n5 "$work/fleet.hyperfine")"
    : >"$work/fleet.rss"
    for _ in 1 2 3; do
        rm -f "$work/fleet-t.yaml" "$work/fleet-t.yaml.bak"
        "${fenv[@]}" /usr/bin/time -f %M -o "$work/fleet.rss.one" "${run[@]}" --kubeconfig "$work/fleet-t.yaml" \
            >/dev/null 2>&1 || die "fleet update failed under time"
        tail -n1 "$work/fleet.rss.one" >>"$work/fleet.rss"
    done
    # The peer: the shell loop a fleet needed before, one `update --all` per project (3 runs, each into a new
    # file; its names collide across projects, which the merge resolves with project suffixes).
    "${fenv[@]}" "$cli" --endpoint "$fleet_url" --iam-endpoint "$fleet_url" clusters list --all-projects \
        --format json >"$work/fleet-list.json" 2>/dev/null || die "fleet clusters list failed"
    python3 -c 'import json,sys; print("\n".join(sorted({c["region"]+" "+c["project-id"] for c in json.load(open(sys.argv[1]))})))' \
        "$work/fleet-list.json" >"$work/fleet-projects.txt"
    [[ $(wc -l <"$work/fleet-projects.txt") == 50 ]] || die "the fleet list does not name 50 projects"
    log "fleet: the shell loop it replaces, one update --all per project, 3 runs"
    : >"$work/fleet-loop.s"
    for _ in 1 2 3; do
        rm -f "$work/loop.yaml" "$work/loop.yaml.bak"
        local t0 t1
        t0=$(date +%s.%N)
        while read -r region project; do
            "${fenv[@]}" "$cli" --endpoint "$fleet_url" --iam-endpoint "$fleet_url" --region "$region" \
                --project-id "$project" kubeconfig update --all --kubeconfig "$work/loop.yaml" \
                >/dev/null 2>&1 || die "loop update failed for $region $project"
        done <"$work/fleet-projects.txt"
        t1=$(date +%s.%N)
        awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }' >>"$work/fleet-loop.s"
    done
    log "fleet: the same fleet answering 429 + Retry-After: 1 to every tenth call"
    start_named_emulator throttled 120 --fleet 10x5x20 --fault latency=50ms --fault scope=gateway \
        --fault 429=every:10 --fault retry-after=1s
    [[ -n $url ]] || die "the throttled emulator printed no base URL: $(tail -n3 "$work/throttled.err")"
    local throttled_started=$SECONDS
    "${fenv[@]}" "$cli" --endpoint "$url" --iam-endpoint "$url" kubeconfig update --all --all-regions \
        --all-projects --format json --kubeconfig "$work/throttled.yaml" >"$work/throttled.json" \
        2>"$work/throttled.err.run" || die "throttled fleet update: $(tail -n3 "$work/throttled.err.run")"
    local throttled_seconds=$((SECONDS - throttled_started))
    echo
    echo "==== fleet: update --all --all-regions --all-projects, 1,000 clusters (10x5x20), 50 ms per call"
    python3 - "$work" "$throttled_seconds" <<'PY'
import json, statistics, sys
work, throttled_seconds = sys.argv[1], sys.argv[2]
times = json.load(open(f"{work}/fleet-time.json"))["results"][0]["times"]
kib = sorted(int(l) for l in open(f"{work}/fleet.rss") if l.strip())
med = statistics.median(times)
print(f"wall time: median {med:.2f} s (min {min(times):.2f}, max {max(times):.2f}, {len(times)} runs)  (target <= 3 s: {'met' if med <= 3 else 'NOT met'})")
loop = sorted(float(l) for l in open(f"{work}/fleet-loop.s") if l.strip())
print(f"the shell loop it replaces (50 x update --all, one project each): median {loop[len(loop) // 2]:.2f} s of {len(loop)} runs: "
      f"{loop[len(loop) // 2] / med:.1f}x the fleet run")
rss = kib[len(kib) // 2] / 1024
print(f"peak RSS:  median {rss:.1f} MiB of {len(kib)} runs  (target <= 64 MiB: {'met' if rss <= 64 else 'NOT met'})")
fleet = json.load(open(f"{work}/throttled.json"))["fleet"]
ok = sum(c["outcome"] == "ok" for c in fleet["clusters"])
t = fleet["throttling"]
print(f"429 + Retry-After: 1 on every tenth call: {ok} of 1000 merged in {throttled_seconds} s; "
      f"{t['waits']} waits, the fleet held {t['paused-seconds']:.1f} s in all")
assert ok == 1000 and t["waits"] > 0, "the throttled run lost clusters or counted no wait"
PY
    kubectl --kubeconfig "$work/throttled.yaml" config get-contexts -o name | sort -u | wc -l |
        grep -qx 1000 || die "after the throttled run kubectl does not list 1,000 distinct contexts"
}
if [[ $sections == *" fleet "* ]]; then
    bench_fleet
fi
if [[ $sections != *" cli "* ]]; then
    echo "($((SECONDS - started)) s in all)"
    echo "PASS bench-cli"
    exit 0
fi

extra=()
for i in $(seq -w 1 100); do
    extra+=(--cluster "bench-$i=00000000-0000-4000-8000-000000000$i")
done
start_emulator 60 "${extra[@]}"
[[ -n $url ]] || die "the emulator printed no base URL: $(tail -n3 "$work/emulator.err")"
read_banner
cluster=$private_cluster
[[ -n $project_id && -n $ak && -n $sk && -n $cluster ]] || die "cannot parse the emulator's banner"

venv=${BENCH_AWS_VENV:-$work/aws-venv}
setup_venv "$venv" "awscli==$awscli_version"

home="$work/home"
mkdir -p "$home"
cache="$work/cache"
exec_info='{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","spec":{"interactive":false}}'
# Only what the benchmark gives: no real ~/.huaweicloud, ~/.kube, ~/.aws or SDK variables.
clean_env=(env -i "PATH=$PATH" "HOME=$home" "KUBECONFIG=$home/kubeconfig" "HUAWEICLOUD_SDK_AK=$ak"
    "HUAWEICLOUD_SDK_SK=$sk" "KUBERNETES_EXEC_INFO=$exec_info" "CCE_AUTOPILOT_CACHE_DIR=$cache"
    "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE" "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    "AWS_DEFAULT_REGION=us-east-1" "AWS_EC2_METADATA_DISABLED=true" "NO_PROXY=127.0.0.1,127.0.0.2"
    "no_proxy=127.0.0.1,127.0.0.2")
service=(--endpoint "$url" --project-id "$project_id")
plugin=("$cli" credential --cluster "$cluster" "${service[@]}")

# Files the kubectl rows use: one static entry, one exec entry.
"${clean_env[@]}" "$cli" "${service[@]}" kubeconfig update --kubeconfig "$work/static.yaml" \
    --cluster "$private_name" 2>"$work/setup.err" || die "update: $(tail -n2 "$work/setup.err")"
"${clean_env[@]}" "$cli" "${service[@]}" kubeconfig update --kubeconfig "$work/exec.yaml" \
    --cluster "$private_name" --exec 2>"$work/setup.err" || die "update --exec: $(tail -n2 "$work/setup.err")"
"${clean_env[@]}" "${plugin[@]}" >"$work/credential.json" 2>"$work/setup.err" ||
    die "credential: $(tail -n2 "$work/setup.err")"
# The floor of any exec plugin: the same entry running /bin/cat on the ExecCredential ours printed.
python3 - "$work/exec.yaml" "$work/cat.yaml" "$work/credential.json" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
text = re.sub(r"command: .*", "command: /bin/cat", text)
text = re.sub(r"args:\n(\s+- .*\n)+", "args:\n      - %s\n" % sys.argv[3], text)
open(sys.argv[2], "w").write(text)
PY
"${clean_env[@]}" "$venv/bin/aws" eks get-token --cluster-name bench >/dev/null 2>"$work/setup.err" ||
    die "aws eks get-token: $(tail -n2 "$work/setup.err")"

# Merge files: N contexts, clusters and users of other tools, in kubectl's layout.
for n in $sizes; do
    python3 - "$work/ctx-$n.yaml" "$n" <<'PY'
import sys
path, n = sys.argv[1], int(sys.argv[2])
ca = "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUJkekNDQVIyZ0F3SUJBZ0lCQURBS0JnZ3Foa2pPUFFRREFqQWpNU0V3SHdZRFZRUURE" * 4
with open(path, "w") as f:
    f.write("apiVersion: v1\nkind: Config\npreferences: {}\nclusters:\n")
    for i in range(n):
        f.write(f"- name: team-{i}\n  cluster:\n    server: https://10.{i // 65536}.{i // 256 % 256}.{i % 256}:6443\n"
                f"    certificate-authority-data: {ca}\n")
    f.write("contexts:\n")
    for i in range(n):
        f.write(f"- name: team-{i}\n  context:\n    cluster: team-{i}\n    user: team-{i}\n    namespace: ns-{i}\n")
    f.write("current-context: team-0\nusers:\n")
    for i in range(n):
        f.write(f"- name: team-{i}\n  user:\n    token: t0k3n-{i:08d}\n")
PY
done

# ---------------------------------------------------------------------------------------------------
# 2. Rows: name, then the command; prepare commands (run before each timed run, untimed) in prepare[name]
declare -A prepare
names=()
commands=()
row() { names+=("$1"); shift; commands+=("$(printf '%q ' "$@")"); }

row version "$cli" --version
row credential-warm "${plugin[@]}"
row credential-cold "${plugin[@]}"
prepare[credential-cold]="rm -rf $cache"
row kubeconfig-get "$cli" "${service[@]}" kubeconfig get --cluster "$cluster" -o "$work/get.yaml"
row aws-eks-get-token "$venv/bin/aws" eks get-token --cluster-name bench
row kubectl-exec kubectl --kubeconfig "$work/exec.yaml" --request-timeout 20s get --raw /version
row kubectl-embedded kubectl --kubeconfig "$work/static.yaml" --request-timeout 20s get --raw /version
row kubectl-exec-cat kubectl --kubeconfig "$work/cat.yaml" --request-timeout 20s get --raw /version
row update-all-100 "$cli" "${service[@]}" kubeconfig update --all --kubeconfig "$work/all.yaml"
prepare[update-all-100]="rm -f $work/all.yaml $work/all.yaml.bak"
for n in $sizes; do
    row "merge-$n" "$cli" "${service[@]}" kubeconfig update --kubeconfig "$work/merge-$n.yaml" --cluster "$private_name"
    prepare[merge-$n]="cp $work/ctx-$n.yaml $work/merge-$n.yaml"
    row "kubectl-set-context-$n" kubectl config set-context bench --cluster team-1 --user team-1 \
        --kubeconfig "$work/kubectl-$n.yaml"
    prepare[kubectl-set-context-$n]="cp $work/ctx-$n.yaml $work/kubectl-$n.yaml"
done

# ---------------------------------------------------------------------------------------------------
# 3. Time: the rows take turns, round after round; each round's times are appended to $work/<name>.s
log "timing: ${#names[@]} rows, $rounds rounds of $per_round runs (hyperfine -N), one warm-up per round"
for ((r = 1; r <= rounds; r++)); do
    for i in "${!names[@]}"; do
        name=${names[$i]}
        args=(-N --style none --runs "$per_round" --warmup 1 --export-json "$work/$name.$r.json")
        [[ -n ${prepare[$name]:-} ]] && args+=(--prepare "${prepare[$name]}")
        "${clean_env[@]}" hyperfine "${args[@]}" -- "${commands[$i]}" >"$work/$name.hyperfine" 2>&1 ||
            die "$name: $(tail -n5 "$work/$name.hyperfine")"
    done
    log "round $r of $rounds done ($((SECONDS - started)) s)"
done

# 4. Peak RSS (KiB), 5 runs each, after its prepare command
log "peak RSS with /usr/bin/time -f %M"
for i in "${!names[@]}"; do
    name=${names[$i]}
    : >"$work/$name.rss"
    for _ in 1 2 3 4 5; do
        [[ -n ${prepare[$name]:-} ]] && eval "${prepare[$name]}"
        eval "${clean_env[*]@Q} /usr/bin/time -f %M -o $work/$name.rss.one ${commands[$i]}" >/dev/null 2>&1 ||
            die "$name failed under time"
        tail -n1 "$work/$name.rss.one" >>"$work/$name.rss"
    done
done

# ---------------------------------------------------------------------------------------------------
# 5. The table and the ratios
echo
echo "==== cce-autopilot CLI side by side, $("$cli" --version), against the emulator at $url"
echo "     hyperfine -N, $runs+ runs per row in $rounds interleaved rounds; $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$work" "$sizes" "${names[@]}" <<'PY'
import glob, json, os, statistics, sys
work, sizes, names = sys.argv[1], sys.argv[2].split(), sys.argv[3:]
med, p90, rss = {}, {}, {}
for n in names:
    times = sorted(t for f in sorted(glob.glob(f"{work}/{n}.*.json")) for t in json.load(open(f))["results"][0]["times"])
    med[n] = statistics.median(times)
    p90[n] = times[min(len(times) - 1, -(-9 * len(times) // 10) - 1)]
    kib = sorted(int(l) for l in open(f"{work}/{n}.rss") if l.strip())
    rss[n] = kib[len(kib) // 2]
    runs = len(times)
    print(f"{n:<28} {runs:>4} runs  median {med[n]*1e3:9.2f} ms  p90 {p90[n]*1e3:9.2f} ms  peak RSS {rss[n]/1024:7.1f} MiB")
print()
def ratio(label, a, b, target=None):
    r = med[a] / med[b]
    verdict = "" if target is None else ("  (target <= %.2fx: %s)" % (target, "met" if r <= target else "NOT met"))
    print(f"{label:<58} {r:6.2f}x{verdict}")
ratio("credential warm / --version", "credential-warm", "version", 1.5)
ratio("kubectl via the exec entry / kubectl with the cert embedded", "kubectl-exec", "kubectl-embedded", 1.05)
ratio("  kubectl's own exec floor (/bin/cat as the plugin) / embedded", "kubectl-exec-cat", "kubectl-embedded")
ratio("  our plugin / that floor", "kubectl-exec", "kubectl-exec-cat")
ratio("aws eks get-token (peer) / credential warm", "aws-eks-get-token", "credential-warm")
ratio("credential cold / credential warm", "credential-cold", "credential-warm")
print(f"{'kubeconfig get (cold) median, peak RSS':<58} {med['kubeconfig-get']*1e3:6.2f} ms, {rss['kubeconfig-get']/1024:.1f} MiB  (target <= 5 ms, <= 12 MiB)")
print(f"{'update --all over 100 clusters':<58} {med['update-all-100']:6.3f} s   (target <= 0.5 s)")
print()
print(f"{'contexts':>9} {'file MiB':>9} {'ours ms':>9} {'ms/1k':>7} {'RSS/file':>9} {'kubectl ms':>11} {'kubectl MiB':>12} {'kubectl/ours':>13}")
for n in sizes:
    size = os.path.getsize(f"{work}/ctx-{n}.yaml") / 2**20
    ours, theirs = med[f"merge-{n}"], med[f"kubectl-set-context-{n}"]
    print(f"{n:>9} {size:>9.2f} {ours*1e3:>9.1f} {ours*1e6/int(n):>7.2f} {rss[f'merge-{n}']/1024/size:>8.1f}x "
          f"{theirs*1e3:>11.1f} {rss[f'kubectl-set-context-{n}']/1024:>12.1f} {theirs/ours:>12.2f}x")
print("(targets: time per 1k contexts about constant — linear growth; peak RSS <= 10x the file's size)")
PY
echo "($((SECONDS - started)) s in all)"
echo "PASS bench-cli"
