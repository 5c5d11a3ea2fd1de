#!/usr/bin/env bash
# Prints the figures of the last `cargo bench` run (criterion's estimates under target/criterion) as a table,
# with the client's per-call time as a ratio of the raw reqwest baseline measured in the same run.
# Usage: cargo bench --workspace && scripts/bench-report.sh
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dir=${CARGO_TARGET_DIR:-$root/target}/criterion
[[ -d $dir ]] || { echo "no criterion results in $dir: run cargo bench first" >&2; exit 1; }
python3 - "$dir" <<'PY'
import json, pathlib, sys
root = pathlib.Path(sys.argv[1])
rows = {}
for est in sorted(root.glob("**/new/estimates.json")):
    bench = est.parent.parent.relative_to(root).as_posix()
    data = json.loads(est.read_text())
    rows[bench] = (data["median"]["point_estimate"], data["median"]["confidence_interval"])
def fmt(ns):
    return f"{ns/1e6:.3f} ms" if ns >= 1e6 else f"{ns/1e3:.2f} µs" if ns >= 1e3 else f"{ns:.0f} ns"
print(f"{'benchmark':<45} {'median':>12}   95% CI")
for bench, (median, ci) in rows.items():
    print(f"{bench:<45} {fmt(median):>12}   [{fmt(ci['lower_bound'])} .. {fmt(ci['upper_bound'])}]")
client, raw = rows.get("call/cce_autopilot_client"), rows.get("call/raw_reqwest_baseline")
if client and raw:
    print(f"\nclient / raw baseline: {client[0] / raw[0]:.3f} (overhead {client[0] - raw[0]:.0f} ns per call)")
raw_t = rows.get("call/raw_reqwest_baseline_with_timeout")
if client and raw_t:
    print(f"client / raw baseline with the same per-request time-out: {client[0] / raw_t[0]:.3f}")
issue = rows.get("emulator/issue_certificate_over_loopback")
if issue:
    print(f"emulator: {1e9 / issue[0]:.0f} certificates issued per second over loopback (one client, sequential)")
PY
