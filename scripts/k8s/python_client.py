#!/usr/bin/env python3
"""The official Kubernetes Python client (`kubernetes` on PyPI) through kubeconfigs cce-autopilot wrote.

For each context given, loads the kubeconfig the way the client's users do (`config.load_kube_config`),
then calls `VersionApi().get_code()` (GET /version/) and `AuthenticationV1Api().create_self_subject_review`
(what `kubectl auth whoami` asks) against the emulator's API-server stub, over mutual TLS with the client
certificate the context holds or its exec plugin prints.

Prints `PASS <name>: <detail>` or `FAIL <name>: <detail>` per check; exits 1 if any check failed.
"""

import argparse
import sys

from kubernetes import client, config

RESULTS = []


def report(ok, name, detail):
    RESULTS.append(ok)
    print("%s %s: %s" % ("PASS" if ok else "FAIL", name, detail), flush=True)


def check(name, kubeconfig, context, want_version, want_user):
    try:
        api_client = config.new_client_from_config(config_file=kubeconfig, context=context or None)
        version = client.VersionApi(api_client).get_code()
        if version.git_version != want_version:
            report(False, name + "-version", "gitVersion %r, want %r" % (version.git_version, want_version))
        else:
            report(True, name + "-version", "VersionApi().get_code(): %s (context %s)" % (version.git_version, context or "current"))
        review = client.AuthenticationV1Api(api_client).create_self_subject_review(
            client.V1SelfSubjectReview(api_version="authentication.k8s.io/v1", kind="SelfSubjectReview"))
        user = review.status.user_info
        ok = user.username == want_user and "system:authenticated" in (user.groups or [])
        report(ok, name + "-whoami", "user %r groups %r%s" % (
            user.username, user.groups, "" if ok else " (want user %r)" % want_user))
    except Exception as e:  # noqa: BLE001 - any failure is a finding to report
        report(False, name, "%s: %s" % (type(e).__name__, e))


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--kubeconfig", required=True)
    p.add_argument("--context", action="append", required=True, metavar="NAME=CONTEXT",
                   help="a check name and the context it uses, empty for the current one (repeatable)")
    p.add_argument("--version", required=True, help="the gitVersion the stub claims")
    p.add_argument("--user", required=True, help="the user name the client certificate carries")
    args = p.parse_args()
    for spec in args.context:
        name, _, context = spec.partition("=")
        check(name, args.kubeconfig, context, args.version, args.user)
    return 0 if all(RESULTS) else 1


if __name__ == "__main__":
    sys.exit(main())
