#!/usr/bin/env python3
"""Interop check (i): the official Python SDK finds its own credentials, from each source of its default chain.

A CceClient built without `with_credentials` asks huaweicloudsdkcore's default credential chain
(CredentialProviderChain: OIDC via STS, environment, profile file, ECS metadata, pod identity) for temporary
credentials, and our emulator stands in for every service the chain talks to (IAM, STS, ECS metadata, pod
identity) as well as for CCE. For each source the SDK's own provider and accessor fetch the credentials, the SDK
signs CreateAutopilotKubernetesClusterCert with them, and the client certificate of the kubeconfig must name the
agency the identity file maps that source to. Then:
  * ID tokens the emulator must refuse (signed by a key not in the JWKS, wrong `iss`, wrong `aud`, expired)
    make the SDK's call fail, through source 1 (STS) and source 2 (IAM federation);
  * credentials whose expiry has passed are refused (401) while the SDK still believes them valid, and the
    call succeeds again once the SDK's own renewal (fewer than 40 minutes left) has fetched new ones.

With --cli, our CLI (`cce-autopilot kubeconfig get`) runs after the SDK with the same variables against the same
emulators (c1-c5), its ECS metadata source pointed where the SDK's is (CCE_AUTOPILOT_METADATA_ENDPOINT) or off
(CCE_AUTOPILOT_METADATA_DISABLED=1) when the source under test is another one. It must get a kubeconfig whose
client certificate names the agency, and its requests to the identity endpoints (IAM's id-token and
securitytokens, STS's assume-with-oidc, ECS metadata's token and securitykey, pod identity), read from the
emulators' request logs (GET /_emulator/requests, --admin) before and after each run, must be the SDK's: the same
(method, path) sequence on each emulator, and per request the same logged headers and body keys (CCE's and IAM's
project-lookup calls are left out). With the bad ID tokens (c6-c9), through OIDC and environment federation, it
must exit 3 with the emulator's reason on stderr, the token in none of its output, and the SDK's requests.

Then (a1-a4) the SDK's own identity clients, given a user's permanent key (BasicCredentials) and the emulator as
their endpoint: huaweicloudsdkiam's CreateTemporaryAccessKeyByAgency (IAM assume_role, with domain_id and with
domain_name) and, if installed, huaweicloudsdksts's AssumeAgency, for alice (whom the agency trusts: user:alice) give
temporary credentials that the SDK parses and its CCE client then signs with (the certificate's CN names the
agency), and for mallory (trusted by no agency) raise 403 IAM.0003 and 403 PAP5.0001.

Subcommands:
  setup DIR   writes RSA keys, the provider's JWK Set and two identity files (identity.yaml, and
              identity-no-metadata.yaml without a `metadata:` section) for `emulator serve --identity-file`: users
              alice (the emulator's demo key) and mallory (a key of her own), agency ci-deployer trusting the
              provider and alice;
  run ...     runs the checks against emulators started with those files (both with --admin).
Each check runs the SDK in a child process with a fresh environment (only the variables of the source under
test, HOME an empty directory), a time limit, and a guard that refuses any request to a host outside
127.0.0.0/8: the SDK's metadata address (MetadataAccessor._METADATA_ENDPOINT) is pointed at an emulator before
anything else runs, so 169.254.169.254 and the cloud's endpoints are never contacted. Our CLI runs likewise
(PATH, an empty HOME and the source's variables only); every endpoint it may use is given (STS, IAM, --endpoint,
--project-id, the metadata endpoint or CCE_AUTOPILOT_METADATA_DISABLED=1), all of them the emulators.

Prints one line per check, `PASS <name>: <detail>` or `FAIL <name>: <detail>`, plus `INFO` lines with what the
SDK put on the wire. Exits 1 if any check failed.
"""

import argparse
import base64
import ipaddress
import json
import os
import signal
import subprocess
import sys
import time
import traceback
import urllib.request
from urllib.parse import urlsplit

# The identity world the emulator is given (pinned by the emulator's identity-file interface).
ACCOUNT_ID = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"
USER_AK = "HPUAEXAMPLEAK00000001"      # alice's: the emulator's demo key (its banner's; secret key below)
USER_SK = "exampleSecretKey0000000000000000000000000"
# mallory: a user of the same account with a key of her own, trusted by no agency.
MALLORY_AK = "HPUAMALLORYAK00000002"
MALLORY_SK = "mallorySecretKey00000000000000000000000000"
PROVIDER = "ci"
ISSUER = "https://ci.example.test"
CLIENT_ID = "cce-autopilot"
AGENCY = "ci-deployer"
AGENCY_ID = "5f4e3d2c1b0a49382716f5e4d3c2b1a0"
PROVIDER_URN = "iam::%s:identity-provider:%s" % (ACCOUNT_ID, PROVIDER)
AGENCY_URN = "iam::%s:agency:%s" % (ACCOUNT_ID, AGENCY)
KID = "ci-key-1"
SUBJECT = "repo:example/cce-autopilot:ref:refs/heads/main"
CONFIGURE_AGENCY = "Please configure Cloud Service Agency first"

RESULTS = []


def one_line(text):
    return " | ".join(part.strip() for part in str(text).splitlines() if part.strip())


def report(ok, name, detail):
    RESULTS.append(ok)
    print("%s %s: %s" % ("PASS" if ok else "FAIL", name, one_line(detail)), flush=True)


def info(name, detail):
    print("INFO %s: %s" % (name, one_line(detail)), flush=True)


# ---------------------------------------------------------------------------------------------------------------
# setup: keys, JWK Set, identity files

