"""Judges the Secrets `cce-autopilot kubeconfig export` wrote, as their consumers would read them.

For each file: every document is a Secret with exactly the keys, type and labels of its format; its
credentials reach the emulator's API-server stub over mTLS — Flux's and Cluster API's `value` through the
official Kubernetes Python client's `load_kube_config`, Argo CD's `tlsClientConfig` through a TLS client
built from it (CA, client certificate and key, server name), never with verification off.

Usage: check_secrets.py --version GITVERSION FORMAT=FILE [FORMAT=FILE ...]
Prints one PASS/FAIL line per check; exits 1 if any failed.
"""

import argparse
import base64
import http.client
import json
import ssl
import sys
import tempfile
import urllib.parse

import yaml
from kubernetes import client as k8s_client
from kubernetes import config as k8s_config

OWNER = ("cce-autopilot.io/owner", "cce-autopilot")
SHAPES = {
    "argocd": ("Opaque", ["config", "name", "server"], {"argocd.argoproj.io/secret-type": "cluster"}),
    "flux": ("Opaque", ["value"], {}),
    "capi": ("cluster.x-k8s.io/secret", ["value"], {}),
}
failed = False


def report(ok, name, detail):
    global failed
    failed |= not ok
    print(f"{'PASS' if ok else 'FAIL'} {name}: {detail}", flush=True)


def check_shape(fmt, secret):
    kind, keys, extra = SHAPES[fmt]
    meta = secret["metadata"]
    labels = meta.get("labels", {})
    problems = []
    if secret.get("type") != kind:
        problems.append(f"type {secret.get('type')!r}")
    if sorted(secret.get("stringData", {})) != keys:
        problems.append(f"keys {sorted(secret.get('stringData', {}))}")
    if labels.get(OWNER[0]) != OWNER[1] or not labels.get("cce-autopilot.io/cluster-id"):
        problems.append("owner or cluster-id label missing")
    for key, value in extra.items():
        if labels.get(key) != value:
            problems.append(f"label {key}")
    if fmt == "capi":
        cluster = labels.get("cluster.x-k8s.io/cluster-name")
        if meta["name"] != f"{cluster}-kubeconfig":
            problems.append(f"name {meta['name']} for cluster {cluster}")
    expires = meta.get("annotations", {}).get("cce-autopilot.io/expires-at", "")
    if not expires.endswith("Z"):
        problems.append(f"expires-at {expires!r}")
    return problems


def via_python_client(value, version):
    with tempfile.NamedTemporaryFile("w", suffix=".yaml") as f:
        f.write(value)
        f.flush()
        configuration = k8s_client.Configuration()
        k8s_config.load_kube_config(config_file=f.name, client_configuration=configuration)
        if not configuration.verify_ssl:
            return "verification is off"
        # The client's connection pool takes its TLS settings when it is made: after the kubeconfig is loaded.
        got = k8s_client.VersionApi(k8s_client.ApiClient(configuration)).get_code().git_version
        return None if got == version else f"gitVersion {got}"


def via_argocd_tls(secret, version):
    config = json.loads(secret["stringData"]["config"])
    tls = config["tlsClientConfig"]
    if tls.get("insecure"):
        return "insecure is set"
    url = urllib.parse.urlsplit(secret["stringData"]["server"])
    context = ssl.create_default_context(cadata=base64.b64decode(tls["caData"]).decode())
    with tempfile.NamedTemporaryFile("wb") as cert, tempfile.NamedTemporaryFile("wb") as key:
        cert.write(base64.b64decode(tls["certData"]))
        key.write(base64.b64decode(tls["keyData"]))
        cert.flush()
        key.flush()
        context.load_cert_chain(cert.name, key.name)
    server_name = tls.get("serverName") or url.hostname
    connection = http.client.HTTPSConnection(url.hostname, url.port, context=context, timeout=20)
    # The address to dial is the server's; the name to verify is serverName, as Argo CD's client does.
    connection.connect = _connect_as(connection, server_name)
    connection.request("GET", "/version")
    answer = connection.getresponse()
    body = json.loads(answer.read())
    return None if answer.status == 200 and body.get("gitVersion") == version else f"{answer.status} {body}"


def _connect_as(connection, server_name):
    import socket

    def connect():
        sock = socket.create_connection((connection.host, connection.port), connection.timeout)
        connection.sock = connection._context.wrap_socket(sock, server_hostname=server_name)

    return connect


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--version", required=True)
    parser.add_argument("files", nargs="+")
    args = parser.parse_args()
    for spec in args.files:
        fmt, path = spec.split("=", 1)
        secrets = [d for d in yaml.safe_load_all(open(path)) if d]
        report(bool(secrets), f"{fmt}-count", f"{len(secrets)} Secrets in {path}")
        for secret in secrets:
            name = f"{fmt}-{secret['metadata']['name']}"
            problems = check_shape(fmt, secret)
            report(not problems, f"{name}-shape", "; ".join(problems) or "keys, type and labels as the consumer reads them")
            try:
                if fmt == "argocd":
                    problem = via_argocd_tls(secret, args.version)
                else:
                    problem = via_python_client(secret["stringData"]["value"], args.version)
            except Exception as e:  # noqa: BLE001 - every failure is a FAIL line
                problem = f"{type(e).__name__}: {e}"
            report(problem is None, f"{name}-mtls", problem or f"reached the stub over mTLS ({args.version})")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
