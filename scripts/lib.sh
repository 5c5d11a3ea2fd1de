# shellcheck shell=bash
# Shared by the scripts in this directory (official-sdk-interop.sh, schemathesis.sh, bench-cli.sh,
# bench-vs-official-sdk.sh), which source it after `set -euo pipefail`. Sourcing it sets
#   root   the workspace root (the parent of this directory)
# and defines the functions below, which read and set these globals of the sourcing script:
#   work   the work directory (set by setup_work)
#   pids   background processes, stopped at exit (set by setup_work; start_[named_]emulator appends to it)
#   cli    the cce-autopilot binary (set by find_cli)
#   url    the emulator's base URL (set by start_emulator and start_named_emulator)
#   banner, region, project_id, ak, sk, private_cluster, public_cluster, private_name, public_name
#   (set by read_banner)

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# log MESSAGE...: one progress line on stderr.
log() { printf '==> %s\n' "$*" >&2; }

# setup_work NAME KEEP_VAR KEPT_NOTE: creates the work directory $work (${TMPDIR:-/tmp}/NAME.XXXXXX), starts
# an empty pids, and arranges for cleanup to run at exit; INT and TERM exit with 130 and 143. KEEP_VAR names
# the environment variable whose value 1 keeps the work directory even on success; KEPT_NOTE starts the
# stderr line that says where a kept directory is ("KEPT_NOTE $work").
setup_work() {
    work=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX")
    pids=()
    lib_keep_var=$2
    lib_kept_note=$3
    trap cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
}

# cleanup: the EXIT trap set by setup_work. Stops every process in pids (TERM, then KILL after 5 s), then
# keeps $work if the script failed or $KEEP_VAR is 1, else removes it; exits with the script's status.
cleanup() {
    local status=$? pid
    for pid in "${pids[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${pids[@]}"; do
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    if [[ $status -ne 0 || ${!lib_keep_var:-0} == 1 ]]; then
        echo "$lib_kept_note $work" >&2
    else
        rm -rf "$work"
    fi
    exit "$status"
}

# installed_versions PYTHON PACKAGE...: prints the installed versions of the PACKAGEs in PYTHON's
# environment on one line, separated by spaces; prints nothing if any of them is missing.
installed_versions() {
    local py=$1
    shift
    "$py" -c 'import sys; from importlib.metadata import version; print(*map(version, sys.argv[1:]))' "$@" \
        2>/dev/null || true
}

# setup_venv VENV NAME==VERSION...: creates the virtualenv VENV unless it has a bin/python, and pip installs
# the pinned packages into it unless exactly those versions are installed already.
setup_venv() {
    local venv=$1 spec
    shift
    local -a names=() versions=()
    for spec in "$@"; do
        names+=("${spec%%==*}")
        versions+=("${spec#*==}")
    done
    if [[ ! -x $venv/bin/python ]]; then
        log "creating virtualenv $venv"
        python3 -m venv "$venv"
    fi
    if [[ $(installed_versions "$venv/bin/python" "${names[@]}") != "${versions[*]}" ]]; then
        log "pip install $*"
        "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$@"
    fi
}

# find_cli PROFILE OVERRIDE: sets cli to the cce-autopilot binary: OVERRIDE made absolute if it is not
# empty, else the one `cargo build [--release] -p cce-autopilot-cli` builds (PROFILE: debug or release) in
# ${CARGO_TARGET_DIR:-$root/target}. Does not check that it is executable.
find_cli() {
    local profile=$1 override=$2
    local -a flags=()
    if [[ -n $override ]]; then
        cli=$(cd "$(dirname "$override")" && pwd)/$(basename "$override")
    else
        if [[ $profile == release ]]; then flags=(--release); fi
        log "cargo build ${flags[*]:+${flags[*]} }-p cce-autopilot-cli"
        (cd "$root" && cargo build -q "${flags[@]}" -p cce-autopilot-cli)
        cli="${CARGO_TARGET_DIR:-$root/target}/$profile/cce-autopilot"
    fi
}

# first_url PID FILE SECONDS: prints FILE's first line once it is a base URL (http://127.0.0.1:PORT), as a
# background process PID writes it; prints nothing if PID exits first or SECONDS pass.
first_url() {
    local pid=$1 file=$2 seconds=$3 line
    for _ in $(seq $((seconds * 10))); do
        line=$(head -n1 "$file" 2>/dev/null | grep -E '^http://127\.0\.0\.1:[0-9]+$' || true)
        if [[ -n $line ]]; then
            echo "$line"
            return 0
        fi
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
}

# start_emulator SECONDS [ARG...]: starts `$cli emulator serve ARG...` in the background (stdout and stderr
# in $work/emulator.out and .err), adds it to pids, and sets url to the base URL it prints on its first
# line; url is empty if the emulator exits first or prints none within SECONDS.
start_emulator() { start_named_emulator emulator "$@"; }

# start_named_emulator NAME SECONDS [ARG...]: start_emulator with stdout and stderr in $work/NAME.out and
# .err, so that several emulators can run at once.
# shellcheck disable=SC2034 # sets globals for the sourcing script
start_named_emulator() {
    local name=$1 seconds=$2
    shift 2
    "$cli" emulator serve "$@" >"$work/$name.out" 2>"$work/$name.err" &
    pids+=($!)
    url=$(first_url "$!" "$work/$name.out" "$seconds")
}

# read_banner [FILE]: reads what the emulator printed on stdout (its base URL, then a banner; FILE, by default
# $work/emulator.out) into banner, and its fields into region, project_id, ak, sk, private_cluster (its
# private-only demo cluster) and public_cluster (its cluster with a public IP), and those clusters' names into
# private_name and public_name; a field it cannot find is empty.
# shellcheck disable=SC2034 # sets globals for the sourcing script
read_banner() {
    banner=$(cat "${1:-$work/emulator.out}")
    region=$(banner_field region)
    project_id=$(banner_field 'project id')
    ak=$(banner_field 'access key')
    sk=$(banner_field 'secret key')
    private_cluster=$(awk '$2 == "private" && $3 == "only" {print $1; exit}' <<<"$banner")
    public_cluster=$(awk '$2 == "public" && $3 == "IP" {print $1; exit}' <<<"$banner")
    private_name=$(awk '$2 == "private" && $3 == "only" && $4 == "name" {print $5; exit}' <<<"$banner")
    public_name=$(awk '$2 == "public" && $3 == "IP" && $4 == "name" {print $5; exit}' <<<"$banner")
}

# banner_field KEY: the last word of the banner's line "  KEY ...".
banner_field() { awk -v k="$1" '$0 ~ "^  "k" " {print $NF; exit}' <<<"$banner"; }
