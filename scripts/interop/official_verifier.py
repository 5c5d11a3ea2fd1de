#!/usr/bin/env python3
"""Interop check (b): a stand-in gateway whose only signature check is the official SDK's own signer.

For every request it rebuilds a `huaweicloudsdkcore.sdk_request.SdkRequest` from what arrived (method,
raw path, query pairs, the headers named in the received SignedHeaders with their received values, and
the exact body bytes), signs it with `huaweicloudsdkcore.signer.signer.Signer` using the received
X-Sdk-Date, and compares the result with the received Authorization header byte for byte. It also
checks that the wire path+query is the one the SDK would have sent (`SdkRequest.uri`).

Routes (answered only when the signature verifies, else 401 APIGW.0301 like the gateway):
  POST /autopilot/v3/projects/{project_id}/clusters/{cluster_id}/clustercert -> a minimal kubeconfig
  GET  /autopilot/v3/projects/{project_id}/clusters[?status=...]               -> the --cluster clusters
  GET  /v3/projects?name=<region>                                              -> one project

Prints `http://127.0.0.1:PORT` on its first stdout line, then serves until SIGTERM/SIGINT. Each
request is appended as one JSON line to --log (what arrived, the SDK's verdict and why).
"""

import argparse
import base64
import json
import re
import signal
import sys
import threading
import uuid
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.sdk_request import SdkRequest
from huaweicloudsdkcore.signer.signer import Signer

AUTH_RE = re.compile(r"^SDK-HMAC-SHA256 Access=([^,\s]+), SignedHeaders=([^,\s]+), Signature=([0-9a-f]{64})$")
CERT_RE = re.compile(r"^/autopilot/v3/projects/([^/]+)/clusters/([^/]+)/clustercert$")
LIST_RE = re.compile(r"^/autopilot/v3/projects/([^/]+)/clusters$")
MAX_SKEW = timedelta(minutes=15)


def fake_pem_b64(label):
    pem = "-----BEGIN %s-----\n%s\n-----END %s-----\n" % (
        label, base64.b64encode(("interop verifier " + label).encode()).decode(), label)
    return base64.b64encode(pem.encode()).decode()


def kubeconfig(cluster_id):
    return {
        "kind": "Config",
        "apiVersion": "v1",
        "preferences": {},
        "clusters": [{
            "name": "internalCluster",
            "cluster": {"server": "https://127.0.0.1:5443",
                        "certificate-authority-data": fake_pem_b64("CERTIFICATE")},
        }],
        "users": [{
            "name": "user",
            "user": {"client-certificate-data": fake_pem_b64("CERTIFICATE"),
                     "client-key-data": fake_pem_b64("RSA PRIVATE KEY")},
        }],
        "contexts": [{"name": "internal", "context": {"cluster": "internalCluster", "user": "user"}}],
        "current-context": "internal",
    }


class Verdict(Exception):
    """Why a request was refused."""


