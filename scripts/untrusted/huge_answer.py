"""A hostile endpoint on loopback for scripts/untrusted-body.sh: every POST is answered 200 with a body of
SIZE bytes of zeros, declared in Content-Length or sent chunked; every GET with 403 (so the CLI takes the
cluster id as given). Prints its base URL on the first line, then serves until killed."""

import socket
import sys
import threading

SIZE = int(sys.argv[1])
CHUNKED = sys.argv[2] == "chunked"
BLOCK = b"0" * (1 << 16)


def serve(conn):
    with conn:
        head = b""
        while b"\r\n\r\n" not in head:
            data = conn.recv(65536)
            if not data:
                return
            head += data
        try:
            if head.startswith(b"GET"):
                body = b'{"error_code":"CCE.01403001","error_msg":"no list"}'
                conn.sendall(b"HTTP/1.1 403 Forbidden\r\ncontent-type: application/json\r\n"
                             b"content-length: %d\r\nconnection: close\r\n\r\n" % len(body) + body)
                return
            if CHUNKED:
                conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                             b"transfer-encoding: chunked\r\n\r\n")
            else:
                conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                             b"content-length: %d\r\n\r\n" % SIZE)
            left = SIZE
            while left > 0:
                block = BLOCK[: min(left, len(BLOCK))]
                if CHUNKED:
                    conn.sendall(b"%x\r\n" % len(block) + block + b"\r\n")
                else:
                    conn.sendall(block)
                left -= len(block)
            if CHUNKED:
                conn.sendall(b"0\r\n\r\n")
        except OSError:
            pass  # the client hung up: what it should do


def main():
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    print(f"http://127.0.0.1:{listener.getsockname()[1]}", flush=True)
    while True:
        conn, _ = listener.accept()
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


main()
