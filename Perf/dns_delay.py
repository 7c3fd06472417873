#!/usr/bin/env python3
"""A UDP DNS forwarder that delays every answer by a fixed time: gives the local dnsmasq the latency of a
remote name server, for the DNS benchmark (issue 18: every call needing a fresh lookup at 20 ms).

Usage: python3 Perf/dns_delay.py LISTEN_PORT TARGET_PORT DELAY_MS   (127.0.0.1 only)

Queries go to 127.0.0.1:TARGET_PORT at once; each answer goes back to its client DELAY_MS after it
arrived (a FIFO of answers due, since the delay is the same for all, so any number of queries overlap).
Each query goes upstream under an ID of the forwarder's own (a 16-bit counter) and its answer goes back
with the client's ID, so clients that happen to pick the same ID (two c-ares channels, one per Tandem
worker) never lose an answer (up to 65,536 queries outstanding).

One plain loop (select, non-blocking sockets, every ready datagram read at once), not asyncio: the
forwarder runs on the same cores as the proxy and SIPp, so its CPU per query counts against the proxy
(an asyncio version cost about 200 us of CPU per query, this one a fraction of that).
"""
import collections
import select
import socket
import sys
import time


def main(listen_port: int, target_port: int, delay_ms: float) -> None:
    delay = delay_ms / 1000
    down = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    down.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    down.bind(("127.0.0.1", listen_port))
    down.setblocking(False)
    up = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    up.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    up.connect(("127.0.0.1", target_port))
    up.setblocking(False)
    pending: dict[bytes, tuple[bytes, tuple]] = {}
    due: collections.deque = collections.deque()  # (send time, answer, client), in time order
    next_id = 0
    print(f"dns_delay: 127.0.0.1:{listen_port} -> 127.0.0.1:{target_port}, +{delay_ms} ms", flush=True)
    monotonic, sockets = time.monotonic, [down, up]
    while True:
        now = monotonic()
        while due and due[0][0] <= now:
            _, answer, client = due.popleft()
            try:
                down.sendto(answer, client)
            except OSError:
                pass
        timeout = max(0.0, due[0][0] - now) if due else 1.0
        ready, _, _ = select.select(sockets, [], [], timeout)
        if down in ready:
            while True:
                try:
                    data, client = down.recvfrom(4096)
                except BlockingIOError:
                    break
                if len(data) < 12:
                    continue
                next_id = (next_id + 1) & 0xFFFF
                key = next_id.to_bytes(2, "big")
                pending[key] = (data[:2], client)
                try:
                    up.send(key + data[2:])
                except OSError:
                    pending.pop(key, None)
        if up in ready:
            arrived = monotonic()
            while True:
                try:
                    data = up.recv(4096)
                except (BlockingIOError, ConnectionRefusedError):
                    break
                entry = pending.pop(data[:2], None)
                if entry:
                    client_id, client = entry
                    due.append((arrived + delay, client_id + data[2:], client))


if __name__ == "__main__":
    if len(sys.argv) != 4:
        raise SystemExit(__doc__)
    try:
        main(int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]))
    except KeyboardInterrupt:
        pass
