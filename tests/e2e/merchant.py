"""A merchant's WebSocket client for the end-to-end tests (contract: "Commerce control
channel"), on Debian's python3-websockets, and builders for its commands."""

import asyncio
import base64
import json
import struct
import time
import zlib

import websockets

import harness

DEMO_TOKEN = "demo-merchant-e2e-7f3k"
SHOP2_TOKEN = "shop2-merchant-e2e-q2w3"


def png(width: int, height: int) -> bytes:
    """A real, decodable RGBA PNG (one colour)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    raw = b"".join(b"\x00" + b"\xff\x80\x00\xff" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def data_uri(mime: str, data: bytes) -> str:
    return f"data:{mime};base64," + base64.b64encode(data).decode()


def card(req: str, cid: str, **extra) -> dict:
    body = {"id": cid, "title": "真丝连衣裙 Silk dress", "price": "¥299", "original_price": "¥599",
            "position": "bottom-left", "duration_ms": 0}
    body.update(extra)
    return {"type": "card.show", "req": req, "card": body}


def sale(req: str, sid: str, **extra) -> dict:
    body = {"id": sid, "title": "限时秒杀 Flash sale", "price": "¥9.9", "original_price": "¥99",
            "stock": 500, "duration_ms": 60000, "position": "top-right"}
    body.update(extra)
    return {"type": "sale.start", "req": req, "sale": body}


class Merchant:
    """One WebSocket connection: replies (ack/error) and events (applied, ...) kept apart."""

    def __init__(self, ws, state):
        self.ws = ws
        self.state = state
        self.events: list[dict] = []

    @classmethod
    async def open(cls, server, stream="demo", token=DEMO_TOKEN, header=True, headers=None):
        uri = f"ws://{harness.HOST}:{server.http_port}/control/{stream}"
        extra = dict(headers or {})
        if token is not None:
            if header:
                extra["Authorization"] = f"Bearer {token}"
            else:
                uri += f"?token={token}"
        ws = await websockets.connect(uri, extra_headers=extra, max_size=None, ping_interval=None,
                                      open_timeout=10, close_timeout=5)
        state = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert state["type"] == "state", state
        return cls(ws, state)

    async def send(self, message) -> None:
        await self.ws.send(message if isinstance(message, (str, bytes)) else json.dumps(message))

    async def reply(self, timeout=10.0) -> dict:
        while True:
            msg = json.loads(await asyncio.wait_for(self.ws.recv(), timeout))
            if msg["type"] in ("ack", "error"):
                return msg
            self.events.append(msg)

    async def call(self, message) -> dict:
        await self.send(message)
        return await self.reply()

    async def event(self, kind="applied", timeout=10.0, version=None) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            for i, e in enumerate(self.events):
                if e["type"] == kind and (version is None or e.get("version") == version):
                    return self.events.pop(i)
            msg = json.loads(await asyncio.wait_for(self.ws.recv(), max(0.01, deadline - time.monotonic())))
            self.events.append(msg)

    async def close(self):
        await self.ws.close()


def run(coro):
    return asyncio.run(coro)