def b64url_uint(n):
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def new_key(path):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with open(path, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    os.chmod(path, 0o600)
    return key


def identity_yaml(with_metadata):
    text = """\
account_id: {account}
users:
  - name: alice
    access_keys: [{ak}]
  - name: mallory
    access_keys: [{mallory_ak}]
    secret_keys: [{mallory_sk}]
identity_providers:
  - name: {provider}
    issuer: {issuer}
    client_id: {client_id}
    jwks_file: ci-jwks.json
    agency: {agency}
agencies:
  - name: {agency}
    id: {agency_id}
    trusted: ["idp:{provider}", "user:alice"]
""".format(account=ACCOUNT_ID, ak=USER_AK, mallory_ak=MALLORY_AK, mallory_sk=MALLORY_SK, provider=PROVIDER,
           issuer=ISSUER, client_id=CLIENT_ID, agency=AGENCY, agency_id=AGENCY_ID)
    if with_metadata:
        text += "metadata:\n  agency: %s\n" % AGENCY
    text += "pod_identity:\n  provider: %s\n  agency: %s\n" % (PROVIDER, AGENCY)
    return text


def setup(args):
    os.makedirs(args.dir, exist_ok=True)
    key = new_key(os.path.join(args.dir, "ci-key.pem"))
    new_key(os.path.join(args.dir, "rogue-key.pem"))  # signs the bad-signature token; never in the JWKS
    numbers = key.public_key().public_numbers()
    jwks = {"keys": [{"kty": "RSA", "use": "sig", "alg": "RS256", "kid": KID,
                      "n": b64url_uint(numbers.n), "e": b64url_uint(numbers.e)}]}
    with open(os.path.join(args.dir, "ci-jwks.json"), "w", encoding="utf-8") as f:
        json.dump(jwks, f, indent=2)
    for name, with_metadata in (("identity.yaml", True), ("identity-no-metadata.yaml", False)):
        with open(os.path.join(args.dir, name), "w", encoding="utf-8") as f:
            f.write(identity_yaml(with_metadata))
    info("setup", "wrote ci-key.pem, rogue-key.pem, ci-jwks.json (kid %s), identity.yaml, identity-no-metadata.yaml "
                  "in %s" % (KID, args.dir))
    return 0


# ---------------------------------------------------------------------------------------------------------------
# attempt: one SDK run in a child process (reads its spec as JSON on stdin, prints `RESULT <json>`)

WIRE = []       # every HTTP request the SDK made (through requests), with the answer's status
FOREIGN = []    # requests refused by the loopback guard
STEPS = []      # every credential fetch of an StsAccessor: which one, and its outcome


class NotLoopback(Exception):
    """Raised instead of sending a request to a host outside 127.0.0.0/8 (the SDK's chain does not catch it)."""


def is_loopback(host):
    try:
        return ipaddress.ip_address(host) in ipaddress.ip_network("127.0.0.0/8")
    except ValueError:
        return False


def install_guard():
    """Wraps requests' HTTPAdapter.send, which every SDK request goes through (its HttpClient's session, and the
    plain requests.get/put/post of the metadata and pod-identity accessors): loopback only, and logged."""
    from requests.adapters import HTTPAdapter
    send = HTTPAdapter.send

    def guarded(self, request, *a, **kw):
        parts = urlsplit(request.url)
        entry = {"method": request.method, "path": parts.path + ("?" + parts.query if parts.query else ""),
                 "headers": sorted(request.headers.keys())}
        if not is_loopback(parts.hostname or ""):
            FOREIGN.append("%s %s://%s%s" % (request.method, parts.scheme, parts.netloc, parts.path))
            raise NotLoopback("refused to contact %s (tests only talk to 127.0.0.0/8)" % parts.netloc)
        try:
            response = send(self, request, *a, **kw)
        except Exception as e:
            entry["error"] = "%s: %s" % (type(e).__name__, e)
            WIRE.append(entry)
            raise
        entry["status"] = response.status_code
        if response.status_code >= 400:
            entry["body"] = response.content[:400].decode("utf-8", "replace")
        WIRE.append(entry)
        return response

    HTTPAdapter.send = guarded


def instrument_accessors():
    """Records each call of the SDK's StsAccessor classes (which source fetched, and what happened)."""
    from huaweicloudsdkcore.auth import internal
    for cls in (internal.OidcStsAccessor, internal.FederalAccessor, internal.MetadataAccessor,
                internal.PodIdentityAccessor):
        original = cls.get_credential

        def wrapped(self, *a, _original=original, _name=cls.__name__, **kw):
            try:
                credential = _original(self, *a, **kw)
            except Exception as e:
                STEPS.append({"accessor": _name, "ok": False, "error": describe_error(e)})
                raise
            STEPS.append({"accessor": _name, "ok": True, "expires_at": credential.expire_at})
            return credential

        cls.get_credential = wrapped


def describe_error(e):
    """The exception and, along its __cause__/__context__ chain, the first SDK ServiceResponseException."""
    from huaweicloudsdkcore.exceptions.exceptions import ServiceResponseException
    d = {"type": type(e).__name__, "text": str(e)[:600]}
    seen, cur = set(), e
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if isinstance(cur, ServiceResponseException):
            d["service"] = {"type": type(cur).__name__, "status": cur.status_code, "error_code": cur.error_code,
                            "error_msg": cur.error_msg, "request_id": cur.request_id}
            break
        cur = cur.__cause__ or cur.__context__
    return d


def shift_sdk_clock(seconds, renewal):
    """Moves the SDK's clocks `seconds` ahead: the signer's (X-Sdk-Date: signer.datetime.utcnow) always, and with
    `renewal` also the one its credentials compare expires_at with (utils.time_utils.get_timestamp_utc)."""
    from datetime import datetime, timedelta
    from huaweicloudsdkcore.signer import signer
    from huaweicloudsdkcore.utils import time_utils

    class ShiftedDatetime(datetime):
        @classmethod
        def utcnow(cls):
            return datetime.utcnow() + timedelta(seconds=seconds)

    signer.datetime = ShiftedDatetime
    if renewal:
        real = time_utils.get_timestamp_utc
        time_utils.get_timestamp_utc = lambda: real() + seconds


def put_clock_offset(admin_url, seconds):
    request = urllib.request.Request(admin_url + "/_emulator/clock-offset", data=str(int(seconds)).encode(),
                                     method="PUT", headers={"Content-Type": "text/plain"})
    with urllib.request.urlopen(request, timeout=10) as r:
        return r.status


def certificate_cn(response):
    """The CN of the kubeconfig's client certificate, and what cryptography warned about while reading it."""
    import warnings
    from cryptography import x509
    from cryptography.x509.oid import NameOID
    users = response.users or []
    data = users[0].user.client_certificate_data if users and users[0].user else None
    if not data:
        return None, []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cert = x509.load_pem_x509_certificate(base64.b64decode(data))
        names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return (names[0].value if names else ""), [str(w.message) for w in caught]


def credentials_facts(credentials):
    accessor = credentials.sts_accessor
    return {
        "class": type(credentials).__name__,
        "accessor": type(accessor).__name__ if accessor is not None else None,
        "ak": (credentials.ak or "")[:4] + "…",  # enough to tell keys apart in a log
        "temporary": bool(credentials.security_token),
        "iam_endpoint": credentials.iam_endpoint,
        "project_id": getattr(credentials, "project_id", None),
    }


def attempt(_args):
    spec = json.load(sys.stdin)
    install_guard()
    # First of all: the SDK's ECS-metadata address is a class constant; never leave it at 169.254.169.254.
    from huaweicloudsdkcore.auth.internal import MetadataAccessor
    MetadataAccessor._METADATA_ENDPOINT = spec["metadata_url"]
    if spec.get("assume"):
        return assume_attempt(spec)
    instrument_accessors()

    from huaweicloudsdkcore.auth.internal import StsHelper
    from huaweicloudsdkcore.http.http_config import HttpConfig
    from huaweicloudsdkcore.region.region import Region
    from huaweicloudsdkcce.v3 import CceClient, CertDuration, CreateAutopilotKubernetesClusterCertRequest

    result = {"phases": []}
    config = HttpConfig.get_default_config()
    config.timeout = (5, 20)
    config.retry_times = 0

    def cert_call(client):
        request = CreateAutopilotKubernetesClusterCertRequest(cluster_id=spec["cluster"],
                                                              body=CertDuration(duration=30))
        response = client.create_autopilot_kubernetes_cluster_cert(request)
        cn, warned = certificate_cn(response)
        return {"status": response.status_code, "kind": response.kind, "cn": cn, "cn_warnings": warned}

    def phase(label, fn):
        entry = {"phase": label, "wire_from": len(WIRE), "steps_from": len(STEPS)}
        try:
            entry["ok"] = fn()
        except Exception as e:  # noqa: BLE001 - reported to the parent
            entry["error"] = describe_error(e)
            traceback.print_exc(file=sys.stderr)
        entry["wire"] = WIRE[entry.pop("wire_from"):]
        entry["steps"] = STEPS[entry.pop("steps_from"):]
        result["phases"].append(entry)
        return "error" not in entry

    holder = {}

    def build():
        builder = CceClient.new_builder().with_http_config(config)
        if spec["chain"] == "get_basic":
            # The SDK's own basic chain, CredentialProviderChain.get_basic_credential_provider_chain(), whose
            # providers have the credential type "basic" (so the profile section [basic]).
            from huaweicloudsdkcore.auth.provider import CredentialProviderChain
            builder = builder.with_credentials(
                CredentialProviderChain.get_basic_credential_provider_chain().get_credentials())
        # else no with_credentials: ClientBuilder.build() runs get_default_credential_provider_chain("BasicCredentials")
        if spec["region_lookup"]:
            # With a region and no project id, the SDK asks IAM: GET {iam}/v3/projects?name=<region>, signed.
            builder = builder.with_region(Region(spec["region"], spec["url"]))
        else:
            builder = builder.with_endpoints([spec["url"]])
        holder["client"] = builder.build()
        holder["credentials"] = holder["client"].get_credentials()
        return credentials_facts(holder["credentials"])

    try:
        if phase("build", build):
            client, credentials = holder["client"], holder["credentials"]
            if spec["mode"] == "call":
                if phase("call", lambda: cert_call(client)):
                    result["credentials"] = credentials_facts(credentials)

                    def whoami():
                        http = client.get_http_client()
                        request = StsHelper.get_caller_identity_request(http.config, spec["url"])
                        response = http.do_request_sync(credentials.process_auth_request(request, http).result())
                        return json.loads(response.content)

                    phase("caller-identity", whoami)
            elif spec["mode"] == "renewal":
                from huaweicloudsdkcore.utils import time_utils

                def remaining():
                    return credentials._expire_at - time_utils.get_timestamp_utc()

                if phase("call", lambda: dict(cert_call(client), remaining=remaining())):
                    first_ak = credentials.ak
                    offset = int(remaining()) + 900  # 15 minutes past the expiry
                    result["offset"] = offset
                    try:
                        result["clock_put"] = put_clock_offset(spec["admin_url"], offset)
                        # The emulator and the SDK's signer are `offset` ahead (so X-Sdk-Date is not skewed); the
                        # SDK's renewal check is not, so it still believes in its credentials and signs with them.
                        shift_sdk_clock(offset, renewal=False)
                        result["remaining_sdk_believes"] = remaining()

                        phase("expired", lambda: cert_call(client))
                        result["same_ak"] = credentials.ak == first_ak
                        # Now the SDK's own clock moves too: fewer than 40 minutes left, so it renews itself.
                        shift_sdk_clock(offset, renewal=True)
                        result["remaining_before_renewal"] = remaining()
                        if phase("renewed", lambda: dict(cert_call(client), remaining=remaining())):
                            result["renewed_ak_differs"] = credentials.ak != first_ak
                            result["credentials"] = credentials_facts(credentials)
                    finally:
                        try:
                            put_clock_offset(spec["admin_url"], 0)
                        except Exception as e:  # noqa: BLE001
                            result["clock_reset_error"] = str(e)
    finally:
        result["foreign"] = FOREIGN
        print("RESULT " + json.dumps(result, default=str), flush=True)
    return 0


def assume_attempt(spec):
    """A child for a1-a4: the SDK's own IAM or STS client, given a user's permanent key (BasicCredentials, the
    emulator as its only endpoint), asks for an agency's temporary credentials (IAM CreateTemporaryAccessKeyByAgency:
    POST /v3.0/OS-CREDENTIAL/securitytokens, method assume_role; STS AssumeAgency: POST /v5/agencies/assume); with
    what it parsed, the SDK's CCE client asks for a certificate, and GET /v5/caller-identity says whom they act for."""
    from huaweicloudsdkcore.auth.credentials import BasicCredentials
    from huaweicloudsdkcore.http.http_config import HttpConfig
    from huaweicloudsdkcce.v3 import CceClient, CertDuration, CreateAutopilotKubernetesClusterCertRequest

    assume = spec["assume"]
    result = {"phases": []}
    config = HttpConfig.get_default_config()
    config.timeout = (5, 20)
    config.retry_times = 0

    def phase(label, fn):
        entry = {"phase": label, "wire_from": len(WIRE)}
        try:
            entry["ok"] = fn()
        except Exception as e:  # noqa: BLE001 - reported to the parent
            entry["error"] = describe_error(e)
            traceback.print_exc(file=sys.stderr)
        entry["wire"] = WIRE[entry.pop("wire_from"):]
        entry["steps"] = []
        result["phases"].append(entry)
        return "error" not in entry

    user = BasicCredentials(assume["ak"], assume["sk"])  # no project id: these calls are not project-scoped
    temporary = {}

    def seconds_left(expiry):
        """What the SDK parsed as the expiry (a datetime if python-dateutil is installed, else the string as sent),
        as seconds from now; None if it is no ISO 8601 time with a zone."""
        from datetime import datetime, timezone
        try:
            when = expiry if isinstance(expiry, datetime) else datetime.fromisoformat(str(expiry))
            if when.tzinfo is None:
                return None
            return (when - datetime.now(timezone.utc)).total_seconds()
        except ValueError:
            return None

    def via_iam():
        from huaweicloudsdkiam.v3 import (AgencyAuth, AgencyAuthIdentity, AssumeroleSessionuser,
                                          CreateTemporaryAccessKeyByAgencyRequest,
                                          CreateTemporaryAccessKeyByAgencyRequestBody, IamClient, IdentityAssumerole)
        client = IamClient.new_builder().with_http_config(config).with_credentials(user) \
            .with_endpoints([spec["url"]]).build()
        role = IdentityAssumerole(agency_name=assume["agency"], duration_seconds=900,
                                  session_user=AssumeroleSessionuser(name=assume["session"]), **assume["domain"])
        request = CreateTemporaryAccessKeyByAgencyRequest(body=CreateTemporaryAccessKeyByAgencyRequestBody(
            auth=AgencyAuth(identity=AgencyAuthIdentity(methods=["assume_role"], assume_role=role))))
        response = client.create_temporary_access_key_by_agency(request)
        c = response.credential
        if c is None:
            raise ValueError("the SDK parsed no `credential` from the %s answer" % response.status_code)
        temporary.update(ak=c.access, sk=c.secret, token=c.securitytoken)
        return {"status": response.status_code, "ak": (c.access or "")[:4] + "…", "has_secret": bool(c.secret),
                "has_token": bool(c.securitytoken), "expires": repr(c.expires_at),
                "seconds_left": seconds_left(c.expires_at)}

    def via_sts():
        from huaweicloudsdksts.v1 import AssumeAgencyReqBody, AssumeAgencyRequest, StsClient
        client = StsClient.new_builder().with_http_config(config).with_credentials(user) \
            .with_endpoints([spec["url"]]).build()
        request = AssumeAgencyRequest(body=AssumeAgencyReqBody(
            agency_urn=assume["agency_urn"], agency_session_name=assume["session"], duration_seconds=900))
        response = client.assume_agency(request)
        c, agency = response.credentials, response.assumed_agency
        if c is None:
            raise ValueError("the SDK parsed no `credentials` from the %s answer" % response.status_code)
        temporary.update(ak=c.access_key_id, sk=c.secret_access_key, token=c.security_token)
        return {"status": response.status_code, "ak": (c.access_key_id or "")[:4] + "…",
                "has_secret": bool(c.secret_access_key), "has_token": bool(c.security_token),
                "expires": repr(c.expiration), "seconds_left": seconds_left(c.expiration),
                "assumed_urn": agency.urn if agency else None,
                "assumed_id": agency.id if agency else None}

    def cert_call():
        credentials = BasicCredentials(temporary["ak"], temporary["sk"], spec["project_id"]) \
            .with_security_token(temporary["token"])
        client = CceClient.new_builder().with_http_config(config).with_credentials(credentials) \
            .with_endpoints([spec["url"]]).build()
        temporary["cce"] = client
        response = client.create_autopilot_kubernetes_cluster_cert(CreateAutopilotKubernetesClusterCertRequest(
            cluster_id=spec["cluster"], body=CertDuration(duration=1)))
        cn, warned = certificate_cn(response)
        return {"status": response.status_code, "kind": response.kind, "cn": cn, "cn_warnings": warned}

    def whoami():
        # With the STS SDK, its own GetCallerIdentity; without it, the core's StsHelper (as the SDK's chain does).
        credentials = BasicCredentials(temporary["ak"], temporary["sk"]).with_security_token(temporary["token"])
        try:
            from huaweicloudsdksts.v1 import GetCallerIdentityRequest, StsClient
        except ImportError:
            from huaweicloudsdkcore.auth.internal import StsHelper
            http = temporary["cce"].get_http_client()
            request = StsHelper.get_caller_identity_request(http.config, spec["url"])
            return json.loads(http.do_request_sync(credentials.process_auth_request(request, http).result()).content)
        client = StsClient.new_builder().with_http_config(config).with_credentials(credentials) \
            .with_endpoints([spec["url"]]).build()
        r = client.get_caller_identity(GetCallerIdentityRequest())
        return {"account_id": r.account_id, "principal_urn": r.principal_urn, "principal_id": r.principal_id}

    try:
        if phase("assume", via_iam if assume["service"] == "iam" else via_sts):
            if phase("call", cert_call):
                phase("caller-identity", whoami)
    finally:
        result["foreign"] = FOREIGN
        print("RESULT " + json.dumps(result, default=str), flush=True)
    return 0


# ---------------------------------------------------------------------------------------------------------------
# run: the parent, which mints the ID tokens, runs the attempts and judges them

class Minter:
    def __init__(self, directory):
        from cryptography.hazmat.primitives import serialization
        self.dir = directory
        self.keys = {}
        for name in ("ci", "rogue"):
            with open(os.path.join(directory, "%s-key.pem" % name), "rb") as f:
                self.keys[name] = serialization.load_pem_private_key(f.read(), password=None)
        os.makedirs(os.path.join(directory, "tokens"), exist_ok=True)

    def token(self, key="ci", lifetime=3600, age=0, **claims):
        import jwt
        now = int(time.time()) - age
        body = {"iss": ISSUER, "aud": CLIENT_ID, "sub": SUBJECT, "iat": now, "nbf": now, "exp": now + lifetime}
        body.update(claims)
        return jwt.encode(body, self.keys[key], algorithm="RS256", headers={"kid": KID})

    def file(self, name, token):
        path = os.path.join(self.dir, "tokens", name + ".jwt")
        with open(path, "w", encoding="utf-8") as f:
            f.write(token + "\n")  # the SDK strips it, as a projected token file ends with a newline
        return path


def run_attempt(args, label, env, *, region_lookup, metadata_url, mode="call", chain="builder", assume=None):
    """Runs one SDK attempt in a child process with only `env` (plus PATH, LANG and an empty HOME)."""
    home = os.path.join(args.dir, "home", label)
    os.makedirs(home, exist_ok=True)
    child_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", "HOME": home,
                 "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost", "PYTHONUNBUFFERED": "1"}
    child_env.update(env)
    spec = {"url": args.url, "region": args.region, "cluster": args.cluster, "region_lookup": region_lookup,
            "metadata_url": metadata_url, "mode": mode, "admin_url": args.url, "chain": chain,
            "project_id": args.project_id, "assume": assume}
    log_path = os.path.join(args.dir, "logs", label + ".err")
    os.makedirs(os.path.dirname(log_path), exist_ok=True)
    with open(log_path, "w", encoding="utf-8") as err:
        child = subprocess.Popen([sys.executable, os.path.abspath(__file__), "attempt"], stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, stderr=err, env=child_env, cwd=home, text=True,
                                 start_new_session=True)
        try:
            out, _ = child.communicate(json.dumps(spec), timeout=args.timeout)
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)
            child.communicate()
            return {"crash": "no answer within %d s (killed)" % args.timeout, "log": log_path}
    for line in reversed(out.splitlines()):
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT "):])
    with open(log_path, encoding="utf-8", errors="replace") as f:
        tail = " | ".join(f.read().strip().splitlines()[-3:])
    return {"crash": "exit %s without a result: %s" % (child.returncode, tail), "log": log_path}


