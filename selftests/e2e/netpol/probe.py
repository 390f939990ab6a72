#!/usr/bin/env python3
"""Runs every probe of one source pod at once. stdin: {"timeout": s, "probes": [{"id",
"ip", "port", "proto", "sport"}]}; stdout: {id: answering pod name or null}.
Each probe binds its own source port, unique in the run, so no probe reuses a tuple
an earlier verdict was stored for."""
import asyncio
import json
import socket
import sys


async def tcp(p, timeout):
    loop = asyncio.get_running_loop()
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setblocking(False)
    try:
        s.bind(("0.0.0.0", p["sport"]))
        await asyncio.wait_for(loop.sock_connect(s, (p["ip"], p["port"])), timeout)
        data = await asyncio.wait_for(loop.sock_recv(s, 256), timeout)
        return data.decode().strip() or None
    except (OSError, asyncio.TimeoutError):
        return None
    finally:
        s.close()


async def udp(p, timeout):
    loop = asyncio.get_running_loop()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setblocking(False)
    try:
        s.bind(("0.0.0.0", p["sport"]))
        s.connect((p["ip"], p["port"]))
        s.send(b"probe")
        data = await asyncio.wait_for(loop.sock_recv(s, 256), timeout)
        return data.decode().strip() or None
    except (OSError, asyncio.TimeoutError):
        return None
    finally:
        s.close()


async def main():
    req = json.load(sys.stdin)
    probes = req["probes"]
    t = req["timeout"]
    res = await asyncio.gather(*[(tcp if p["proto"] == "tcp" else udp)(p, t) for p in probes])
    json.dump({p["id"]: r for p, r in zip(probes, res)}, sys.stdout)


asyncio.run(main())
