#!/usr/bin/env python3
"""A pod's servers for the NetworkPolicy truth table: TCP and UDP on ports 80 and 81,
each answering with the pod's name, so a probe also proves which pod it reached."""
import asyncio
import sys

NAME = sys.argv[1].encode() + b"\n"


class Udp(asyncio.DatagramProtocol):
    def connection_made(self, transport):
        self.t = transport

    def datagram_received(self, data, addr):
        self.t.sendto(NAME, addr)


async def tcp(reader, writer):
    writer.write(NAME)
    try:
        await writer.drain()
    finally:
        writer.close()


async def main():
    loop = asyncio.get_running_loop()
    for port in (80, 81):
        await asyncio.start_server(tcp, "0.0.0.0", port, reuse_address=True, backlog=512)
        await loop.create_datagram_endpoint(Udp, local_addr=("0.0.0.0", port))
    await asyncio.Event().wait()


asyncio.run(main())