def phase_of(result, name):
    return next((p for p in result.get("phases", []) if p["phase"] == name), None)


def wire_text(entries):
    out = []
    for w in entries:
        s = "%s %s -> %s" % (w["method"], w["path"], w.get("status", w.get("error")))
        if "body" in w:
            s += " %s" % w["body"][:200]
        out.append(s)
    return "; ".join(out) or "nothing"


def all_wire(result):
    return [w for p in result.get("phases", []) for w in p["wire"]]


def error_text(e):
    s = e.get("service")
    if s:
        return "%s (%s %s %s: %s)" % (e["type"], s["type"], s["status"], s["error_code"], s["error_msg"])
    return "%s: %s" % (e["type"], e["text"])


def problems_of_common(result):
    if "crash" in result:
        return ["child: %s (log %s)" % (result["crash"], result.get("log"))]
    if result.get("foreign"):
        return ["the SDK tried to leave 127.0.0.0/8: %s" % ", ".join(result["foreign"])]
    return []


def cn_note(call):
    """Notes a CN longer than X.509's upper bound (RFC 5280 ub-common-name: 64), which cryptography warns about."""
    if len(call.get("cn") or "") <= 64:
        return ""
    return " (NOTE: %d characters, over RFC 5280's ub-common-name 64; cryptography: %s)" % (
        len(call["cn"]), "; ".join(call.get("cn_warnings") or []) or "no warning")