def verify(config, method, raw_path, headers, body, details):
    """Returns the access key when the official signer reproduces the Authorization, else raises Verdict.

    Fills `details` (signed headers, the SDK's Authorization and URI) as far as it got.
    """
    authorization = headers.get("Authorization")
    if authorization is None:
        raise Verdict("no Authorization header")
    m = AUTH_RE.match(authorization)
    if not m:
        raise Verdict("Authorization is not 'SDK-HMAC-SHA256 Access=.., SignedHeaders=.., Signature=..': %r"
                      % authorization)
    access, signed_list, _ = m.groups()
    credential = config.credentials.get(access)
    if credential is None:
        raise Verdict("unknown access key %r" % access)
    secret, token = credential
    signed = signed_list.split(";")
    details["signed_headers"] = signed_list

    header_params = {}
    for name in signed:
        values = headers.get_all(name) or []
        if len(values) != 1:
            raise Verdict("signed header %r arrived %d times" % (name, len(values)))
        header_params[name] = values[0]
    if "x-sdk-date" not in header_params:
        raise Verdict("X-Sdk-Date is not signed")
    if "host" not in header_params:
        raise Verdict("Host is not signed (the SDK's Signer always signs Host)")
    try:
        sent = datetime.strptime(header_params["x-sdk-date"].strip(), "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
    except ValueError:
        raise Verdict("X-Sdk-Date %r is not YYYYMMDDTHHMMSSZ" % header_params["x-sdk-date"])
    if abs(datetime.now(timezone.utc) - sent) > MAX_SKEW:
        raise Verdict("X-Sdk-Date %s is more than 15 minutes away from now" % header_params["x-sdk-date"])
    if token is not None:
        if "x-security-token" not in header_params:
            raise Verdict("temporary access key %s: X-Security-Token is not signed" % access)
        if header_params["x-security-token"] != token:
            raise Verdict("temporary access key %s: wrong X-Security-Token" % access)

    path, _, query = raw_path.partition("?")
    request = SdkRequest(method=method, schema="http", host=header_params["host"], resource_path=path,
                         query_params=parse_qsl(query, keep_blank_values=True), header_params=dict(header_params),
                         body=body if body else None)
    Signer(BasicCredentials(access, secret)).sign(request)
    expected = request.header_params["Authorization"]
    details["sdk_authorization"] = expected
    details["sdk_uri"] = request.uri
    if expected != authorization:
        raise Verdict("signature differs: received %r, the official Signer computes %r" % (authorization, expected))
    if request.uri != raw_path:
        raise Verdict("wire path+query %r differs from the SDK's %r" % (raw_path, request.uri))
    return access


class Handler(BaseHTTPRequestHandler):
    server_version = "interop-verifier"
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet; the JSON log says it all
        pass

    def _answer(self, status, body, extra_headers=None):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json;charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-Request-Id", self.request_id)
        for k, v in (extra_headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def _handle(self):
        config = self.server.config
        self.request_id = uuid.uuid4().hex
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        record = {"method": self.command, "path": self.path, "headers": [[k, v] for k, v in self.headers.items()],
                  "body": body.decode("utf-8", "replace")}
        details = {}
        try:
            record["access"] = verify(config, self.command, self.path, self.headers, body, details)
            record.update(details)
        except Verdict as v:
            record.update(details)
            record.update(verified=False, reason=str(v))
            config.log(record)
            self._answer(401, {"error_code": "APIGW.0301",
                               "error_msg": "Incorrect IAM authentication information: verify aksk signature fail",
                               "request_id": self.request_id})
            return
        except Exception as e:  # noqa: BLE001 - a verifier bug must show, not hang the client
            record.update(details)
            record.update(verified=False, reason="verifier error %s: %s" % (type(e).__name__, e))
            config.log(record)
            self._answer(500, {"error_code": "INTEROP.500", "error_msg": str(e), "request_id": self.request_id})
            return
        record["verified"] = True

        path, _, query = self.path.partition("?")
        cert = CERT_RE.match(path)
        if self.command == "POST" and cert:
            project_id, cluster_id = cert.groups()
            try:
                duration = json.loads(body)["duration"]
            except (ValueError, KeyError, TypeError):
                duration = None
            if project_id != config.project_id or not isinstance(duration, int) or isinstance(duration, bool):
                record["answer"] = "400"
                config.log(record)
                self._answer(400, {"error_code": "CCE.01400001",
                                   "error_msg": "Invalid request: project %s, body %r" % (project_id, body),
                                   "request_id": self.request_id})
                return
            record["answer"] = "200 kubeconfig"
            config.log(record)
            self._answer(200, kubeconfig(cluster_id), {"Port-ID": str(uuid.uuid4())})
            return
        listing = LIST_RE.match(path)
        if self.command == "GET" and listing and listing.group(1) == config.project_id:
            status = [v for k, v in parse_qsl(query, keep_blank_values=True) if k == "status"]
            items = [{"kind": "Cluster", "apiVersion": "v3", "metadata": {"name": name, "uid": uid},
                      "spec": {"type": "VirtualMachine", "version": "v1.31"},
                      "status": {"phase": "Available", "endpoints": []}}
                     for name, uid in config.clusters if not status or status[-1] in ("", "Available")]
            record["answer"] = "200 clusters=%d" % len(items)
            config.log(record)
            self._answer(200, {"kind": "List", "apiVersion": "v3", "items": items})
            return
        if self.command == "GET" and path == "/v3/projects":
            names = [v for k, v in parse_qsl(query, keep_blank_values=True) if k == "name"]
            projects = [{"id": config.project_id, "name": n, "domain_id": "0" * 32, "enabled": True}
                        for n in names if n == config.region]
            record["answer"] = "200 projects=%d" % len(projects)
            config.log(record)
            self._answer(200, {"projects": projects, "links": {"self": "http://%s/v3/projects" % self.headers["Host"]}},
                         {"X-IAM-Trace-Id": self.request_id})
            return
        record["answer"] = "404"
        config.log(record)
        self._answer(404, {"error_code": "APIGW.0101", "error_msg": "The API does not exist or has not been published",
                           "request_id": self.request_id})

    do_GET = _handle
    do_POST = _handle
    do_PUT = _handle
    do_DELETE = _handle


class Config:
    def __init__(self, args):
        self.credentials = {}
        for spec in args.credential:
            parts = spec.split(":", 2)
            if len(parts) < 2:
                sys.exit("--credential wants AK:SK or AK:SK:TOKEN, got %r" % spec)
            self.credentials[parts[0]] = (parts[1], parts[2] if len(parts) == 3 else None)
        self.project_id = args.project_id
        self.region = args.region
        self.clusters = []
        for spec in args.cluster:
            name, sep, uid = spec.partition("=")
            if not sep:
                sys.exit("--cluster wants NAME=ID, got %r" % spec)
            self.clusters.append((name, uid))
        self._log = open(args.log, "a", encoding="utf-8") if args.log else None
        self._lock = threading.Lock()

    def log(self, record):
        if self._log:
            with self._lock:
                self._log.write(json.dumps(record) + "\n")
                self._log.flush()


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--credential", action="append", required=True, metavar="AK:SK[:TOKEN]",
                   help="a key pair to accept (repeatable); with :TOKEN it is temporary")
    p.add_argument("--project-id", required=True)
    p.add_argument("--region", default="cn-north-4")
    p.add_argument("--cluster", action="append", default=[], metavar="NAME=ID",
                   help="a cluster the list call answers (repeatable)")
    p.add_argument("--log", help="append one JSON line per request here")
    args = p.parse_args()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.config = Config(args)
    print("http://127.0.0.1:%d" % server.server_address[1], flush=True)

    def stop(*_):
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
