#!/usr/bin/env bash
# Proves on the wire that our AK/SK signing interoperates with the vendor's official Python SDK:
#   (a) requests signed by the official SDK (huaweicloudsdkcce) are accepted by our emulator, and the
#       emulator's answers and errors are what the SDK expects;
#   (b) requests signed by our CLI are accepted by a verifier whose only signature check is the official
#       SDK's own Signer (huaweicloudsdkcore.signer.signer.Signer);
#   (i) the official SDK, given no credentials, gets them from each source of its default chain (OIDC via
#       STS, environment and profile federation, ECS metadata, pod identity) served by our emulator, is refused
#       for bad ID tokens, and renews expired temporary credentials by itself;
#   (c) our CLI, given the same variables, gets its certificate from each of those sources with the same identity
#       requests as the SDK (per request: method, path, headers, body keys, from the emulators' request logs),
#       and is refused for the same bad ID tokens (exit 3, the reason on stderr, the token not);
#   (a1-a4) the official SDK's IAM client (CreateTemporaryAccessKeyByAgency) and STS client (AssumeAgency), given a
#       user's permanent key, get an agency's temporary credentials that the SDK's CCE client then uses, and are
#       refused (403 IAM.0003, PAP5.0001) for a user the agency does not trust.
# Everything runs on 127.0.0.1; the only network access is pip installing the SDK (and, for (i), PyJWT and
# cryptography, and for a1-a4 huaweicloudsdkiam and huaweicloudsdksts) from PyPI.
#
# Usage: scripts/official-sdk-interop.sh
# Environment (all optional):
#   INTEROP_VENV         virtualenv to (create and) reuse; default: a temporary one, removed at exit
#   INTEROP_SDK_VERSION  huaweicloudsdkcce/huaweicloudsdkcore version; default 3.1.219 (signing.md's vectors)
#   INTEROP_CLI          a built cce-autopilot binary to use instead of `cargo build -p cce-autopilot-cli`
#   INTEROP_KEEP         1: keep the work directory (logs, verifier JSON log) even when every check passes
# Prints one PASS/FAIL line per check, then a summary; exits 1 if any check failed.
set -euo pipefail

started=$SECONDS
# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" # sets root, the workspace root
here="$root/scripts/interop"
sdk_version=${INTEROP_SDK_VERSION:-3.1.219}
setup_work cce-interop INTEROP_KEEP "logs kept in"
results="$work/results"
: >"$results"

pass() { printf 'PASS %s: %s\n' "$1" "$2" | tee -a "$results"; }
fail() { printf 'FAIL %s: %s\n' "$1" "$2" | tee -a "$results"; }
# Copies the PASS/FAIL lines of a Python check program into the results.
collect() { grep -E '^(PASS|FAIL) ' "$1" >>"$results" || true; }

# ---------------------------------------------------------------------------------------------------
# 1. The official SDK in a virtualenv
venv=${INTEROP_VENV:-$work/venv}
setup_venv "$venv" "huaweicloudsdkcce==$sdk_version" "huaweicloudsdkcore==$sdk_version"
py="$venv/bin/python"
sdk_versions=$(installed_versions "$py" huaweicloudsdkcce huaweicloudsdkcore)
log "official SDK: huaweicloudsdkcce, huaweicloudsdkcore $sdk_versions in $venv"

# ---------------------------------------------------------------------------------------------------
# 2. Our CLI, and the emulator
find_cli debug "${INTEROP_CLI:-}"
if [[ -n ${INTEROP_CLI:-} ]]; then log "using $cli"; fi
[[ -x $cli ]] || { fail build "no executable at $cli"; exit 1; }

mkdir -p "$work/home"
# The SDK writes ~/.huaweicloud/application_id (its User-Agent's app/<uuid>): keep it out of the real HOME.
sdk() { HOME="$work/home" "$py" "$@"; }
# The CLI never sees this machine's credentials, kubeconfig or SDK settings: only what a check gives it.
run_cli() {
    local -a vars=("PATH=$PATH" "HOME=$work/home" "KUBECONFIG=$work/home/kubeconfig")
    while [[ $1 == *=* ]]; do vars+=("$1"); shift; done
    env -i "${vars[@]}" "$cli" --timeout 20s "$@"
}

log "starting: cce-autopilot emulator serve"
start_emulator 60
emulator_url=$url