def judge_success(name, result, want_accessor, extra=None):
    """A source check: the chain picked `want_accessor`, the call succeeded, the CN names the agency."""
    problems = problems_of_common(result)
    if not problems:
        build, call = phase_of(result, "build"), phase_of(result, "call")
        if "error" in build:
            problems.append("building the client failed: %s" % error_text(build["error"]))
        elif build["ok"]["accessor"] != want_accessor:
            problems.append("the chain chose %s, want %s" % (build["ok"]["accessor"], want_accessor))
        elif call is None or "error" in call:
            problems.append("the call failed: %s" % (error_text(call["error"]) if call else "not made"))
        else:
            got = call["ok"]
            if got["status"] != 200 or got["kind"] != "Config":
                problems.append("status %s kind %s" % (got["status"], got["kind"]))
            if not got.get("cn") or AGENCY_ID not in got["cn"]:
                problems.append("client certificate CN %r does not contain the agency id %s" % (got.get("cn"),
                                                                                              AGENCY_ID))
            if not result.get("credentials", {}).get("temporary"):
                problems.append("the SDK's credentials carry no security token")
            if extra:
                problems += extra(result)
    wire = wire_text(all_wire(result))
    if problems:
        report(False, name, "; ".join(problems) + "; wire: " + wire)
        return
    call = phase_of(result, "call")["ok"]
    creds = result["credentials"]
    who = phase_of(result, "caller-identity")
    report(True, name, "chain chose %s, temporary AK %s, project %s; 200 kubeconfig, client certificate CN=%s%s" % (
        creds["accessor"], creds["ak"], creds["project_id"], call["cn"], cn_note(call)))
    info(name, "wire: " + wire)
    if who is not None:
        info(name, "caller identity: %s" % (who.get("ok") or error_text(who["error"])))


def judge_refusal(name, results, keyword):
    """A negative check: for each source, the chain picked it, its credential request was refused (4xx), the
    SDK's call failed with that, and the CCE call was never made."""
    details, ok = [], True
    for source, (result, want_accessor, endpoint) in results.items():
        problems = problems_of_common(result)
        err = None
        if not problems:
            build, call = phase_of(result, "build"), phase_of(result, "call")
            wire = all_wire(result)
            if "error" in build:
                # Sources 1 and 2 fetch at the first call, not while the chain runs.
                problems.append("building the client failed: %s" % error_text(build["error"]))
            elif build["ok"]["accessor"] != want_accessor:
                problems.append("the chain chose %s, want %s" % (build["ok"]["accessor"], want_accessor))
            elif call is None or "error" not in call:
                problems.append("the call succeeded (want it to fail)")
            else:
                err = call["error"]
                service = err.get("service") or {}
                refused = [w for w in wire if w["path"] == endpoint and 400 <= w.get("status", 0) < 500]
                if not refused:
                    problems.append("no 4xx answer from %s: %s" % (endpoint, wire_text(wire)))
                if not (400 <= (service.get("status") or 0) < 500):
                    problems.append("the SDK raised %s, not a 4xx ServiceResponseException" % error_text(err))
                if any("/clustercert" in w["path"] for w in wire):
                    problems.append("the CCE call was made anyway")
                said = " ".join([str(service.get("error_msg"))] + [w.get("body", "") for w in refused]).lower()
                if keyword not in said:
                    problems.append("the refusal does not mention %r: %s" % (keyword, said[:200]))
        if problems:
            ok = False
            details.append("%s: %s" % (source, "; ".join(problems)))
        else:
            details.append("%s: %s" % (source, error_text(err)))
    report(ok, name, " | ".join(details))


def judge_renewal(name, result):
    problems = problems_of_common(result)
    first, expired, renewed = (phase_of(result, p) for p in ("call", "expired", "renewed"))
    if not problems:
        if first is None or "error" in first:
            problems.append("the first call failed: %s" % (error_text(first["error"]) if first else "not made"))
        else:
            if result.get("clock_put") != 204:
                problems.append("PUT /_emulator/clock-offset answered %s, want 204" % result.get("clock_put"))
            if expired is None:
                problems.append("the expired-credentials call was not made")
            elif "error" not in expired:
                problems.append("with expired credentials the call succeeded (want 401)")
            else:
                service = expired["error"].get("service") or {}
                if service.get("status") != 401:
                    problems.append("with expired credentials: %s (want 401)" % error_text(expired["error"]))
                if expired["steps"]:
                    problems.append("the SDK renewed before the expired call: %s" % expired["steps"])
            if not result.get("same_ak"):
                problems.append("the SDK's access key changed before its clock moved")
            if renewed is None or "error" in renewed:
                problems.append("after renewal the call failed: %s; wire: %s" % (
                    error_text(renewed["error"]) if renewed else "not made",
                    wire_text(renewed["wire"]) if renewed else ""))
            else:
                if not any(s["accessor"] == "OidcStsAccessor" and s["ok"] for s in renewed["steps"]):
                    problems.append("no renewal by the SDK's OidcStsAccessor: %s" % renewed["steps"])
                if not result.get("renewed_ak_differs"):
                    problems.append("the renewed access key is the old one")
                cn = renewed["ok"].get("cn")
                if not cn or AGENCY_ID not in cn:
                    problems.append("client certificate CN %r lacks the agency id" % cn)
        if result.get("clock_reset_error"):
            problems.append("resetting the clock offset failed: %s" % result["clock_reset_error"])
    if problems:
        report(False, name, "; ".join(problems))
        return
    service = expired["error"]["service"]
    report(True, name, "first call 200 (%.0f s of validity left); emulator clock +%d s: the SDK (still believing "
                       "%.0f s left) signed with its expired key and got %s %s %r; SDK clock +%d s (%.0f s left < "
                       "2400): it renewed through STS and the call got 200, CN=%s" % (
                           first["ok"]["remaining"], result["offset"], result["remaining_sdk_believes"],
                           service["status"], service["error_code"], service["error_msg"], result["offset"],
                           result["remaining_before_renewal"], renewed["ok"]["cn"] + cn_note(renewed["ok"])))
    info(name, "wire: " + wire_text(all_wire(result)))


