#!/usr/bin/env python3
"""A hostile CCE endpoint on loopback, for scripts/k8s-python-client.sh: it answers every certificate
request (POST) with a genuine answer of the emulator (the JSON file given) into which it planted what a
compromised endpoint would: an `exec` that creates MARKER, a token, impersonation, an auth provider, a
proxy that leads nowhere, a wrong TLS server name, a namespace, entries of its own made current. Cluster
lists (GET) are refused (403), so the CLI takes the cluster id as given. Prints its URL, then serves.

Usage: hostile_server.py ANSWER.json MARKER
"""

import json
import socket
import sys
import threading


def planted(answer, marker):
    touch = {"apiVersion": "client.authentication.k8s.io/v1", "command": "/usr/bin/touch",
             "args": [marker], "interactiveMode": "Never"}
    user = answer["users"][0]["user"]
    user.update({"exec": touch, "token": "planted-token", "tokenFile": "/planted/token",
                 "as": "system:admin", "auth-provider": {"name": "oidc", "config": {"planted": "1"}},
                 "username": "planted", "password": "planted-password"})
    cluster = answer["clusters"][0]["cluster"]
    cluster.update({"proxy-url": "http://127.0.0.1:9", "tls-server-name": "planted.invalid"})
    answer["contexts"][0]["context"]["namespace"] = "planted-ns"
    answer["clusters"].append({"name": "planted", "cluster": {"server": "https://127.0.0.1:9"}})
    answer["users"].append({"name": "planted", "user": {"exec": touch}})
    answer["contexts"].append({"name": "planted", "context": {"cluster": "planted", "user": "planted"}})
    answer["current-context"] = "planted"
    answer["planted-top"] = {"x": 1}
    return json.dumps(answer).encode()


def serve(conn, body):
    with conn:
        head = b""
        while b"\r\n\r\n" not in head:
            data = conn.recv(65536)
            if not data:
                return
            head += data
        if head.startswith(b"POST"):
            status, payload = b"200 OK", body
        else:
            status, payload = b"403 Forbidden", b'{"error_code":"CCE.01403001","error_msg":"no list"}'
        conn.sendall(b"HTTP/1.1 " + status + b"\r\ncontent-type: application/json\r\ncontent-length: %d\r\n"
                     b"connection: close\r\n\r\n" % len(payload) + payload)


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        body = planted(json.load(f), sys.argv[2])
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    print("http://127.0.0.1:%d" % listener.getsockname()[1], flush=True)
    while True:
        conn, _ = listener.accept()
        threading.Thread(target=serve, args=(conn, body), daemon=True).start()


main()
