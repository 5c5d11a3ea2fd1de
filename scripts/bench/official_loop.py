#!/usr/bin/env python3
"""N sequential create_autopilot_kubernetes_cluster_cert calls with one official-SDK client, after a warm-up.

The vendor's sample usage (BasicCredentials + CceClient.new_builder()), pointed at the emulator; no retries.
Prints one line of key=value results for scripts/bench-vs-official-sdk.sh.

Usage: official_loop.py URL PROJECT_ID CLUSTER_ID DURATION_DAYS CALLS WARMUP
(AK/SK from HUAWEICLOUD_SDK_AK / HUAWEICLOUD_SDK_SK).
"""

import math
import os
import sys
import time

from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.http.http_config import HttpConfig
from huaweicloudsdkcce.v3 import CceClient, CertDuration, CreateAutopilotKubernetesClusterCertRequest


def main():
    if len(sys.argv) != 7:
        sys.exit("usage: official_loop.py URL PROJECT_ID CLUSTER_ID DURATION_DAYS CALLS WARMUP")
    url, project_id, cluster_id, days, calls, warmup = sys.argv[1:]
    days, calls, warmup = int(days), int(calls), int(warmup)
    if calls < 1:
        sys.exit("CALLS must be at least 1")

    config = HttpConfig.get_default_config()
    config.timeout = (5, 30)
    config.retry_times = 0
    credentials = BasicCredentials(os.environ["HUAWEICLOUD_SDK_AK"], os.environ["HUAWEICLOUD_SDK_SK"], project_id)
    client = CceClient.new_builder() \
        .with_http_config(config) \
        .with_credentials(credentials) \
        .with_endpoints([url]) \
        .build()

    def call():
        request = CreateAutopilotKubernetesClusterCertRequest(cluster_id=cluster_id, body=CertDuration(duration=days))
        response = client.create_autopilot_kubernetes_cluster_cert(request)
        if response.status_code != 200 or not response.port_id or not response.users:
            raise RuntimeError("unexpected response: status %s" % response.status_code)

    for _ in range(warmup):
        call()
    latencies = []
    start = time.perf_counter()
    for _ in range(calls):
        t = time.perf_counter()
        call()
        latencies.append(time.perf_counter() - t)
    total = time.perf_counter() - start
    latencies.sort()

    def pick(q):
        return latencies[min(max(math.ceil(q * calls), 1), calls) - 1]

    print("calls=%d seconds=%.6f calls_per_s=%.2f p50_ms=%.3f p90_ms=%.3f" % (
        calls, total, calls / total, pick(0.5) * 1e3, pick(0.9) * 1e3))


if __name__ == "__main__":
    main()