def judge_assume(name, result, want):
    """a1/a3: the SDK parsed temporary credentials (an access key, a secret key, a security token and an expiry) from
    the emulator's answer to its assume call (status `want["status"]`), and with them the SDK's CCE client got a
    kubeconfig whose client certificate CN names the agency id; for STS, the parsed assumed_agency names the agency
    and the session."""
    problems = problems_of_common(result)
    got = call = None
    if not problems:
        assume, call = phase_of(result, "assume"), phase_of(result, "call")
        if "error" in assume:
            problems.append("the SDK's %s failed: %s" % (want["operation"], error_text(assume["error"])))
        else:
            got = assume["ok"]
            if got["status"] != want["status"]:
                problems.append("the SDK saw status %s, want %s" % (got["status"], want["status"]))
            missing = [k for k in ("has_secret", "has_token") if not got[k]] + (
                ["expiry"] if got["expires"] in ("None", "''") else [])
            if got["ak"] == "…" or missing:
                problems.append("the SDK parsed no %s" % ", ".join((["access key"] if got["ak"] == "…" else []) +
                                                                 missing))
            left = got.get("seconds_left")
            if left is None or not 900 - 120 <= left <= 900 + 5:
                problems.append("expiry %s is %s, want about 900 s from now (duration_seconds 900)" % (
                    got["expires"], "not an ISO 8601 time with a zone" if left is None else "%.0f s away" % left))
            for field, parts in want.get("assumed", {}).items():
                value = got.get(field) or ""
                if not all(p in value for p in parts):
                    problems.append("assumed_agency.%s %r does not contain %s" % (field.split("_")[1], value,
                                                                                 " and ".join(parts)))
            if call is None or "error" in call:
                problems.append("with those credentials the CCE call failed: %s" % (
                    error_text(call["error"]) if call else "not made"))
            else:
                c = call["ok"]
                if c["status"] != 200 or c["kind"] != "Config":
                    problems.append("CCE answered status %s kind %s" % (c["status"], c["kind"]))
                if not c.get("cn") or AGENCY_ID not in c["cn"]:
                    problems.append("client certificate CN %r does not contain the agency id %s" % (c.get("cn"),
                                                                                                  AGENCY_ID))
    wire = wire_text(all_wire(result))
    if problems:
        report(False, name, "; ".join(problems) + "; wire: " + wire)
        return
    extra = ", assumed_agency urn=%s id=%s" % (got["assumed_urn"], got["assumed_id"]) if "assumed_urn" in got else ""
    report(True, name, "%s: %s, temporary AK %s, expiry %s (%.0f s away)%s; CCE with them: 200 kubeconfig, client "
                       "certificate CN=%s%s" % (want["operation"], got["status"], got["ak"], got["expires"],
                                                got["seconds_left"], extra, call["ok"]["cn"], cn_note(call["ok"])))
    info(name, "wire: " + wire)
    info(name, "the SDK's assume request carried the headers %s" % ", ".join(all_wire(result)[0]["headers"]))
    who = phase_of(result, "caller-identity")
    if who is not None:
        info(name, "caller identity with the temporary key: %s" % (who.get("ok") or error_text(who["error"])))


def judge_assume_refused(name, result, want):
    """a2/a4: the emulator refused the untrusted caller's assume call and the SDK raised it as a
    ServiceResponseException with `want["status"]` and `want["code"]`; no CCE call followed."""
    problems = problems_of_common(result)
    err = None
    if not problems:
        assume = phase_of(result, "assume")
        wire = all_wire(result)
        if "error" not in assume:
            problems.append("the SDK's %s succeeded (want %s %s): %s" % (want["operation"], want["status"],
                                                                       want["code"], assume["ok"]))
        else:
            err = assume["error"]
            service = err.get("service") or {}
            if service.get("status") != want["status"] or service.get("error_code") != want["code"]:
                problems.append("the SDK raised %s, want a ServiceResponseException %s %s" % (
                    error_text(err), want["status"], want["code"]))
            if [w["path"] for w in wire] != [want["path"]]:
                problems.append("want exactly one request, to %s: %s" % (want["path"], wire_text(wire)))
        if phase_of(result, "call") is not None:
            problems.append("the CCE call was made anyway")
    if problems:
        report(False, name, "; ".join(problems) + "; wire: " + wire_text(all_wire(result)))
        return
    report(True, name, "%s refused: %s" % (want["operation"], error_text(err)))
    info(name, "wire: " + wire_text(all_wire(result)))


# ---------------------------------------------------------------------------------------------------------------
# c: our CLI, given the same configuration as the SDK, against the same emulators; both sides' requests compared

# The identity calls whose shape must match the SDK's; CCE's (clustercert) and IAM's project lookup are left out.
IDENTITY_PATHS = ("/v3.0/OS-AUTH/id-token/tokens", "/v3.0/OS-CREDENTIAL/securitytokens",
                  "/v5/agencies/assume-with-oidc", "/meta-data/latest/api/token", "/openstack/latest/securitykey",
                  "/pod-identity/credentials")


class RequestLogs:
    """The request logs of the emulators (GET <url>/_emulator/requests, served with --admin): `mark()` notes where
    each one ends, `since(mark)` returns each one's records after that, without the log's own GETs."""

    def __init__(self, urls):
        self.urls = urls  # {label: base URL}
        self.opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: never a proxy

    def fetch(self, url):
        with self.opener.open(url + "/_emulator/requests", timeout=10) as r:
            records = json.loads(r.read().decode("utf-8"))
        if not isinstance(records, list):
            raise ValueError("%s/_emulator/requests answered %r, not a JSON array" % (url, records))
        return records

    def mark(self):
        # The last record's request id, not a count: the log keeps only its last 10000 records.
        marks = {}
        for label, url in self.urls.items():
            records = self.fetch(url)
            marks[label] = records[-1]["request_id"] if records else None
        return marks

    def since(self, marks):
        out = {}
        for label, url in self.urls.items():
            records = self.fetch(url)
            ids = [r.get("request_id") for r in records]
            start = 0
            if marks.get(label) is not None:
                if marks[label] not in ids:
                    raise ValueError("the %s emulator's request log no longer holds request %s" % (label, marks[label]))
                start = ids.index(marks[label]) + 1
            out[label] = [r for r in records[start:] if not r["path"].startswith("/_emulator/")]
        return out


def observed(logs, fn):
    """Runs fn() and returns its result and the requests the emulators received meanwhile."""
    mark = logs.mark()
    result = fn()
    return result, logs.since(mark)


def identity_requests(requests_by_emulator):
    return {label: [r for r in records if r["path"].split("?")[0] in IDENTITY_PATHS]
            for label, records in requests_by_emulator.items()}


def request_text(r):
    heads = ", ".join("%s=%s" % kv for kv in sorted(r.get("headers", {}).items()))
    return "%s %s -> %s {%s} body_keys=[%s]" % (r["method"], r["path"], r.get("status"), heads,
                                                  ", ".join(r.get("body_keys") or []))


def requests_text(requests_by_emulator):
    parts = []
    for label, records in requests_by_emulator.items():
        if records:
            parts.append("%s emulator: %s" % (label, "; ".join(request_text(r) for r in records)))
    return " || ".join(parts) or "no identity request"


