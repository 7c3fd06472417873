#!/usr/bin/env python3
"""A UDP DNS forwarder that delays every answer by a fixed time: gives the local dnsmasq the latency of a
remote name server, for the DNS benchmark (issue 18: every call needing a fresh lookup at 20 ms).

Usage: python3 Perf/dns_delay.py LISTEN_PORT TARGET_PORT DELAY_MS   (127.0.0.1 only)

Queries go to 127.0.0.1:TARGET_PORT at once; each answer goes back to its client DELAY_MS later
(scheduled, not slept on, so any number of queries overlap). Answers are matched to clients by the DNS
message ID alone: two outstanding queries with the same ID lose one answer (the resolver retries).
"""
import asyncio
import sys


class Upstream(asyncio.DatagramProtocol):
    def __init__(self, pending, delay):
        self.pending, self.delay, self.downstream = pending, delay, None

    def datagram_received(self, data, addr):
        client = self.pending.pop(data[:2], None)
        if client and self.downstream:
            asyncio.get_running_loop().call_later(self.delay, self.downstream.sendto, data, client)


class Downstream(asyncio.DatagramProtocol):
    def __init__(self, pending, upstream):
        self.pending, self.upstream = pending, upstream

    def connection_made(self, transport):
        self.transport = transport

    def sendto(self, data, addr):
        self.transport.sendto(data, addr)

    def datagram_received(self, data, addr):
        if len(data) < 12:
            return
        self.pending[data[:2]] = addr
        self.upstream.sendto(data)


async def main(listen_port: int, target_port: int, delay_ms: float) -> None:
    loop = asyncio.get_running_loop()
    pending: dict[bytes, tuple] = {}
    up_transport, up = await loop.create_datagram_endpoint(
        lambda: Upstream(pending, delay_ms / 1000), remote_addr=("127.0.0.1", target_port))
    _, down = await loop.create_datagram_endpoint(
        lambda: Downstream(pending, up_transport), local_addr=("127.0.0.1", listen_port))
    up.downstream = down
    print(f"dns_delay: 127.0.0.1:{listen_port} -> 127.0.0.1:{target_port}, +{delay_ms} ms", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    if len(sys.argv) != 4:
        raise SystemExit(__doc__)
    try:
        asyncio.run(main(int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])))
    except KeyboardInterrupt:
        pass
