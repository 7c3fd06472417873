#!/usr/bin/env python3
"""Sends a MongoDB OP_MSG `{ping: 1, $db: "admin"}` (stdlib only) and exits 0 when the reply has ok: 1.
Usage: mongo_ping.py HOST PORT"""
import socket
import struct
import sys


def bson_doc(items):
    """Minimal BSON encoder for int32 / double / string values (enough for a ping)."""
    out = b""
    for key, value in items:
        k = key.encode() + b"\x00"
        if isinstance(value, int):
            out += b"\x10" + k + struct.pack("<i", value)
        elif isinstance(value, float):
            out += b"\x01" + k + struct.pack("<d", value)
        else:
            s = value.encode() + b"\x00"
            out += b"\x02" + k + struct.pack("<i", len(s)) + s
    return struct.pack("<i", len(out) + 5) + out + b"\x00"


def ok_in(doc):
    """Finds the `ok` field (double, int32 or int64) in a BSON document."""
    i, end = 4, len(doc) - 1
    while i < end:
        t = doc[i]
        j = doc.index(b"\x00", i + 1)
        name = doc[i + 1:j].decode()
        i = j + 1
        size = {0x01: 8, 0x10: 4, 0x12: 8, 0x08: 1, 0x09: 8, 0x11: 8, 0x07: 12, 0x0A: 0}.get(t)
        if t in (0x02, 0x0D, 0x0E):
            size = 4 + struct.unpack_from("<i", doc, i)[0]
        elif t in (0x03, 0x04):
            size = struct.unpack_from("<i", doc, i)[0]
        elif t == 0x05:
            size = 5 + struct.unpack_from("<i", doc, i)[0]
        if size is None:
            return None
        if name == "ok":
            if t == 0x01:
                return struct.unpack_from("<d", doc, i)[0]
            if t == 0x10:
                return struct.unpack_from("<i", doc, i)[0]
            if t == 0x12:
                return struct.unpack_from("<q", doc, i)[0]
        i += size
    return None


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    body = struct.pack("<I", 0) + b"\x00" + bson_doc([("ping", 1), ("$db", "admin")])
    msg = struct.pack("<iiii", 16 + len(body), 1, 0, 2013) + body
    with socket.create_connection((host, port), timeout=2) as s:
        s.sendall(msg)
        hdr = b""
        while len(hdr) < 16:
            chunk = s.recv(16 - len(hdr))
            if not chunk:
                sys.exit(1)
            hdr += chunk
        length = struct.unpack_from("<i", hdr)[0]
        rest = b""
        while len(rest) < length - 16:
            chunk = s.recv(length - 16 - len(rest))
            if not chunk:
                sys.exit(1)
            rest += chunk
    # OP_MSG reply: flagBits(4) kind(1) document
    sys.exit(0 if ok_in(rest[5:]) == 1 else 1)


if __name__ == "__main__":
    main()