def compare_requests(sdk, ours):
    """The differences between two {emulator: [record]} sets, one string each: requests only one side made (the
    sequences of (method, path) aligned), and for the requests both made, each header and body key that differs."""
    import difflib
    diffs = []
    for label in sorted(set(sdk) | set(ours)):
        a, b = sdk.get(label, []), ours.get(label, [])
        seq_a = ["%s %s" % (r["method"], r["path"]) for r in a]
        seq_b = ["%s %s" % (r["method"], r["path"]) for r in b]
        if seq_a != seq_b:
            diffs.append("%s emulator, sequence of (method, path): SDK [%s] vs ours [%s]" % (
                label, ", ".join(seq_a) or "none", ", ".join(seq_b) or "none"))
        matcher = difflib.SequenceMatcher(a=seq_a, b=seq_b, autojunk=False)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag == "equal":
                for i, j in zip(range(i1, i2), range(j1, j2)):
                    diffs += compare_request("%s emulator, SDK request #%d / our #%d (%s)" % (
                        label, i + 1, j + 1, seq_a[i]), a[i], b[j])
                continue
            for i in range(i1, i2):
                diffs.append("%s emulator, SDK request #%d %s: we sent no such request there" % (
                    label, i + 1, request_text(a[i])))
            for j in range(j1, j2):
                diffs.append("%s emulator, our request #%d %s: the SDK sent no such request there" % (
                    label, j + 1, request_text(b[j])))
    return diffs


def compare_request(where, a, b):
    diffs = []
    ha, hb = a.get("headers") or {}, b.get("headers") or {}
    for name in sorted(set(ha) | set(hb)):
        if ha.get(name) != hb.get(name):
            diffs.append("%s: header %s: SDK %s, ours %s" % (
                where, name, "%r" % ha[name] if name in ha else "absent", "%r" % hb[name] if name in hb else "absent"))
    ka, kb = set(a.get("body_keys") or []), set(b.get("body_keys") or [])
    if ka - kb:
        diffs.append("%s: body keys the SDK sends and we do not: %s" % (where, sorted(ka - kb)))
    if kb - ka:
        diffs.append("%s: body keys we send and the SDK does not: %s" % (where, sorted(kb - ka)))
    if a.get("status") != b.get("status"):
        diffs.append("%s: status: SDK got %s, we got %s" % (where, a.get("status"), b.get("status")))
    return diffs


def run_cli(args, label, env):
    """Runs `<cli> kubeconfig get` with only `env` (plus PATH, an empty HOME and a KUBECONFIG inside it), as
    `env -i` would; returns its exit status, stdout and stderr (also kept in DIR/logs/cli-LABEL.out and .err)."""
    home = os.path.join(args.dir, "home", "cli-" + label)
    os.makedirs(home, exist_ok=True)
    cli_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": home,
               "KUBECONFIG": os.path.join(home, "kubeconfig")}
    cli_env.update(env)
    command = [args.cli, "--timeout", "20s", "kubeconfig", "get", "--cluster", args.cluster, "--duration", "1",
               "--endpoint", args.url, "--project-id", args.project_id]
    try:
        done = subprocess.run(command, env=cli_env, cwd=home, stdin=subprocess.DEVNULL, capture_output=True,
                              text=True, timeout=args.timeout)
        out = {"rc": done.returncode, "stdout": done.stdout, "stderr": done.stderr}
    except subprocess.TimeoutExpired as e:  # subprocess.run has killed it
        out = {"rc": None, "stdout": e.stdout or "", "stderr": (e.stderr or "") + "\n(no exit within %d s: killed)"
               % args.timeout}
        out = {k: (v.decode("utf-8", "replace") if isinstance(v, bytes) else v) for k, v in out.items()}
    logs = os.path.join(args.dir, "logs")
    os.makedirs(logs, exist_ok=True)
    for stream in ("stdout", "stderr"):
        with open(os.path.join(logs, "cli-%s.%s" % (label, stream[3:])), "w", encoding="utf-8") as f:
            f.write(out[stream])
    return out


def stderr_tail(outcome, lines=3):
    return " | ".join(outcome["stderr"].strip().splitlines()[-lines:]) or "(empty)"


def kubeconfig_cn(text):
    """The CN of the client certificate in a kubeconfig YAML (the first user's client-certificate-data)."""
    import yaml
    from cryptography import x509
    from cryptography.x509.oid import NameOID
    doc = yaml.safe_load(text)
    if not isinstance(doc, dict) or doc.get("kind") != "Config":
        raise ValueError("stdout is not a kubeconfig (kind: Config): %r" % text[:120])
    data = ((doc.get("users") or [{}])[0].get("user") or {}).get("client-certificate-data")
    if not data:
        raise ValueError("the kubeconfig has no users[0].user.client-certificate-data")
    cert = x509.load_pem_x509_certificate(base64.b64decode("".join(data.split())))
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return names[0].value if names else ""


def judge_cli_match(name, outcome, sdk_requests, our_requests, quirks=()):
    """Our CLI got a kubeconfig whose CN names the agency, and its identity requests are the SDK's: the same
    (method, path) sequence on each emulator, and per request the same headers and body keys. `quirks`: (test,
    note) pairs; a difference for which test(diff) is true is the SDK's quirk, printed as INFO, not a failure."""
    problems = []
    cn = None
    if outcome["rc"] != 0:
        problems.append("CLI exit %s: %s" % (outcome["rc"], stderr_tail(outcome)))
    else:
        try:
            cn = kubeconfig_cn(outcome["stdout"])
            if AGENCY_ID not in cn:
                problems.append("client certificate CN %r does not contain the agency id %s" % (cn, AGENCY_ID))
        except Exception as e:  # noqa: BLE001
            problems.append("CLI exit 0 but: %s: %s" % (type(e).__name__, e))
    sdk_ids, our_ids = identity_requests(sdk_requests), identity_requests(our_requests)
    if not any(sdk_ids.values()):
        problems.append("the SDK made no identity request to compare with (its run: %s)" % requests_text(sdk_requests))
    diffs = []
    for diff in compare_requests(sdk_ids, our_ids):
        note = next((n for test, n in quirks if test(diff)), None)
        if note:
            info(name, "SDK quirk, not compared: %s (%s)" % (diff, note))
        else:
            diffs.append(diff)
    if problems or diffs:
        report(False, name, "; ".join(problems + ["DIFF " + d for d in diffs]) + "; SDK sent: %s; we sent: %s" % (
            requests_text(sdk_ids), requests_text(our_ids)))
        return
    report(True, name, "CLI exit 0, client certificate CN=%s; identity requests identical to the SDK's: %s" % (
        cn, requests_text(our_ids)))


def judge_cli_refusal(name, runs, keywords, token):
    """Our CLI, given an ID token the emulator refuses: exit 3, the emulator's reason on stderr, no trace of the
    token on stderr or stdout, no CCE call, and the same identity requests as the SDK with that token."""
    secrets = [token] + token.split(".")[1:]  # the whole token, its claims and its signature
    details, ok = [], True
    for source, (outcome, endpoint, our_requests, sdk_requests) in runs.items():
        problems = []
        err = outcome["stderr"]
        if outcome["rc"] != 3:
            problems.append("CLI exit %s (want 3): %s" % (outcome["rc"], stderr_tail(outcome)))
        if not any(k in err.lower() for k in keywords):
            problems.append("stderr names none of %s: %s" % (list(keywords), stderr_tail(outcome)))
        leaked = [s for s in secrets if s and (s in err or s in outcome["stdout"])]
        if leaked:
            problems.append("the ID token (or a part of it, %d characters) is on stderr/stdout" % len(leaked[0]))
        records = [r for rs in our_requests.values() for r in rs]
        if not any(r["path"] == endpoint and 400 <= (r.get("status") or 0) < 500 for r in records):
            problems.append("no 4xx answer from %s in the emulator's log" % endpoint)
        if any("/clustercert" in r["path"] for r in records):
            problems.append("the CCE call was made anyway")
        problems += ["DIFF " + d for d in compare_requests(identity_requests(sdk_requests),
                                                           identity_requests(our_requests))]
        if problems:
            ok = False
            details.append("%s: %s; we sent: %s" % (source, "; ".join(problems),
                                                    requests_text(identity_requests(our_requests))))
        else:
            line = next((l for l in err.splitlines() if any(k in l.lower() for k in keywords)), err.strip())
            details.append("%s: exit 3, %s" % (source, line.strip()))
    report(ok, name, " | ".join(details))


