#!/usr/bin/env python3
"""Interop check (a): the vendor's official Python SDK calls our emulator.

Uses `huaweicloudsdkcce` the way the vendor's sample for CreateAutopilotKubernetesClusterCert does
(BasicCredentials + CceClient.new_builder()), pointed at the emulator's plain-http endpoint, and checks
that our emulator accepts what the SDK signs and answers what the SDK expects: the certificate call
(a1-a6, a11, a12) and the cluster list and show calls (a7-a10), parsed by the SDK's own models.

Prints one line per check, `PASS <name>: <detail>` or `FAIL <name>: <detail>`, plus `INFO` lines that
show what the SDK put on the wire. Exits 1 if any check failed.
"""

import argparse
import json
import sys
import traceback
import urllib.request
from datetime import datetime, timezone

from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkcore.http.http_config import HttpConfig
from huaweicloudsdkcore.http.http_handler import HttpHandler
from huaweicloudsdkcore.region.region import Region
from huaweicloudsdkcce.v3 import (CceClient, CertDuration, CreateAutopilotKubernetesClusterCertRequest,
                                  ListAutopilotClustersRequest, ShowAutopilotClusterRequest)

RESULTS = []


def report(ok, name, detail):
    RESULTS.append(ok)
    print("%s %s: %s" % ("PASS" if ok else "FAIL", name, detail), flush=True)


def info(name, detail):
    print("INFO %s: %s" % (name, detail), flush=True)


class WireLog:
    """Keeps what the SDK hands to its HTTP layer, after signing (the bytes that go on the wire)."""

    def __init__(self):
        self.requests = []

    def __call__(self, **kwargs):
        request = kwargs.get("request")
        if request is not None:
            self.requests.append({
                "method": request.method,
                "url": request.url,
                "headers": dict(request.header_params),
                "body": request.body,
            })


def http_config():
    config = HttpConfig.get_default_config()
    config.timeout = (5, 30)
    config.retry_times = 0
    return config


def build_client(endpoint, credentials, wire_log=None, region=None):
    builder = CceClient.new_builder() \
        .with_http_config(http_config()) \
        .with_credentials(credentials)
    if region is not None:
        builder = builder.with_region(region)
    else:
        builder = builder.with_endpoints([endpoint])
    if wire_log is not None:
        builder = builder.with_http_handler(HttpHandler().add_request_handler(wire_log))
    return builder.build()


def cert_request(cluster_id, duration):
    return CreateAutopilotKubernetesClusterCertRequest(cluster_id=cluster_id, body=CertDuration(duration=duration))


def check_kubeconfig(name, response, cluster_id, public):
    problems = []
    if response.status_code != 200:
        problems.append("status %r" % response.status_code)
    if response.kind != "Config":
        problems.append("kind %r" % response.kind)
    if response.api_version != "v1":
        problems.append("apiVersion %r" % response.api_version)
    if not response.port_id:
        problems.append("no Port-ID header (SDK attribute port_id is %r)" % response.port_id)
    clusters = response.clusters or []
    names = [c.name for c in clusters]
    want_names = ["internalCluster", "externalCluster"] if public else ["internalCluster"]
    if names != want_names:
        problems.append("cluster names %r, want %r" % (names, want_names))
    for c in clusters:
        if not (c.cluster and c.cluster.server and c.cluster.server.startswith("https://")):
            problems.append("cluster %r has no https server" % c.name)
    users = response.users or []
    if not users or not users[0].user or not users[0].user.client_certificate_data \
            or not users[0].user.client_key_data:
        problems.append("users[0] lacks client-certificate-data/client-key-data")
    contexts = [c.name for c in (response.contexts or [])]
    want_contexts = ["internal", "external"] if public else ["internal"]
    if contexts != want_contexts:
        problems.append("contexts %r, want %r" % (contexts, want_contexts))
    want_current = "external" if public else "internal"
    if response.current_context != want_current:
        problems.append("current-context %r, want %r" % (response.current_context, want_current))
    if problems:
        report(False, name, "cluster %s: %s" % (cluster_id, "; ".join(problems)))
    else:
        report(True, name, "200, cluster %s, contexts %s, current-context %s, Port-ID %s" % (
            cluster_id, ",".join(contexts), response.current_context, response.port_id))


def expect_service_error(name, call, status, error_code):
    try:
        response = call()
    except ClientRequestException as e:
        got = (e.status_code, e.error_code)
        if got == (status, error_code) and e.request_id:
            report(True, name, "ClientRequestException status %s, error_code %s, request_id %s, error_msg %r" % (
                e.status_code, e.error_code, e.request_id, e.error_msg))
        else:
            report(False, name, "ClientRequestException status %s error_code %s request_id %r (want %s %s and a "
                                "request id), error_msg %r" % (e.status_code, e.error_code, e.request_id, status,
                                                               error_code, e.error_msg))
        return
    except Exception as e:  # noqa: BLE001 - any other outcome is a failure to report
        report(False, name, "raised %s: %s (want ClientRequestException %s %s)" % (
            type(e).__name__, e, status, error_code))
        return
    report(False, name, "no exception, status %s (want ClientRequestException %s %s)" % (
        getattr(response, "status_code", "?"), status, error_code))


