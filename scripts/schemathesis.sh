#!/usr/bin/env bash
# Fuzzes our emulator against the contract with schemathesis: every response of
# `cce-autopilot emulator serve` to generated (valid and invalid) requests must be documented by
# openapi/cce-autopilot.yaml — status code, content type, headers, body schema — and no request may make
# it answer 5XX. Runs all of schemathesis' checks (`--checks all`) in its examples, coverage and fuzzing
# phases, bounded by --max-examples and a hard time limit.
# Everything runs on 127.0.0.1; the only network access is pip installing schemathesis from PyPI.
#
# Usage: scripts/schemathesis.sh [extra `schemathesis run` options]
# Environment (all optional):
#   SCHEMATHESIS_VENV          virtualenv to (create and) reuse; default: a temporary one, removed at exit
#   SCHEMATHESIS_VERSION       default 4.32.5 (the flags below are that version's)
#   SCHEMATHESIS_MAX_EXAMPLES  test cases per phase and operation; default 100
#   SCHEMATHESIS_MAX_TIME      seconds: schemathesis' --max-time, a budget that fuzzing *spends* (it repeats
#                              until then); default unset: stop after --max-examples
#   SCHEMATHESIS_TIMEOUT       hard limit in seconds, after which schemathesis is killed (a FAIL); default 600
#   SCHEMATHESIS_SEED          seed, for a reproducible run; default: random (printed in the summary)
#   SCHEMATHESIS_CLI           a built cce-autopilot binary instead of `cargo build --release -p cce-autopilot-cli`
#   SCHEMATHESIS_KEEP          1: keep the work directory (emulator logs, HAR of every request) even on PASS
# Prints schemathesis' report, then one PASS/FAIL line; exits non-zero on failure.
set -euo pipefail

started=$SECONDS
# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" # sets root, the workspace root
version=${SCHEMATHESIS_VERSION:-4.32.5}
max_examples=${SCHEMATHESIS_MAX_EXAMPLES:-100}
hard_limit=${SCHEMATHESIS_TIMEOUT:-600}
setup_work cce-schemathesis SCHEMATHESIS_KEEP "logs kept in"

verdict() {
    printf '%s schemathesis (%s, --checks all, --max-examples %s): %s, %s s\n' \
        "$1" "$version" "$max_examples" "$2" "$((SECONDS - started))"
}

# ---------------------------------------------------------------------------------------------------
# 1. schemathesis in a virtualenv
venv=${SCHEMATHESIS_VENV:-$work/venv}
setup_venv "$venv" "schemathesis==$version"

# ---------------------------------------------------------------------------------------------------
# 2. The emulator, with a token we know
find_cli release "${SCHEMATHESIS_CLI:-}"
[[ -x $cli ]] || { verdict FAIL "no executable at $cli"; exit 1; }

token="schemathesis-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
# The service grants at most five calendar years, 1826 or 1827 days depending on the leap days in them; JSON
# Schema cannot say "depending", so the spec states the document's widest bound, 1827. To check that the
# emulator accepts every duration the schema calls valid (positive_data_acceptance) and refuses every other,
# its clock runs on the next day (from today, UTC noon) whose five years hold two leap days, where 1827 is
# exact. The date-dependent refusal of 1827 on other days is covered by the emulator's and model's tests.
offset=$("$venv/bin/python" - <<'EOF'
import datetime as dt
def five_years_after(d):
    try:
        return d.replace(year=d.year + 5)
    except ValueError:  # 29 February
        return d.replace(day=28, year=d.year + 5)
now = dt.datetime.now(dt.timezone.utc)
day = now.date()
while (five_years_after(day) - day).days != 1827:
    day += dt.timedelta(days=1)
print(int((dt.datetime.combine(day, dt.time(12), dt.timezone.utc) - now).total_seconds()))
EOF
)
log "starting: $cli emulator serve --token <random> --clock-offset ${offset}s (a day on which 1827 days is five years)"
start_emulator 30 --token "$token" --clock-offset "${offset}s"
[[ -n $url ]] || { verdict FAIL "the emulator printed no base URL: $(tail -n3 "$work/emulator.err")"; exit 1; }
log "emulator at $url"

# ---------------------------------------------------------------------------------------------------
# 3. schemathesis run
# The token is also given per security scheme: the operation accepts `aksk` (Authorization) OR `token`
# (X-Auth-Token), and without knowing which scheme the -H header satisfies, schemathesis fills in the other
# one with a made-up Authorization, which the gateway (rightly) checks first and refuses: every case would
# be a 401. The path parameters' `example`s (the emulator's demo project and clusters) make the examples and
# coverage phases reach the 200 answer; the fuzzing phase invents ids (403/404, documented as 4XX).
cat >"$work/schemathesis.toml" <<'EOF'
[auth.openapi.token]
api_key = "${CCE_SCHEMATHESIS_TOKEN}"
EOF
extra=()
[[ -n ${SCHEMATHESIS_SEED:-} ]] && extra+=(--seed "$SCHEMATHESIS_SEED")
[[ -n ${SCHEMATHESIS_MAX_TIME:-} ]] && extra+=(--max-time "$SCHEMATHESIS_MAX_TIME")
rc=0
(
    cd "$work"
    CCE_SCHEMATHESIS_TOKEN=$token timeout --kill-after=10 "$hard_limit" \
        "$venv/bin/schemathesis" --config-file "$work/schemathesis.toml" --no-color \
        run "$root/openapi/cce-autopilot.yaml" \
        --url "$url" \
        -H "X-Auth-Token: $token" \
        --checks all \
        --phases examples,coverage,fuzzing,stateful \
        --mode all \
        --max-examples "$max_examples" \
        --request-timeout 30 \
        --report har --report-dir "$work/report" \
        "${extra[@]}" "$@"
) || rc=$?

# A run that reached no 200 proves little: the success path must have been exercised.
ok=$("$venv/bin/python" -c '
import glob, json, sys
entries = [e for f in glob.glob(sys.argv[1] + "/*.json") for e in json.load(open(f))["log"]["entries"]]
print(sum(e["response"]["status"] == 200 for e in entries))' "$work/report" 2>/dev/null || echo 0)
if [[ $rc -ne 0 ]]; then
    [[ $rc -eq 124 || $rc -eq 137 ]] && verdict FAIL "schemathesis did not finish within $hard_limit s" && exit 1
    verdict FAIL "schemathesis exited $rc (the emulator's stderr: $work/emulator.err)"
    exit 1
fi
if [[ ${ok:-0} -eq 0 ]]; then
    verdict FAIL "no request got a 200: the success path was not exercised (HAR in $work/report)"
    exit 1
fi
if ! kill -0 "${pids[0]}" 2>/dev/null; then
    verdict FAIL "the emulator died during the run: $(tail -n3 "$work/emulator.err")"
    exit 1
fi
verdict PASS "every response conforms to openapi/cce-autopilot.yaml ($ok answers were 200)"