def run(args):
    import huaweicloudsdkcore
    from importlib.metadata import version
    def version_or_none(name):
        try:
            return version(name)
        except Exception:  # noqa: BLE001 - PackageNotFoundError
            return "not installed"

    info("sdk", "huaweicloudsdkcce %s, huaweicloudsdkcore %s (%s), huaweicloudsdkiam %s, huaweicloudsdksts %s" % (
        version("huaweicloudsdkcce"), version("huaweicloudsdkcore"), os.path.dirname(huaweicloudsdkcore.__file__),
        version_or_none("huaweicloudsdkiam"), version_or_none("huaweicloudsdksts")))
    minter = Minter(args.dir)
    good = minter.file("good", minter.token())
    oidc = {"HUAWEICLOUD_OIDC_PROVIDER_URN": PROVIDER_URN, "HUAWEICLOUD_OIDC_AGENCY_URN": AGENCY_URN,
            "HUAWEICLOUD_SDK_STS_ENDPOINT": args.url}
    lookup_iam = {"HUAWEICLOUD_SDK_IAM_ENDPOINT": args.url}
    no_metadata = args.no_metadata_url
    # Both emulators' request logs: the SDK's and our CLI's requests, each run's slice.
    logs = RequestLogs({"identity": args.url, "no-metadata": no_metadata})
    if args.cli:
        info("cli", "our CLI: %s (kubeconfig get --cluster %s --duration 1 --endpoint %s --project-id %s)" % (
            args.cli, args.cluster, args.url, args.project_id))
    # Our CLI's ECS metadata source: off for the runs about another source, else at the emulator the SDK's
    # MetadataAccessor._METADATA_ENDPOINT is given.
    metadata_off = {"CCE_AUTOPILOT_METADATA_DISABLED": "1"}

    def metadata_at(url):
        return {"CCE_AUTOPILOT_METADATA_ENDPOINT": url}

    def check(name, fn):
        try:
            fn()
        except Exception as e:  # noqa: BLE001
            report(False, name, "%s: %s" % (type(e).__name__, e))
            traceback.print_exc(file=sys.stderr)

    def source(name, cli_name, label, env, cli_env, want_accessor, extra=None, **attempt):
        """One source: the SDK's check, then (with --cli) our CLI with the same variables, compared."""
        seen = {}

        def sdk_side():
            result, seen["sdk"] = observed(logs, lambda: run_attempt(args, label, env, **attempt))
            judge_success(name, result, want_accessor, extra)

        check(name, sdk_side)
        if not args.cli:
            return

        def cli_side():
            if "sdk" not in seen:
                raise RuntimeError("the SDK's run (%s) did not complete, so there is nothing to compare with" % name)
            outcome, ours = observed(logs, lambda: run_cli(args, label, dict(env, **cli_env)))
            judge_cli_match(cli_name, outcome, seen["sdk"], ours)

        check(cli_name, cli_side)

    # 1. OIDC via STS: the token file, project id from HUAWEICLOUD_SDK_PROJECT_ID, the endpoint given.
    source("i1-oidc-sts", "c1-oidc-sts-cli-matches-sdk", "i1",
           dict(oidc, HUAWEICLOUD_OIDC_TOKEN_FILE=good, HUAWEICLOUD_SDK_PROJECT_ID=args.project_id), metadata_off,
           "OidcStsAccessor", region_lookup=False, metadata_url=no_metadata)

    # 2. Environment federation: IAM from HUAWEICLOUD_SDK_IAM_ENDPOINT, project id looked up there for the region.
    def iam_is(want):
        return lambda r: [] if r["credentials"]["iam_endpoint"] == want else [
            "the credentials' IAM endpoint is %r, want %r" % (r["credentials"]["iam_endpoint"], want)]

    source("i2-env-idp", "c2-env-idp-cli-matches-sdk", "i2",
           dict(lookup_iam, HUAWEICLOUD_SDK_IDP_ID=PROVIDER, HUAWEICLOUD_SDK_ID_TOKEN_FILE=good), metadata_off,
           "FederalAccessor", iam_is(args.url), region_lookup=True, metadata_url=no_metadata)

    # 3. Profile file: idp_id + id_token_file + iam_endpoint, no IAM variable; project id looked up there. The
    # section is the chain's credential type: "basic" for CredentialProviderChain.get_basic_credential_provider_
    # chain(), but ClientBuilder.build()'s own chain is made with the type "BasicCredentials", so its
    # ProfileCredentialProvider reads the section [basiccredentials] (lower-cased class name) instead.
    def profile(section):
        path = os.path.join(args.dir, "credentials-%s.ini" % section)
        with open(path, "w", encoding="utf-8") as f:
            f.write("[%s]\nidp_id = %s\nid_token_file = %s\niam_endpoint = %s\n" % (section, PROVIDER, good, args.url))
        return path

    source("i3-profile-idp", "c3-profile-idp-cli-matches-sdk", "i3",
           {"HUAWEICLOUD_SDK_CREDENTIALS_FILE": profile("basic")}, metadata_off,
           "FederalAccessor", iam_is(args.url), region_lookup=True, metadata_url=no_metadata, chain="get_basic")
    check("i3b-profile-idp-builder-chain", lambda: judge_success("i3b-profile-idp-builder-chain", run_attempt(
        args, "i3b", {"HUAWEICLOUD_SDK_CREDENTIALS_FILE": profile("basiccredentials")},
        region_lookup=True, metadata_url=no_metadata), "FederalAccessor", iam_is(args.url)))
    if args.cli:
        # Our CLI reads only [basic] (the section of the SDK's basic chain): [basiccredentials] is the quirk of the
        # SDK's builder chain (its credential type's class name, lower-cased). Recorded, not judged.
        def builder_section():
            outcome, ours = observed(logs, lambda: run_cli(args, "i3b", dict(
                metadata_off, HUAWEICLOUD_SDK_CREDENTIALS_FILE=os.path.join(args.dir,
                                                                            "credentials-basiccredentials.ini"))))
            said = [l.strip() for l in outcome["stderr"].splitlines() if "profile" in l] or [stderr_tail(outcome, 2)]
            info("c3b-profile-builder-section", "SDK quirk (its builder chain reads [basiccredentials]); our CLI "
                 "reads only [basic], and with only [basiccredentials] it exits %s: %s; identity requests: %s" % (
                     outcome["rc"], said[0], requests_text(identity_requests(ours))))

        check("c3b-profile-builder-section", builder_section)

    # 4. ECS metadata: MetadataAccessor._METADATA_ENDPOINT = the emulator; nothing else configured.
    source("i4-metadata", "c4-metadata-cli-matches-sdk", "i4", dict(lookup_iam), metadata_at(args.url),
           "MetadataAccessor", region_lookup=True, metadata_url=args.url)

    # 5. Pod identity, after the metadata source has answered 401 "Please configure Cloud Service Agency first".
    def metadata_declined(result):
        steps = phase_of(result, "build")["steps"]
        meta = [s for s in steps if s["accessor"] == "MetadataAccessor"]
        if not meta or meta[0]["ok"]:
            return ["the chain did not try ECS metadata first: %s" % steps]
        service = meta[0]["error"].get("service") or {}
        if service.get("status") != 401 or CONFIGURE_AGENCY not in json.dumps(meta[0]["error"]):
            return ["ECS metadata failed otherwise than 401 %r: %s" % (CONFIGURE_AGENCY, error_text(meta[0]["error"]))]
        info("i5-pod-identity", "ECS metadata (second emulator) declined: %s, so the chain moved on" %
             error_text(meta[0]["error"]))
        return []

    pod_token = minter.file("pod", minter.token(sub="system:serviceaccount:ci:deployer"))
    source("i5-pod-identity", "c5-pod-identity-cli-matches-sdk", "i5",
           dict(lookup_iam, HC_CONTAINER_CREDENTIALS_FULL_URI=args.url + "/pod-identity/credentials",
                HC_CONTAINER_AUTHORIZATION_TOKEN_FILE=pod_token), metadata_at(no_metadata),
           "PodIdentityAccessor", metadata_declined, region_lookup=True, metadata_url=no_metadata)

    # 6-9. ID tokens the emulator must refuse, through STS (source 1) and IAM federation (source 2); with --cli,
    # our CLI too (c6-c9): exit 3, the emulator's reason on stderr, the token nowhere in its output.
    bad = (("i6-bad-signature", "signature", ("no key verifies it", "signature"), minter.token(key="rogue")),
           ("i7-wrong-iss", "iss", ("issuer",), minter.token(iss="https://other-issuer.example.test")),
           ("i8-wrong-aud", "aud", ("audience",), minter.token(aud="some-other-client")),
           ("i9-expired-id-token", "exp", ("expired",), minter.token(age=7200, lifetime=3600)))
    for name, keyword, cli_keywords, token in bad:
        label = name.split("-")[0]
        sts_env = dict(oidc, HUAWEICLOUD_OIDC_ID_TOKEN=token, HUAWEICLOUD_SDK_PROJECT_ID=args.project_id)
        iam_env = dict(lookup_iam, HUAWEICLOUD_SDK_IDP_ID=PROVIDER, HUAWEICLOUD_SDK_PROJECT_ID=args.project_id,
                       HUAWEICLOUD_SDK_ID_TOKEN_FILE=minter.file(label, token))
        seen = {}

        def negative(name=name, keyword=keyword, label=label, sts_env=sts_env, iam_env=iam_env, seen=seen):
            via_sts, seen["sts"] = observed(logs, lambda: run_attempt(args, label + "-sts", sts_env,
                                                                      region_lookup=False, metadata_url=no_metadata))
            via_iam, seen["iam"] = observed(logs, lambda: run_attempt(args, label + "-iam", iam_env,
                                                                      region_lookup=False, metadata_url=no_metadata))
            judge_refusal(name, {
                "source 1 (STS)": (via_sts, "OidcStsAccessor", "/v5/agencies/assume-with-oidc"),
                "source 2 (IAM)": (via_iam, "FederalAccessor", "/v3.0/OS-AUTH/id-token/tokens")}, keyword)

        check(name, negative)
        if not args.cli:
            continue
        cli_name = "c" + name[1:] + "-cli-refused"

        def cli_negative(label=label, cli_name=cli_name, cli_keywords=cli_keywords, token=token, sts_env=sts_env,
                         iam_env=iam_env, seen=seen):
            if "sts" not in seen or "iam" not in seen:
                raise RuntimeError("the SDK's runs did not complete, so there is nothing to compare with")
            via_sts, ours_sts = observed(logs, lambda: run_cli(args, label + "-sts", dict(sts_env, **metadata_off)))
            via_iam, ours_iam = observed(logs, lambda: run_cli(args, label + "-iam", dict(iam_env, **metadata_off)))
            judge_cli_refusal(cli_name, {
                "OIDC via STS (HUAWEICLOUD_OIDC_ID_TOKEN)": (via_sts, "/v5/agencies/assume-with-oidc", ours_sts,
                                                             seen["sts"]),
                "env federation (HUAWEICLOUD_SDK_IDP_ID)": (via_iam, "/v3.0/OS-AUTH/id-token/tokens", ours_iam,
                                                            seen["iam"])}, cli_keywords, token)

        check(cli_name, cli_negative)

    # 10. Expired temporary credentials: refused, then renewed by the SDK itself. The ID token outlives the
    # clock move (the OIDC provider reads it once and sends it again at each renewal).
    long_lived = minter.file("long-lived", minter.token(lifetime=86400))
    check("i10-expired-credentials-renewed", lambda: judge_renewal("i10-expired-credentials-renewed", run_attempt(
        args, "i10", dict(oidc, HUAWEICLOUD_OIDC_TOKEN_FILE=long_lived, HUAWEICLOUD_SDK_PROJECT_ID=args.project_id),
        region_lookup=False, metadata_url=no_metadata, mode="renewal")))
    try:  # the child resets it too; this covers a child that was killed
        put_clock_offset(args.url, 0)
    except Exception as e:  # noqa: BLE001
        info("i10-expired-credentials-renewed", "could not reset the emulator's clock offset: %s" % e)

    # a1-a4. A user's permanent key (BasicCredentials) and the SDK's own IAM and STS clients: alice, whom ci-deployer
    # trusts (user:alice), gets its temporary credentials, and with them a certificate naming the agency; mallory,
    # whom no agency trusts, is refused.
    alice = {"ak": args.user_ak, "sk": args.user_sk, "agency": AGENCY, "agency_urn": AGENCY_URN}
    mallory = dict(alice, ak=MALLORY_AK, sk=MALLORY_SK)
    if args.user_ak != USER_AK:
        info("g1-sdk-iam-assume-role", "the emulator's banner key %s is not alice's %s in the identity file" % (
            args.user_ak, USER_AK))

    def assume(label, who, **extra):
        return run_attempt(args, label, {}, region_lookup=False, metadata_url=no_metadata,
                           assume=dict(who, **extra))

    iam_path = "/v3.0/OS-CREDENTIAL/securitytokens"
    iam_ok = {"operation": "IAM CreateTemporaryAccessKeyByAgency (assume_role)", "status": 201}
    check("g1-sdk-iam-assume-role", lambda: judge_assume("g1-sdk-iam-assume-role", assume(
        "a1", alice, service="iam", session="interop-alice", domain={"domain_id": ACCOUNT_ID}),
        dict(iam_ok, operation=iam_ok["operation"] + ", domain_id")))
    check("g1b-sdk-iam-assume-role-domain-name", lambda: judge_assume("g1b-sdk-iam-assume-role-domain-name", assume(
        "a1b", alice, service="iam", session="interop-alice", domain={"domain_name": ACCOUNT_ID}),
        dict(iam_ok, operation=iam_ok["operation"] + ", domain_name")))
    check("g2-sdk-iam-assume-role-untrusted", lambda: judge_assume_refused("g2-sdk-iam-assume-role-untrusted", assume(
        "a2", mallory, service="iam", session="interop-mallory", domain={"domain_id": ACCOUNT_ID}),
        {"operation": "IAM CreateTemporaryAccessKeyByAgency (assume_role) for mallory", "status": 403,
         "code": "IAM.0003", "path": iam_path}))

    sts = sts_sdk()
    if sts is None:
        return 0 if RESULTS and all(RESULTS) else 1
    sts_ok = {"operation": "STS AssumeAgency", "status": 200,
              "assumed": {"assumed_urn": [AGENCY, "interop-alice"], "assumed_id": [AGENCY_ID, "interop-alice"]}}
    check("g3-sdk-sts-assume-agency", lambda: judge_assume("g3-sdk-sts-assume-agency", assume(
        "a3", alice, service="sts", session="interop-alice"), sts_ok))
    check("g4-sdk-sts-untrusted", lambda: judge_assume_refused("g4-sdk-sts-untrusted", assume(
        "a4", mallory, service="sts", session="interop-mallory"),
        {"operation": "STS AssumeAgency for mallory", "status": 403, "code": "PAP5.0001",
         "path": "/v5/agencies/assume"}))
    return 0 if RESULTS and all(RESULTS) else 1