def cluster_summary(cluster):
    """(uid, name, phase, version, endpoint types) of an SDK AutopilotCluster-shaped object."""
    md, spec, st = cluster.metadata, cluster.spec, cluster.status
    return (md.uid if md else None, md.name if md else None, st.phase if st else None,
            spec.version if spec else None, [e.type for e in ((st.endpoints or []) if st else [])])


def check_cluster(name, summary, uid, want_name, public):
    got_uid, got_name, phase, version, endpoints = summary
    want_endpoints = ["Internal", "External"] if public else ["Internal"]
    problems = []
    if got_uid != uid:
        problems.append("uid %r, want %r" % (got_uid, uid))
    if got_name != want_name:
        problems.append("name %r, want %r" % (got_name, want_name))
    if phase != "Available":
        problems.append("phase %r, want 'Available'" % phase)
    if not version:
        problems.append("no spec.version")
    if endpoints != want_endpoints:
        problems.append("endpoint types %r, want %r" % (endpoints, want_endpoints))
    return problems


def temporary_credentials(endpoint):
    """Temporary AK/SK/token from the emulator's ECS-metadata stand-in (the SDK would ask 169.254.169.254)."""
    put = urllib.request.Request(endpoint + "/meta-data/latest/api/token", method="PUT",
                                 headers={"X-Metadata-Token-Ttl-Seconds": "300"})
    with urllib.request.urlopen(put, timeout=10) as r:
        session = r.read().decode()
    get = urllib.request.Request(endpoint + "/openstack/latest/securitykey", headers={"X-Metadata-Token": session})
    with urllib.request.urlopen(get, timeout=10) as r:
        body = json.load(r)
    c = body["credential"]
    return c["access"], c["secret"], c["securitytoken"]


def five_years_after(day):
    """The same date five years on; 29 February ends on 28 February."""
    try:
        return day.replace(year=day.year + 5)
    except ValueError:
        return day.replace(day=28, year=day.year + 5)


