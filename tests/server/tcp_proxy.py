"""A TCP forwarder that a test can stall: `python tcp_proxy.py TARGET_HOST TARGET_PORT [PORT]`.

It prints the port it listens on, then forwards every connection. SIGSTOP freezes it the way a
hung database or network does (connections stay open, nothing answers); SIGCONT resumes it.
"""

from __future__ import annotations

import contextlib
import socket
import sys
import threading


def pump(source: socket.socket, sink: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            sink.sendall(data)
    except OSError:
        pass
    finally:
        for sock in (source, sink):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


def main() -> None:
    target = (sys.argv[1], int(sys.argv[2]))
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", int(sys.argv[3]) if len(sys.argv) > 3 else 0))
    server.listen(128)
    sys.stdout.write(f"{server.getsockname()[1]}\n")
    sys.stdout.flush()
    while True:
        client, _ = server.accept()
        upstream = socket.create_connection(target)
        for a, b in ((client, upstream), (upstream, client)):
            threading.Thread(target=pump, args=(a, b), daemon=True).start()


if __name__ == "__main__":
    main()
