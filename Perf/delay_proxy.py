#!/usr/bin/env python3
"""A TCP proxy that delays every server answer by a fixed time: gives a fast local backend (such as
the nx-27017 MongoDB-wire server) the latency of a remote one, for the async-mode benchmarks.

Usage: python3 Perf/delay_proxy.py LISTEN_PORT TARGET_PORT DELAY_MS   (127.0.0.1 only)
"""
import asyncio
import sys


async def pipe(reader, writer, delay):
    """Forwards every chunk `delay` seconds after it arrived. Chunks are scheduled, not slept on, so a
    connection carrying several outstanding requests (LDAP) keeps its concurrency; order is kept."""
    loop = asyncio.get_running_loop()
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            if delay:
                loop.call_later(delay, writer.write, data)
            else:
                writer.write(data)
                await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        if delay:
            loop.call_later(delay, writer.close)
        else:
            writer.close()


async def handle(client_reader, client_writer, target_port, delay):
    try:
        server_reader, server_writer = await asyncio.open_connection("127.0.0.1", target_port)
    except OSError:
        client_writer.close()
        return
    await asyncio.gather(pipe(client_reader, server_writer, 0), pipe(server_reader, client_writer, delay))


async def main():
    listen_port, target_port, delay_ms = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
    server = await asyncio.start_server(
        lambda r, w: handle(r, w, target_port, delay_ms / 1000.0), "127.0.0.1", listen_port)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