def sts_sdk():
    """The installed huaweicloudsdksts's version if it can sit beside this huaweicloudsdkcore (the same 3.1.x
    release: its clients import the core's internals); else None, after a FAIL line saying why g3-g4 cannot run."""
    from importlib.metadata import PackageNotFoundError, version
    core = version("huaweicloudsdkcore")
    try:
        sts = version("huaweicloudsdksts")
    except PackageNotFoundError:
        report(False, "g3-sdk-sts-assume-agency", "huaweicloudsdksts is not installed (none %s on PyPI, or pip "
                                         "failed: see the script's log), so the STS SDK's AssumeAgency is not checked"
             % core)
        return None
    if sts != core or not sts.startswith("3.1."):
        report(False, "g3-sdk-sts-assume-agency", "huaweicloudsdksts %s does not match huaweicloudsdkcore %s"
             % (sts, core))
        return None
    return sts


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("setup", help="write keys, the JWK Set and the identity files")
    s.add_argument("--dir", required=True)
    r = sub.add_parser("run", help="run the checks against running emulators")
    r.add_argument("--dir", required=True, help="the directory `setup` wrote")
    r.add_argument("--url", required=True, help="emulator started with DIR/identity.yaml and --admin")
    r.add_argument("--no-metadata-url", required=True, help="emulator started with DIR/identity-no-metadata.yaml")
    r.add_argument("--region", required=True)
    r.add_argument("--project-id", required=True)
    r.add_argument("--cluster", required=True, help="a cluster id the emulator serves")
    r.add_argument("--timeout", type=int, default=90, help="seconds one SDK child (or CLI run) may take")
    r.add_argument("--user-ak", default=USER_AK, help="alice's access key (the emulator's banner's): a1-a4")
    r.add_argument("--user-sk", default=USER_SK, help="alice's secret key (the emulator's banner's)")
    r.add_argument("--cli", help="our cce-autopilot binary: run it for each source and bad token too, and compare "
                                 "its identity requests with the SDK's (both emulators need --admin)")
    sub.add_parser("attempt", help=argparse.SUPPRESS)
    args = p.parse_args()
    for url in (getattr(args, "url", None), getattr(args, "no_metadata_url", None)):
        if url is not None and not is_loopback(urlsplit(url).hostname or ""):
            p.error("%s is not on 127.0.0.0/8" % url)
    return {"setup": setup, "run": run, "attempt": attempt}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
