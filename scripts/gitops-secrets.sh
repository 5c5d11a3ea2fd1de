#!/usr/bin/env bash
# The Secrets `kubeconfig export` writes, judged as their consumers read them, and the manifests of deploy/:
#   - every exported Secret (argocd, flux, capi) passes kubernetes-validate --strict (PyPI, offline schemas)
#     for the Kubernetes version the emulator's API-server stub reports;
#   - each has exactly its consumer's keys, type and labels, and its credentials reach the stub over mTLS
#     (scripts/gitops/check_secrets.py: the Kubernetes Python client for Flux and Cluster API, a TLS client
#     built from tlsClientConfig for Argo CD);
#   - a second export with --renew-within and --from the first is byte-identical to it;
#   - every manifest of deploy/ passes kubernetes-validate --strict.
# Everything runs on 127.0.0.0/8; the only network access is pip installing the judges from PyPI.
#
# Usage: scripts/gitops-secrets.sh
# Environment (all optional):
#   GITOPS_VENV    virtualenv to (create and) reuse; default: a temporary one
#   GITOPS_CLI     a built cce-autopilot binary instead of `cargo build -p cce-autopilot-cli`
#   GITOPS_KEEP    1: keep the work directory
set -euo pipefail

started=$SECONDS
# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" # sets root, the workspace root
setup_work cce-gitops GITOPS_KEEP "work directory kept:"
results="$work/results"
: >"$results"
pass() { printf 'PASS %s: %s\n' "$1" "$2" | tee -a "$results"; }
fail() { printf 'FAIL %s: %s\n' "$1" "$2" | tee -a "$results"; }

venv=${GITOPS_VENV:-$work/venv}
setup_venv "$venv" "kubernetes==37.0.2" "kubernetes-validate==1.37.0"
find_cli debug "${GITOPS_CLI:-}"
[[ -x $cli ]] || { fail build "no executable at $cli"; exit 1; }

start_emulator 60
[[ -n $url ]] || { fail emulator "no base URL: $(tail -n3 "$work/emulator.err" | paste -sd' ')"; exit 1; }
read_banner
mkdir -p "$work/home"
env_for() { env -i "PATH=$PATH" "HOME=$work/home" "HUAWEICLOUD_SDK_AK=$ak" "HUAWEICLOUD_SDK_SK=$sk" \
    "CCE_AUTOPILOT_METADATA_DISABLED=1" "NO_PROXY=127.0.0.1,127.0.0.2" "no_proxy=127.0.0.1,127.0.0.2" "$@"; }
service=(--endpoint "$url" --project-id "$project_id")

# The version the stub reports, through a kubeconfig our CLI wrote, as kubectl reads it.
env_for "$cli" "${service[@]}" kubeconfig update --kubeconfig "$work/kubeconfig" --cluster "$private_name" \
    2>"$work/update.err" || { fail update "$(tail -n2 "$work/update.err" | paste -sd' ')"; exit 1; }
git_version=$(env_for kubectl --kubeconfig "$work/kubeconfig" --request-timeout 20s get --raw /version |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["gitVersion"])')
k8s_version=$(sed -E 's/^v([0-9]+)\.([0-9]+).*/\1.\2.0/' <<<"$git_version")
pass stub-version "the stub reports $git_version: validating against Kubernetes $k8s_version"

files=()
for format in argocd flux capi; do
    # The public cluster's external endpoint, verified with the cluster CA under the name its certificate holds.
    if env_for "$cli" "${service[@]}" kubeconfig export --format "$format" --all --tls-server-name kubernetes \
        -o "$work/$format.yaml" 2>"$work/export-$format.err"; then
        pass "export-$format" "$(tail -n1 "$work/export-$format.err")"
    else
        fail "export-$format" "$(tail -n2 "$work/export-$format.err" | paste -sd' ')"
        continue
    fi
    if "$venv/bin/kubernetes-validate" -k "$k8s_version" --strict --quiet "$work/$format.yaml" \
        >"$work/validate-$format.out" 2>&1; then
        pass "validate-$format" "kubernetes-validate --strict -k $k8s_version"
    else
        fail "validate-$format" "$(tail -n3 "$work/validate-$format.out" | paste -sd' ')"
    fi
    env_for "$cli" "${service[@]}" kubeconfig export --format "$format" --all --tls-server-name kubernetes \
        --renew-within 1d --from "$work/$format.yaml" -o "$work/$format-again.yaml" 2>"$work/again-$format.err" || true
    if cmp -s "$work/$format.yaml" "$work/$format-again.yaml"; then
        pass "stable-$format" "a second export of the same certificates is byte-identical"
    else
        fail "stable-$format" "the second export differs: $(tail -n1 "$work/again-$format.err")"
    fi
    files+=("$format=$work/$format.yaml")
done
env_for "$venv/bin/python" "$root/scripts/gitops/check_secrets.py" --version "$git_version" "${files[@]}" \
    2>"$work/check.err" | tee -a "$results" >/dev/null || true
grep -qE '^(PASS|FAIL) argocd-.*-mtls' "$results" ||
    fail check-secrets "check_secrets.py reported nothing: $(tail -n3 "$work/check.err" | paste -sd' ')"
grep -E '^(PASS|FAIL) (argocd|flux|capi)-' "$results" | sed 's/^/  /' >&2 || true

for manifest in "$root"/deploy/*.yaml; do
    if "$venv/bin/kubernetes-validate" -k "$k8s_version" --strict --quiet "$manifest" >"$work/deploy.out" 2>&1; then
        pass "deploy-$(basename "$manifest")" "kubernetes-validate --strict -k $k8s_version"
    else
        fail "deploy-$(basename "$manifest")" "$(tail -n3 "$work/deploy.out" | paste -sd' ')"
    fi
done

passed=$(grep -c '^PASS' "$results" || true)
failed=$(grep -c '^FAIL' "$results" || true)
echo "gitops-secrets: $passed passed, $failed failed ($((SECONDS - started)) s)"
[[ $failed == 0 ]]
