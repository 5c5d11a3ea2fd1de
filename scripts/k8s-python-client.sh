#!/usr/bin/env bash
# The official Kubernetes Python client (`kubernetes` on PyPI) as a second consumer of the kubeconfigs our
# CLI writes: a static entry and an exec entry (the client runs `cce-autopilot credential`), each used for
# `VersionApi().get_code()` (GET /version/) and a SelfSubjectReview against the emulator's API-server stub.
# kubectl reads the same files, so both consumers judge one file.
# Everything runs on 127.0.0.1; the only network access is pip installing the client from PyPI.
#
# Usage: scripts/k8s-python-client.sh
# Environment (all optional):
#   K8S_CLIENT_VENV     virtualenv to (create and) reuse; default: a temporary one, removed at exit
#   K8S_CLIENT_VERSION  the `kubernetes` package version; default 37.0.2
#   K8S_CLIENT_CLI      a built cce-autopilot binary instead of `cargo build -p cce-autopilot-cli`
#   K8S_CLIENT_KEEP     1: keep the work directory (kubeconfigs, logs) even when every check passes
# Prints one PASS/FAIL line per check, then a summary; exits 1 if any check failed.
set -euo pipefail

started=$SECONDS
# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" # sets root, the workspace root
version=${K8S_CLIENT_VERSION:-37.0.2}
setup_work cce-k8s-python K8S_CLIENT_KEEP "logs kept in"
results="$work/results"
: >"$results"
pass() { printf 'PASS %s: %s\n' "$1" "$2" | tee -a "$results"; }
fail() { printf 'FAIL %s: %s\n' "$1" "$2" | tee -a "$results"; }

venv=${K8S_CLIENT_VENV:-$work/venv}
setup_venv "$venv" "kubernetes==$version"
find_cli debug "${K8S_CLIENT_CLI:-}"
[[ -x $cli ]] || { fail build "no executable at $cli"; exit 1; }

start_emulator 60
[[ -n $url ]] || { fail emulator "no base URL: $(tail -n3 "$work/emulator.err" | paste -sd' ')"; exit 1; }
read_banner
mkdir -p "$work/home"
# Only what a check gives it: HOME, PATH, the emulator's keys (the exec plugin reads them too).
env_for() { env -i "PATH=$PATH" "HOME=$work/home" "HUAWEICLOUD_SDK_AK=$ak" "HUAWEICLOUD_SDK_SK=$sk" "$@"; }

for kind in static exec; do
    flags=()
    [[ $kind == exec ]] && flags=(--exec)
    if env_for "$cli" --endpoint "$url" --project-id "$project_id" kubeconfig update \
        --kubeconfig "$work/$kind.yaml" --cluster "$private_name" "${flags[@]}" 2>"$work/update-$kind.err"; then
        pass "update-$kind" "kubeconfig update --cluster $private_name ${flags[*]} -> $work/$kind.yaml"
    else
        fail "update-$kind" "$(tail -n2 "$work/update-$kind.err" | paste -sd' ')"
    fi
done

# kubectl's answer is the reference the Python client must match.
git_version=$(env_for kubectl --kubeconfig "$work/static.yaml" --request-timeout 20s get --raw /version 2>"$work/kubectl.err" |
    "$venv/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["gitVersion"])' || true)
if [[ -n $git_version ]]; then
    pass kubectl-version "kubectl get --raw /version: $git_version"
else
    fail kubectl-version "$(tail -n2 "$work/kubectl.err" | paste -sd' ')"
fi

for kind in static exec; do
    env_for "$venv/bin/python" "$root/scripts/k8s/python_client.py" --kubeconfig "$work/$kind.yaml" \
        --context "python-$kind=" --version "$git_version" --user "$ak" \
        2>"$work/python-$kind.err" | tee "$work/python-$kind.out" || true
    grep -E '^(PASS|FAIL) ' "$work/python-$kind.out" >>"$results" ||
        fail "python-$kind" "python_client.py reported nothing: $(tail -n3 "$work/python-$kind.err" | paste -sd' ')"
done

# A hostile endpoint (scripts/k8s/hostile_server.py): the emulator's genuine answer with planted fields,
# among them an exec that would create a marker file. What our CLI writes from it must load and work in
# the Python client with only the document's fields, and nothing planted may run.
marker="$work/planted-marker"
env_for "$cli" --endpoint "$url" --project-id "$project_id" kubeconfig get --cluster "$private_name" \
    --format json >"$work/genuine.json" 2>"$work/genuine.err"
"$venv/bin/python" "$root/scripts/k8s/hostile_server.py" "$work/genuine.json" "$marker" \
    >"$work/hostile.url" 2>"$work/hostile.err" &
pids+=("$!")
for _ in $(seq 100); do [[ -s $work/hostile.url ]] && break; sleep 0.1; done
hostile=$(head -n1 "$work/hostile.url")
hostile_context="cce_127.0.0.1_${private_cluster}_internal"
for kind in update get; do
    case $kind in
    update) args=(kubeconfig update --cluster "$private_cluster" --kubeconfig "$work/hostile-$kind.yaml") context=$hostile_context ;;
    get) args=(kubeconfig get --cluster "$private_cluster" -o "$work/hostile-$kind.yaml") context=internal ;;
    esac
    if env_for "$cli" --endpoint "$hostile" --project-id "$project_id" "${args[@]}" 2>"$work/hostile-$kind.err" &&
        ! grep -qE 'planted|exec|token|proxy-url|tls-server-name|namespace' "$work/hostile-$kind.yaml"; then
        pass "hostile-$kind" "$kind from a hostile endpoint wrote only the document's fields"
    else
        fail "hostile-$kind" "$(tail -n2 "$work/hostile-$kind.err" | paste -sd' ')"
    fi
    env_for "$venv/bin/python" "$root/scripts/k8s/python_client.py" --kubeconfig "$work/hostile-$kind.yaml" \
        --context "python-hostile-$kind=$context" --version "$git_version" --user "$ak" \
        2>"$work/python-hostile-$kind.err" | tee "$work/python-hostile-$kind.out" || true
    grep -E '^(PASS|FAIL) ' "$work/python-hostile-$kind.out" >>"$results" ||
        fail "python-hostile-$kind" "python_client.py reported nothing"
done
if [[ -e $marker ]]; then
    fail hostile-exec "the planted exec ran: $marker exists"
else
    pass hostile-exec "the planted exec never ran"
fi

passed=$(grep -c '^PASS ' "$results" || true)
failed=$(grep -c '^FAIL ' "$results" || true)
echo
echo "==== Kubernetes Python client $version, $((SECONDS - started)) s"
echo "$passed passed, $failed failed"
[[ $failed -eq 0 && $passed -gt 0 ]]