def run_check(name, fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001
        report(False, name, "%s: %s" % (type(e).__name__, e))
        traceback.print_exc(file=sys.stderr)


def vector_a():
    """signing.md's Vector A, recomputed by the SDK's own Signer: the verifier's engine is the documented one."""
    from huaweicloudsdkcore.sdk_request import SdkRequest
    from huaweicloudsdkcore.signer.signer import Signer
    project, cluster = "0123456789abcdef0123456789abcdef", "3f0c9a1e-2b4d-4c6e-8f10-123456789abc"
    request = SdkRequest(
        method="POST", schema="https", host="cce.cn-north-4.myhuaweicloud.com",
        resource_path="/autopilot/v3/projects/%s/clusters/%s/clustercert" % (project, cluster), query_params=[],
        header_params={"Content-Type": "application/json", "Host": "cce.cn-north-4.myhuaweicloud.com",
                       "User-Agent": "huaweicloud-usdk-python/3.0; golden-test", "X-Project-Id": project,
                       "X-Sdk-Date": "20261128T120000Z"},
        body=b'{"duration": 30}')
    Signer(BasicCredentials("HPUAEXAMPLEAK00000001", "exampleSecretKey0000000000000000000000000")).sign(request)
    want = ("SDK-HMAC-SHA256 Access=HPUAEXAMPLEAK00000001, SignedHeaders=content-type;host;user-agent;x-project-id;"
            "x-sdk-date, Signature=a0cf8b23e1be5d464c1905e297aba46daaa72879018fd53781b1104117f55ed6")
    got = request.header_params["Authorization"]
    report(got == want, "b0-control-signer-vector-a",
           "the SDK's Signer reproduces signing.md Vector A" if got == want else "got %r, want %r" % (got, want))


def control(args):
    """Against the verifier: a request the SDK signs passes, one signed with a wrong SK does not."""
    run_check("b0-control-signer-vector-a", vector_a)

    def good():
        client = build_client(args.endpoint, BasicCredentials(args.ak, args.sk, args.project_id))
        response = client.create_autopilot_kubernetes_cluster_cert(cert_request(args.private_cluster, 30))
        ok = response.status_code == 200 and response.kind == "Config" and bool(response.port_id)
        report(ok, "b0-control-sdk-request-accepted", "status %s, kind %s, Port-ID %s" % (
            response.status_code, response.kind, response.port_id))

    def bad():
        client = build_client(args.endpoint, BasicCredentials(args.ak, args.sk + "0", args.project_id))
        expect_service_error("b0-control-wrong-sk-rejected",
                             lambda: client.create_autopilot_kubernetes_cluster_cert(cert_request(args.private_cluster, 30)),
                             401, "APIGW.0301")

    run_check("b0-control-sdk-request-accepted", good)
    run_check("b0-control-wrong-sk-rejected", bad)
    return 0 if all(RESULTS) else 1


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--endpoint", required=True)
    p.add_argument("--region", required=True)
    p.add_argument("--project-id", required=True)
    p.add_argument("--ak", required=True)
    p.add_argument("--sk", required=True)
    p.add_argument("--private-cluster", required=True)
    p.add_argument("--public-cluster")
    p.add_argument("--private-name", help="the private cluster's name (emulator mode)")
    p.add_argument("--public-name", help="the public cluster's name (emulator mode)")
    p.add_argument("--mode", choices=["emulator", "control"], default="emulator",
                   help="emulator: the checks of (a); control: prove that the verifier of (b) tells a good "
                        "signature from a bad one")
    args = p.parse_args()
    if args.mode == "control":
        return control(args)
    if not (args.public_cluster and args.private_name and args.public_name):
        p.error("--public-cluster, --private-name and --public-name are required in emulator mode")

    import huaweicloudsdkcce
    import huaweicloudsdkcore
    from importlib.metadata import version
    info("sdk", "huaweicloudsdkcce %s, huaweicloudsdkcore %s (%s)" % (
        version("huaweicloudsdkcce"), version("huaweicloudsdkcore"), huaweicloudsdkcce.__file__))

    wire = WireLog()
    client = build_client(args.endpoint, BasicCredentials(args.ak, args.sk, args.project_id), wire)

    def private():
        response = client.create_autopilot_kubernetes_cluster_cert(cert_request(args.private_cluster, 30))
        check_kubeconfig("a1-sdk-private-cluster", response, args.private_cluster, public=False)
        if wire.requests:
            w = wire.requests[-1]
            auth = w["headers"].get("Authorization", "")
            signed = auth.split("SignedHeaders=")[1].split(",")[0] if "SignedHeaders=" in auth else "?"
            body = w["body"]
            info("sdk-wire", "%s %s" % (w["method"], w["url"]))
            info("sdk-wire", "SignedHeaders=%s" % signed)
            info("sdk-wire", "User-Agent=%r" % w["headers"].get("User-Agent"))
            info("sdk-wire", "Content-Type=%r" % w["headers"].get("Content-Type"))
            info("sdk-wire", "body bytes=%r (%d bytes)" % (body, len(body or b"")))

    def public():
        response = client.create_autopilot_kubernetes_cluster_cert(cert_request(args.public_cluster, 30))
        check_kubeconfig("a2-sdk-public-cluster", response, args.public_cluster, public=True)

    def wrong_sk():
        bad = build_client(args.endpoint, BasicCredentials(args.ak, args.sk[:-1] + ("x" if args.sk[-1] != "x" else "y"),
                                                           args.project_id))
        expect_service_error("a3-sdk-wrong-sk",
                             lambda: bad.create_autopilot_kubernetes_cluster_cert(cert_request(args.private_cluster, 30)),
                             401, "APIGW.0301")

    def duration_zero():
        try:
            request = cert_request(args.private_cluster, 0)
        except Exception as e:  # noqa: BLE001
            report(False, "a4-sdk-duration-0", "the SDK refused duration 0 locally: %s" % e)
            return
        info("a4-sdk-duration-0", "the SDK does not validate CertDuration locally; the request goes to the server")
        expect_service_error("a4-sdk-duration-0",
                             lambda: client.create_autopilot_kubernetes_cluster_cert(request),
                             400, "CCE.01400001")

    def temporary():
        ak, sk, token = temporary_credentials(args.endpoint)
        twire = WireLog()
        tclient = build_client(args.endpoint, BasicCredentials(ak, sk, args.project_id).with_security_token(token), twire)
        response = tclient.create_autopilot_kubernetes_cluster_cert(cert_request(args.private_cluster, 30))
        check_kubeconfig("a5-sdk-temporary-credentials", response, args.private_cluster, public=False)
        if twire.requests:
            auth = twire.requests[-1]["headers"].get("Authorization", "")
            info("sdk-wire", "with a security token: %s" % auth.split(", Signature=")[0])

    def iam_lookup():
        # No project id: the SDK asks IAM (GET /v3/projects?name=<region>, signed) before the call.
        iwire = WireLog()
        credentials = BasicCredentials(args.ak, args.sk).with_iam_endpoint(args.endpoint)
        iclient = build_client(args.endpoint, credentials, iwire, region=Region(args.region, args.endpoint))
        if credentials.project_id != args.project_id:
            report(False, "a6-sdk-iam-project-lookup", "SDK resolved project id %r, want %r" % (
                credentials.project_id, args.project_id))
            return
        response = iclient.create_autopilot_kubernetes_cluster_cert(cert_request(args.private_cluster, 30))
        check_kubeconfig("a6-sdk-iam-project-lookup", response, args.private_cluster, public=False)
        info("sdk-wire", "project id %s resolved through the emulator's IAM" % credentials.project_id)

    def list_clusters():
        response = client.list_autopilot_clusters(ListAutopilotClustersRequest(detail="true"))
        problems = []
        if response.status_code != 200:
            problems.append("status %r" % response.status_code)
        if response.kind != "List" or response.api_version != "v3":
            problems.append("kind %r apiVersion %r, want List v3" % (response.kind, response.api_version))
        by_uid = {c.metadata.uid: c for c in (response.items or []) if c.metadata}
        for uid, want_name, public in ((args.private_cluster, args.private_name, False),
                                       (args.public_cluster, args.public_name, True)):
            if uid not in by_uid:
                problems.append("cluster %s not listed (listed: %s)" % (uid, sorted(by_uid)))
                continue
            problems += check_cluster("a7", cluster_summary(by_uid[uid]), uid, want_name, public)
        if problems:
            report(False, "a7-sdk-list-clusters", "; ".join(problems))
        else:
            report(True, "a7-sdk-list-clusters", "200, %d clusters: %s" % (len(by_uid), ", ".join(
                "%s=%s" % (c.metadata.name, c.metadata.uid) for c in by_uid.values())))

    def list_filtered():
        available = client.list_autopilot_clusters(ListAutopilotClustersRequest(status="Available"))
        creating = client.list_autopilot_clusters(ListAutopilotClustersRequest(status="Creating"))
        n_available, n_creating = len(available.items or []), len(creating.items or [])
        ok = n_available >= 2 and n_creating == 0
        report(ok, "a8-sdk-list-clusters-by-status", "status=Available: %d clusters, status=Creating: %d%s" % (
            n_available, n_creating, "" if ok else " (want >= 2 and 0)"))

    def show_clusters():
        problems = []
        for uid, want_name, public in ((args.private_cluster, args.private_name, False),
                                       (args.public_cluster, args.public_name, True)):
            shown = client.show_autopilot_cluster(ShowAutopilotClusterRequest(cluster_id=uid, detail="true"))
            if shown.status_code != 200 or shown.kind != "Cluster":
                problems.append("%s: status %r kind %r" % (uid, shown.status_code, shown.kind))
            problems += check_cluster("a9", cluster_summary(shown), uid, want_name, public)
        report(not problems, "a9-sdk-show-cluster", "; ".join(problems) or "200 for %s (%s) and %s (%s)" % (
            args.private_name, args.private_cluster, args.public_name, args.public_cluster))

    def show_unknown():
        unknown = "00000000-0000-4000-8000-000000000000"
        expect_service_error("a10-sdk-show-unknown-cluster",
                             lambda: client.show_autopilot_cluster(ShowAutopilotClusterRequest(cluster_id=unknown)),
                             404, "CCE.01404001")

    def duration_too_long():
        # The service grants five calendar years from today (UTC): 1826 days, or 1827 when two leap days fall
        # in them. One day more is the CCE 400 — on 2026-12-01 that is 1827 — and the maximum itself is granted.
        today = datetime.now(timezone.utc).date()
        most = (five_years_after(today) - today).days
        expect_service_error("a11-sdk-duration-over-five-years",
                             lambda: client.create_autopilot_kubernetes_cluster_cert(
                                 cert_request(args.private_cluster, most + 1)),
                             400, "CCE.01400001")
        response = client.create_autopilot_kubernetes_cluster_cert(cert_request(args.private_cluster, most))
        report(response.status_code == 200 and response.kind == "Config", "a12-sdk-duration-today-s-maximum",
               "%d days (today %s, UTC): status %s" % (most, today, response.status_code))

    run_check("a1-sdk-private-cluster", private)
    run_check("a2-sdk-public-cluster", public)
    run_check("a3-sdk-wrong-sk", wrong_sk)
    run_check("a4-sdk-duration-0", duration_zero)
    run_check("a5-sdk-temporary-credentials", temporary)
    run_check("a6-sdk-iam-project-lookup", iam_lookup)
    run_check("a7-sdk-list-clusters", list_clusters)
    run_check("a8-sdk-list-clusters-by-status", list_filtered)
    run_check("a9-sdk-show-cluster", show_clusters)
    run_check("a10-sdk-show-unknown-cluster", show_unknown)
    run_check("a11-sdk-duration-over-five-years, a12-sdk-duration-today-s-maximum", duration_too_long)
    return 0 if all(RESULTS) else 1


if __name__ == "__main__":
    sys.exit(main())
