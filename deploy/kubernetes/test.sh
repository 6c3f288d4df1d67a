#!/usr/bin/env bash
# Validate the Kubernetes manifests offline (deploy/kubernetes/check.py,
# against the API types of Debian's python3-kubernetes: `kubectl apply
# --dry-run=client` needs an API server) and show that the check fails on
# broken copies of them.
#
# Exit codes: 0 valid, and every broken copy refused with the expected
# message; 1 otherwise; 3 SKIPPED (python3-kubernetes could not be installed).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
PY=/usr/bin/python3
say() { echo "kubernetes-test: $*" >&2; }
fail() { say "FAILED: $*"; exit 1; }

if ! "$PY" -c 'import kubernetes, yaml' 2>/dev/null; then
    if [ "$(id -u)" -ne 0 ]; then say "SKIPPED: python3-kubernetes missing and not root"; exit 3; fi
    say "installing python3-kubernetes python3-yaml"
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-kubernetes python3-yaml; } \
        >/dev/null 2>&1 || { say "SKIPPED: apt-get could not install python3-kubernetes"; exit 3; }
fi

"$PY" "$HERE/check.py" || fail "the shipped manifests do not pass check.py"

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
# broken NAME EXPECTED SED-SCRIPT FILE: a copy of the manifests with FILE
# edited by SED-SCRIPT must be refused with a message containing EXPECTED.
broken() {
    local name="$1" expected="$2" script="$3" file="$4"
    rm -rf "${TMP:?}/$name"; mkdir "$TMP/$name"
    cp "$HERE"/*.yaml "$TMP/$name/"
    sed -i "$script" "$TMP/$name/$file"
    cmp -s "$HERE/$file" "$TMP/$name/$file" && fail "$name: the edit changed nothing"
    if "$PY" "$HERE/check.py" "$TMP/$name"/*.yaml 2>"$TMP/$name.err" >/dev/null; then
        fail "$name: check.py accepted it"
    fi
    grep -qF -- "$expected" "$TMP/$name.err" \
        || { cat "$TMP/$name.err" >&2; fail "$name: no '$expected' in check.py's message"; }
    say "refused as expected: $name ($(head -n 1 "$TMP/$name.err" | cut -c1-110))"
}
broken misspelt-key 'unknown field of V1JobSpec' 's/completionMode:/completionMod:/' batch-indexed-job.yaml
broken wrong-type 'must be an integer' 's/completions: 8 /completions: "8" /' batch-indexed-job.yaml
broken missing-name 'missing required field name' 's/- name: batch$/- stdin: false/' batch-indexed-job.yaml
broken bad-restart-policy 'restartPolicy' 's/restartPolicy: Never/restartPolicy: Sometimes/' merge-job.yaml
broken shard-count 'completions 8 != N 4' 's|INDEX)/8|INDEX)/4|' batch-indexed-job.yaml
broken undefined-var 'is not defined in the container' 's|\$(JOB_COMPLETION_INDEX)/8|$(SHARD_INDEX)/8|' batch-indexed-job.yaml
broken other-claim "claims 'results'" 's/claimName: swarmsim-results/claimName: results/' merge-job.yaml
broken other-image 'different images' 's|image: swarmsim:local|image: swarmsim:old|' merge-job.yaml
say "PASSED"