# ---------------------------------------------------------------------------------------------------
# 3. (a) the official SDK against our emulator
if [[ -z $emulator_url ]]; then
    fail a0-emulator-starts "no base URL on stdout, so the checks a1-a12 did not run; stderr: $(grep -m1 -A1 -E 'panicked|error|Error' "$work/emulator.err" | paste -sd' ' || tail -n2 "$work/emulator.err" | paste -sd' ')"
else
    read_banner
    if [[ -z $region || -z $project_id || -z $ak || -z $sk || -z $private_cluster || -z $public_cluster ||
        -z $private_name || -z $public_name ]]; then
        fail a0-emulator-starts "cannot parse the banner:"$'\n'"$banner"
    else
        pass a0-emulator-starts "$emulator_url region $region project $project_id clusters $private_cluster (private) $public_cluster (public)"
        log "official SDK -> emulator"
        sdk "$here/official_client.py" --endpoint "$emulator_url" --region "$region" --project-id "$project_id" \
            --ak "$ak" --sk "$sk" --private-cluster "$private_cluster" --public-cluster "$public_cluster" \
            --private-name "$private_name" --public-name "$public_name" \
            2>"$work/official_client.err" | tee "$work/official_client.out" || true
        collect "$work/official_client.out"
        grep -qE '^(PASS|FAIL) ' "$work/official_client.out" ||
            fail a-sdk-client "official_client.py reported nothing: $(tail -n3 "$work/official_client.err")"
    fi
fi

# ---------------------------------------------------------------------------------------------------
# 4. (b) our CLI against a verifier built on the official SDK's Signer
v_ak=HPUAEXAMPLEAK00000001
v_sk=exampleSecretKey0000000000000000000000000
v_project=0123456789abcdef0123456789abcdef
v_region=cn-north-4
v_cluster=3f0c9a1e-2b4d-4c6e-8f10-123456789abc
t_ak=$("$py" -c 'import secrets,string; print("".join(secrets.choice(string.ascii_uppercase+string.digits) for _ in range(20)))')
t_sk=$("$py" -c 'import secrets; print(secrets.token_hex(20))')
# A token with the characters real ones carry (base64: + / =), so a value that needs care reaches the server.
t_token=$("$py" -c 'import base64,secrets; print(base64.b64encode(secrets.token_bytes(95)).decode())')
vlog="$work/verifier.jsonl"
: >"$vlog"

log "starting: official_verifier.py"
sdk "$here/official_verifier.py" --credential "$v_ak:$v_sk" --credential "$t_ak:$t_sk:$t_token" \
    --project-id "$v_project" --region "$v_region" --cluster "interop-cluster=$v_cluster" \
    --log "$vlog" >"$work/verifier.out" 2>"$work/verifier.err" &
pids+=($!)
verifier_url=$(first_url "$!" "$work/verifier.out" 60)

# Checks the verifier's records written after line $1: each must match METHOD and PATH+QUERY (regexes) and
# carry verified=$4; with a non-empty $5, SignedHeaders must include that header. Prints what arrived.
expect_log() {
    "$py" - "$vlog" "$@" <<'EOF'
import json, re, sys
log, start, method, path, verified, *header = sys.argv[1:]
records = [json.loads(l) for l in open(log, encoding="utf-8").read().splitlines()[int(start):]]
want = verified == "true"
if not records:
    print("the verifier saw no request"); sys.exit(1)
ok = True
for r in records:
    heads = dict((k.lower(), v) for k, v in r["headers"])
    signed = r.get("signed_headers", "")
    line = "%s %s verified=%s signed=%s body=%r ua=%r" % (r["method"], r["path"], r["verified"], signed or "?",
                                                         r["body"], heads.get("user-agent"))
    if not r["verified"]:
        line += " reason=%s" % r.get("reason")
    good = re.fullmatch(method, r["method"]) and re.fullmatch(path, r["path"]) and r["verified"] == want \
        and (not header or not header[0] or header[0] in signed.split(";"))
    ok = ok and bool(good)
    print(("" if good else "UNEXPECTED ") + line)
sys.exit(0 if ok else 1)
EOF
}

