"""Behaviour tests of both delay proxies (Perf/delay_proxy.c built with cc, and Perf/delay_proxy.py) against a
local echo server: bytes forwarded both ways in order, several outstanding requests on one connection, many
connections at once, a large answer, the client closed when the server closes, a refused target. No timing is
asserted (the delay itself is a benchmark figure, not a test).
Run: python3 -m unittest discover -s Perf/tests
"""
import socket
import subprocess
import sys
import threading
import time
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tandem_perf.backends import delay_proxy_command  # noqa: E402
from tandem_perf.common import free_port, port_free  # noqa: E402


class EchoServer:
    """Echoes every byte back; a connection that sends b"BYE" is closed by the server after the echo."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(128)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.echo, args=(c,), daemon=True).start()

    @staticmethod
    def echo(c):
        with c:
            while True:
                data = c.recv(65536)
                if not data:
                    return
                c.sendall(data)
                if data.endswith(b"BYE"):
                    return

    def close(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)  # stops listening (a blocked accept() holds the socket open)
        except OSError:
            pass
        self.sock.close()


def recv_exactly(s, n):
    out = b""
    while len(out) < n:
        chunk = s.recv(n - len(out))
        if not chunk:
            break
        out += chunk
    return out


class DelayProxyBehaviour:
    kind = "c"

    def setUp(self):
        cmd, kind = delay_proxy_command(self.kind)
        if kind != self.kind:
            self.skipTest(f"no {self.kind} delay proxy here")
        self.echo = EchoServer()
        self.port = free_port(27900, set())
        self.proc = subprocess.Popen(cmd + [str(self.port), str(self.echo.port), "5"])
        deadline = time.monotonic() + 10
        while port_free(self.port) and time.monotonic() < deadline and self.proc.poll() is None:
            time.sleep(0.05)
        self.assertIsNone(self.proc.poll(), "the delay proxy exited")

    def tearDown(self):
        self.proc.terminate()
        self.proc.wait(timeout=5)
        self.echo.close()

    def connect(self):
        s = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return s

    def test_outstanding_requests_come_back_in_order(self):
        with self.connect() as s:
            msgs = [f"request-{i};".encode() for i in range(50)]
            for m in msgs:
                s.sendall(m)
            self.assertEqual(recv_exactly(s, sum(map(len, msgs))), b"".join(msgs))

    def test_many_connections(self):
        socks = [self.connect() for _ in range(100)]
        try:
            for i, s in enumerate(socks):
                s.sendall(f"conn {i}".encode())
            for i, s in enumerate(socks):
                want = f"conn {i}".encode()
                self.assertEqual(recv_exactly(s, len(want)), want)
        finally:
            for s in socks:
                s.close()

    def test_large_answer(self):
        data = bytes(range(256)) * 16384  # 4 MiB: beyond the socket buffers and the proxy's high-water mark
        with self.connect() as s:
            got = []
            reader = threading.Thread(target=lambda: got.append(recv_exactly(s, len(data))))
            reader.start()
            s.sendall(data)
            reader.join(timeout=60)
            self.assertEqual(got and got[0] == data, True)

    def test_server_close_closes_the_client(self):
        with self.connect() as s:
            s.sendall(b"last BYE")
            self.assertEqual(recv_exactly(s, 8), b"last BYE")
            self.assertEqual(s.recv(10), b"")

    def test_refused_target_closes_the_client(self):
        self.echo.close()
        time.sleep(0.1)
        with self.connect() as s:
            try:
                self.assertEqual(s.recv(10), b"")
            except ConnectionResetError:
                pass


class CDelayProxyTests(DelayProxyBehaviour, unittest.TestCase):
    kind = "c"


class PythonDelayProxyTests(DelayProxyBehaviour, unittest.TestCase):
    kind = "python"


if __name__ == "__main__":
    unittest.main()
