#!/usr/bin/env bash
# On a machine that is no ECS server, the credential chain's metadata probe ends at its first failed call:
# with the metadata endpoint at a loopback listener that accepts and never answers, and no other source,
# `kubeconfig get` exits 3 listing all five sources within the SDK's 3 s metadata time-out plus a margin.
# Prints the measured time (five runs); fails when a run exceeds the bound or the error is not the one.
#   PROBE_CLI=path/to/cce-autopilot bash scripts/metadata-probe.sh
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
setup_work cce-metadata-probe PROBE_KEEP "kept the work directory:"
cli=${PROBE_CLI:?set PROBE_CLI to the cce-autopilot binary}
bound_ms=$((3000 + 2000)) # the metadata read time-out, and a margin for process start and a loaded machine
# A listener that accepts connections (the kernel's backlog does) and never answers.
python3 -c 'import socket,sys,time
s=socket.socket(); s.bind(("127.0.0.1",0)); s.listen(16)
print("http://127.0.0.1:%d" % s.getsockname()[1], flush=True); time.sleep(600)' >"$work/silent.url" &
pids+=("$!")
for _ in $(seq 100); do [ -s "$work/silent.url" ] && break; sleep 0.1; done
silent=$(head -n1 "$work/silent.url")
failed=0
for run in 1 2 3 4 5; do
    start=$(date +%s%N)
    set +e
    env -i PATH="$PATH" HOME="$work" CCE_AUTOPILOT_METADATA_ENDPOINT="$silent" \
        "$cli" --endpoint http://127.0.0.1:9 --project-id 0123456789abcdef0123456789abcdef \
        kubeconfig get --cluster c1 >"$work/out" 2>"$work/err"
    code=$?
    set -e
    ms=$((($(date +%s%N) - start) / 1000000))
    sources=$(grep -cE '^  - (OIDC via STS|the environment|the profile file|the ECS metadata service|pod identity)' "$work/err" || true)
    if [ "$code" -ne 3 ] || [ "$sources" -ne 5 ] || [ "$ms" -gt "$bound_ms" ]; then
        echo "FAIL run $run: exit $code, $sources of 5 sources listed, ${ms} ms (bound ${bound_ms} ms)"
        sed 's/^/    /' "$work/err"
        failed=$((failed + 1))
    else
        echo "PASS run $run: exit 3, 5 sources listed, ${ms} ms (bound ${bound_ms} ms)"
    fi
done
echo "$((5 - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]