# One CLI check: name, expected outcome (ok: a kubeconfig on stdout | ok-json: any JSON | rejected), verifier-log
# expectation args, then env and CLI args.
cli_check() {
    local name=$1 outcome=$2 method=$3 path=$4 header=$5
    shift 5
    local start rc=0 detail
    start=$(wc -l <"$vlog")
    run_cli "$@" >"$work/$name.out" 2>"$work/$name.err" || rc=$?
    detail=$(expect_log "$start" "$method" "$path" "$([[ $outcome == ok* ]] && echo true || echo false)" "$header" 2>&1) ||
        { fail "$name" "CLI exit $rc; verifier: $detail; CLI stderr: $(tail -n2 "$work/$name.err" | paste -sd' ')"; return; }
    if [[ $outcome == ok* ]]; then
        local want_kind=Config
        [[ $outcome == ok-json ]] && want_kind=
        if [[ $rc -eq 0 ]] && "$py" -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(bool(sys.argv[2]) and d.get("kind")!=sys.argv[2])' "$work/$name.out" "$want_kind" 2>/dev/null; then
            pass "$name" "CLI exit 0, ${want_kind:+kubeconfig }JSON on stdout; verifier: ${detail//$'\n'/ | }"
        else
            fail "$name" "CLI exit $rc; stderr: $(tail -n2 "$work/$name.err" | paste -sd' '); verifier: ${detail//$'\n'/ | }"
        fi
    else
        if [[ $rc -ne 0 ]] && grep -q 'APIGW.0301' "$work/$name.err"; then
            pass "$name" "CLI exit $rc: $(grep -m1 'APIGW.0301' "$work/$name.err"); verifier: ${detail//$'\n'/ | }"
        else
            fail "$name" "CLI exit $rc (want non-zero naming APIGW.0301); stderr: $(tail -n2 "$work/$name.err" | paste -sd' ')"
        fi
    fi
}

if [[ -z $verifier_url ]]; then
    fail b0-verifier-starts "no base URL on stdout; stderr: $(tail -n3 "$work/verifier.err" | paste -sd' ')"
else
    pass b0-verifier-starts "$verifier_url (huaweicloudsdkcore.signer.signer.Signer recomputes every Authorization)"
    log "official SDK -> verifier (controls: the verifier accepts good signatures and refuses bad ones)"
    sdk "$here/official_client.py" --mode control --endpoint "$verifier_url" --region "$v_region" \
        --project-id "$v_project" --ak "$v_ak" --sk "$v_sk" --private-cluster "$v_cluster" \
        2>"$work/control.err" | tee "$work/control.out" || true
    collect "$work/control.out"
    grep -qE '^(PASS|FAIL) ' "$work/control.out" ||
        fail b0-control "official_client.py --mode control reported nothing: $(tail -n3 "$work/control.err")"

    cert_path="/autopilot/v3/projects/$v_project/clusters/$v_cluster/clustercert"
    log "our CLI -> verifier"
    cli_check b1-cli-aksk ok POST "$cert_path" "" \
        "HUAWEICLOUD_SDK_AK=$v_ak" "HUAWEICLOUD_SDK_SK=$v_sk" \
        --endpoint "$verifier_url" --project-id "$v_project" \
        kubeconfig get --cluster-id "$v_cluster" --duration 30 --format json
    cli_check b2-cli-iam-project-lookup-query ok '(GET|POST)' "/v3/projects\\?name=$v_region|$cert_path" "" \
        "HUAWEICLOUD_SDK_AK=$v_ak" "HUAWEICLOUD_SDK_SK=$v_sk" \
        --region "$v_region" --endpoint "$verifier_url" --iam-endpoint "$verifier_url" \
        kubeconfig get --cluster-id "$v_cluster" --duration 30 --format json
    # expect_log accepted either request above; make sure the signed query-bearing GET really happened.
    if grep -q "\"path\": \"/v3/projects?name=$v_region\".*\"verified\": true" "$vlog"; then
        pass b2-cli-iam-query-signed "GET /v3/projects?name=$v_region verified by the SDK's Signer"
    else
        fail b2-cli-iam-query-signed "no verified GET /v3/projects?name=$v_region in the verifier's log"
    fi
    cli_check b3-cli-temporary-credentials ok POST "$cert_path" x-security-token \
        "HUAWEICLOUD_SDK_AK=$t_ak" "HUAWEICLOUD_SDK_SK=$t_sk" "HUAWEICLOUD_SDK_SECURITY_TOKEN=$t_token" \
        --endpoint "$verifier_url" --project-id "$v_project" \
        kubeconfig get --cluster-id "$v_cluster" --duration 30 --format json
    cli_check b4-cli-wrong-sk-rejected rejected POST "$cert_path" "" \
        "HUAWEICLOUD_SDK_AK=$v_ak" "HUAWEICLOUD_SDK_SK=${v_sk}x" \
        --endpoint "$verifier_url" --project-id "$v_project" \
        kubeconfig get --cluster-id "$v_cluster" --duration 30 --format json
    list_path="/autopilot/v3/projects/$v_project/clusters"
    cli_check b5-cli-cluster-by-name ok "(GET|POST)" "$list_path|$cert_path" "" \
        "HUAWEICLOUD_SDK_AK=$v_ak" "HUAWEICLOUD_SDK_SK=$v_sk" \
        --endpoint "$verifier_url" --project-id "$v_project" \
        kubeconfig get --cluster interop-cluster --duration 30 --format json
    cli_check b6-cli-list-with-query ok-json GET "$list_path\\?status=Available" "" \
        "HUAWEICLOUD_SDK_AK=$v_ak" "HUAWEICLOUD_SDK_SK=$v_sk" \
        --endpoint "$verifier_url" --project-id "$v_project" \
        clusters list --status Available --format json
