#!/usr/bin/env python3
"""Writes fuzz/seeds/signing/: the request of the signing vectors in shared/api/signing.md (and a few
variants) in the split-bytes layout the `signing` target reads (see fuzz_targets/signing.rs)."""
import os
import struct

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "seeds", "signing")
AK = "HPUAEXAMPLEAK00000001"
SK = "exampleSecretKey0000000000000000000000000"
PATH = ("/autopilot/v3/projects/0123456789abcdef0123456789abcdef"
        "/clusters/3f0c9a1e-2b4d-4c6e-8f10-123456789abc/clustercert")
BODY = b'{"duration": 30}'
HOST = "cce.cn-north-4.myhuaweicloud.com"
DATE = "20261128T120000Z"
AUTH_B = ("SDK-HMAC-SHA256 Access=HPUAEXAMPLEAK00000001, SignedHeaders=content-type;host;x-sdk-date, "
          "Signature=ff61bf33103574a6b644e8738f90a3a469bf7e90b0908f37e96c9173aea25d61")


def pairs(items):
    return "\x1e".join(f"{k}\x1f{v}" for k, v in items)


def seed(name, mutation, arg=0, v11=False, method="POST", path=PATH, query=(), headers=(), ak=AK,
         sk=SK, region="cn-north-4", service="cce", raw="", body=BODY, fallback=1795867200):
    head = bytes([mutation, arg, 1 if v11 else 0]) + struct.pack("<I", fallback)
    text = "\n".join([method, path, pairs(query), pairs(headers), ak, sk, region, service, raw])
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(head + text.encode() + b"\n" + body)


VECTOR_A = [("Content-Type", "application/json"), ("Host", HOST),
            ("User-Agent", "huaweicloud-usdk-python/3.0; golden-test"),
            ("X-Project-Id", "0123456789abcdef0123456789abcdef"), ("X-Sdk-Date", DATE)]
VECTOR_B = [("Content-Type", "application/json"), ("Host", HOST), ("X-Sdk-Date", DATE)]

os.makedirs(OUT, exist_ok=True)
seed("vector-a", 10, 3, headers=VECTOR_A)
seed("vector-b", 8, 5, headers=VECTOR_B, raw=AUTH_B)
seed("vector-c-v11", 9, 1, v11=True, headers=VECTOR_B,
     raw="V11-HMAC-SHA256 Credential=HPUAEXAMPLEAK00000001/20261128/cn-north-4/cce, "
         "SignedHeaders=content-type;host;x-sdk-date, Signature=d1bd4a4020e3627222fb1e3f097d6c2712c1d07d89ed9979cab897c0bac15c56")
seed("get-with-query", 2, 1, method="GET", path="/v3/a%20b/%7e/",
     query=[("limit", "10"), ("marker", "a/b c"), ("flag", "true"), ("empty", ""), ("a", "z"), ("a", "y")],
     headers=VECTOR_B + [("X-Security-Token", "tok"), ("x_skipped", "not signed")], body=b"")
seed("unsigned-payload", 8, 0, method="PUT", path="/upload",
     headers=[("Host", HOST), ("Content-Type", "application/octet-stream"),
              ("X-Sdk-Content-Sha256", "UNSIGNED-PAYLOAD"), ("X-Sdk-Date", DATE)], body=b"\x00\x01binary")
seed("duplicate-headers", 6, 1, headers=[("host", "first"), ("Host", " \t spaced  value \t"),
                                         ("X-Sdk-Date", DATE), ("Authorization", "stale")])
seed("no-date", 7, 0, method="DELETE", headers=[("Host", HOST)], fallback=0)
seed("bad-date", 11, 0, headers=[("Host", HOST), ("X-Sdk-Date", "2026-11-28T12:00:00Z")])
seed("bad-credentials", 12, 0, ak="a,k", region="cn/north", v11=True, headers=VECTOR_B)
