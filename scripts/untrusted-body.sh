#!/usr/bin/env bash
# A 1.5 GiB certificate answer, declared in Content-Length and sent chunked, from a hostile endpoint on
# loopback: the CLI refuses it with a clear error and its peak RSS stays under 64 MB (GNU time's "Maximum
# resident set size"). The limit is the documented 256 KiB for a certificate answer.
#   UNTRUSTED_CLI=path/to/cce-autopilot bash scripts/untrusted-body.sh
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
setup_work cce-untrusted UNTRUSTED_KEEP "kept the work directory:"
cli=${UNTRUSTED_CLI:?set UNTRUSTED_CLI to the cce-autopilot binary}
size=$((3 << 29)) # 1.5 GiB
limit_kb=$((64 * 1000))
failed=0
for mode in declared chunked; do
    python3 "$root/scripts/untrusted/huge_answer.py" "$size" "$mode" >"$work/$mode.url" &
    pids+=("$!")
    for _ in $(seq 100); do [ -s "$work/$mode.url" ] && break; sleep 0.1; done
    server=$(head -n1 "$work/$mode.url")
    set +e
    env -i PATH="$PATH" HOME="$work" HUAWEICLOUD_SDK_AK=AK HUAWEICLOUD_SDK_SK=SK \
        /usr/bin/time -v -o "$work/$mode.time" \
        "$cli" --endpoint "$server" --project-id 0123456789abcdef0123456789abcdef \
        kubeconfig get --cluster 3f0c9a1e-2b4d-4c6e-8f10-123456789abc >"$work/$mode.out" 2>"$work/$mode.err"
    code=$?
    set -e
    rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/$mode.time")
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$work/$mode.time")
    message=$(tail -n1 "$work/$mode.err")
    if [ "$code" -ne 4 ] || ! grep -q "longer than the 256 KiB" "$work/$mode.err" || [ "$rss" -ge "$limit_kb" ]; then
        echo "FAIL $mode: exit $code, peak RSS ${rss} KB (limit ${limit_kb} KB), ${wall}: $message"
        failed=$((failed + 1))
    else
        echo "PASS $mode: exit $code, peak RSS ${rss} KB (limit ${limit_kb} KB), ${wall}: $message"
    fi
done
echo "$((2 - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]