fi

# ---------------------------------------------------------------------------------------------------
# 5. (i) the official SDK's default credential chain, one source at a time, and (c) our CLI with the same
# configuration, against emulators with an identity file: one with a `metadata:` section, one without (its ECS
# metadata answers 401 "Please configure Cloud Service Agency first", so the chain goes on to pod identity). Both
# run with --admin: the first one's clock is moved (PUT /_emulator/clock-offset), and both request logs
# (GET /_emulator/requests) give each run's requests, so that the SDK's and the CLI's can be compared.
# PyJWT mints the ID tokens, cryptography makes the keys and reads the certificates' CN. Then (g1-g4) the SDK's own
# IAM client (huaweicloudsdkiam, CreateTemporaryAccessKeyByAgency) and STS client (huaweicloudsdksts, AssumeAgency)
# assume the agency with a user's permanent key (both exist in 3.1.219 on PyPI; a missing one fails the run).
setup_venv "$venv" "huaweicloudsdkcce==$sdk_version" "huaweicloudsdkcore==$sdk_version" \
    "huaweicloudsdkiam==$sdk_version" "huaweicloudsdksts==$sdk_version" PyJWT==2.15.1 cryptography==51.0.1
idir="$work/identity"
log "identity checks: keys, JWK Set and identity files in $idir"
if ! sdk "$here/identity_chain.py" setup --dir "$idir" >"$work/identity-setup.out" 2>&1; then
    fail i0-identity-setup "identity_chain.py setup failed: $(tail -n3 "$work/identity-setup.out" | paste -sd' ')"
else
    log "starting: cce-autopilot emulator serve --identity-file (twice)"
    start_named_emulator identity-emulator 60 --identity-file "$idir/identity.yaml" --admin
    identity_url=$url
    start_named_emulator no-metadata-emulator 60 --identity-file "$idir/identity-no-metadata.yaml" --admin
    no_metadata_url=$url
    if [[ -z $identity_url || -z $no_metadata_url ]]; then
        fail i0-identity-emulators-start "no base URL on stdout; stderr: $(tail -n2 "$work/identity-emulator.err" \
            "$work/no-metadata-emulator.err" | paste -sd' ')"
    else
        read_banner "$work/identity-emulator.out"
        if [[ -z $region || -z $project_id || -z $private_cluster ]]; then
            fail i0-identity-emulators-start "cannot parse the banner:"$'\n'"$banner"
        else
            pass i0-identity-emulators-start "$identity_url (identity.yaml), $no_metadata_url (no metadata:), --admin"
            log "official SDK default credential chain, and our CLI with the same configuration -> emulators"
            sdk "$here/identity_chain.py" run --dir "$idir" --url "$identity_url" --no-metadata-url "$no_metadata_url" \
                --region "$region" --project-id "$project_id" --cluster "$private_cluster" --cli "$cli" \
                --user-ak "$ak" --user-sk "$sk" \
                2>"$work/identity_chain.err" | tee "$work/identity_chain.out" || true
            collect "$work/identity_chain.out"
            grep -qE '^(PASS|FAIL) ' "$work/identity_chain.out" ||
                fail i-identity-chain "identity_chain.py reported nothing: $(tail -n3 "$work/identity_chain.err")"
        fi
    fi
fi

# ---------------------------------------------------------------------------------------------------
# 6. Summary
passed=$(grep -c '^PASS ' "$results" || true)
failed=$(grep -c '^FAIL ' "$results" || true)
echo
echo "==== official SDK interop (huaweicloudsdkcce $sdk_version), $((SECONDS - started)) s"
sed -E 's/^((PASS|FAIL) [^:]*):.*/\1/' "$results"
echo "$passed passed, $failed failed"
[[ $failed -eq 0 && $passed -gt 0 ]]
