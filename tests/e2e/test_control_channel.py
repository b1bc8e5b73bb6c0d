"""The merchant control channel end to end (contract: "Commerce control channel",
"Operator API" admin endpoints) with a real WebSocket client (Debian's python3-websockets):
authorisation before the upgrade, every command and error code, replies in order,
`applied` fan-out between merchants, the 1 MiB frame cap, bad input, durability across
SIGTERM and kill -9, scheduling, and the admin API (streams, assets)."""

import asyncio
import base64
import json
import signal
import time

import websockets

import harness
from harness import E2ETestCase, wait_for
from merchant import Merchant, card, data_uri, png, run, sale

from merchant import DEMO_TOKEN, SHOP2_TOKEN


class ControlChannelTest(E2ETestCase):
    def start_with(self, control: dict = None) -> harness.Server:
        """A server whose config also has a `control` section."""
        return self.start_server(extra=None if control is None else {"control": control})

    def assertError(self, reply: dict, code: str, req=None, contains: str = ""):
        self.assertEqual(reply["type"], "error", reply)
        self.assertEqual(reply["code"], code, reply)
        if req is not None:
            self.assertEqual(reply["req"], req, reply)
        self.assertIn(contains, reply["message"], reply)

    # -- authorisation ------------------------------------------------------------------

    def test_tokens_are_checked_before_the_upgrade(self):
        server = self.start_server()

        async def body():
            for stream, token, header in [("demo", None, True), ("demo", "wrong-token", True),
                                          ("demo", SHOP2_TOKEN, True), ("demo", SHOP2_TOKEN, False),
                                          ("shop2", DEMO_TOKEN, False), ("idle3", DEMO_TOKEN, True)]:
                with self.assertRaises(websockets.exceptions.InvalidStatusCode, msg=(stream, token)) as ctx:
                    await Merchant.open(server, stream, token, header)
                self.assertEqual(ctx.exception.status_code, 401, (stream, token))
            with self.assertRaises(websockets.exceptions.InvalidStatusCode) as ctx:
                await Merchant.open(server, "nosuch", DEMO_TOKEN)
            self.assertEqual(ctx.exception.status_code, 404)
            a = await Merchant.open(server, "demo", DEMO_TOKEN, header=True)
            b = await Merchant.open(server, "shop2", SHOP2_TOKEN, header=False)
            self.assertEqual(a.state["overlays"], [])
            self.assertIs(a.state["live"], False)
            self.assertEqual(b.state["scheduled"], [])
            await a.close()
            await b.close()
        run(body())
        resp = harness.http_request(server.http_port, "GET", "/control/demo",
                                    headers={"Authorization": "Bearer wrong"})
        self.assertEqual(resp.status, 401)
        self.assertNotIn(DEMO_TOKEN, server.log_text())

    def test_allowed_origins(self):
        server = self.start_with({"allowed_origins": ["https://shop.example"]})

        async def body():
            with self.assertRaises(websockets.exceptions.InvalidStatusCode) as ctx:
                await Merchant.open(server, headers={"Origin": "https://evil.example"})
            self.assertEqual(ctx.exception.status_code, 403)
            m = await Merchant.open(server, headers={"Origin": "https://shop.example"})
            await m.close()
        run(body())

    # -- commands -----------------------------------------------------------------------

    def test_every_command_and_error_code(self):
        server = self.start_server()

        async def body():
            m = await Merchant.open(server)
            image = data_uri("image/png", png(64, 48))
            r = await m.call(card("1", "c1", image=image, url="https://shop.example/p/1", badge="热卖"))
            self.assertEqual(r, {"type": "ack", "req": "1", "version": r["version"]})
            v1 = r["version"]
            applied = await m.event("applied", version=v1)
            self.assertIsInstance(applied["pts_ms"], int)
            r = await m.call(sale("2", "s1"))
            self.assertEqual(r["version"], v1 + 1)
            r = await m.call({"type": "sale.update", "req": "3", "id": "s1", "stock": 123})
            self.assertEqual(r["type"], "ack")
            r = await m.call(card("4", "c1", title="Replaced"))  # same id: replaced in place
            self.assertEqual(r["type"], "ack")
            other = await Merchant.open(server)
            ov = other.state["overlays"]
            self.assertEqual([o["id"] for o in ov], ["c1", "s1"])
            self.assertEqual(ov[0]["title"], "Replaced")
            self.assertEqual(ov[1]["stock"], 123)
            self.assertEqual(ov[1]["status"], "active")
            self.assertGreater(ov[1]["ends_at_ms"], time.time() * 1000 + 50000)
            self.assertEqual(other.state["version"], v1 + 3)
            await other.close()
            r = await m.call({"type": "sale.update", "req": "5", "id": "s1", "stock": 0})
            self.assertEqual(r["type"], "ack")
            r = await m.call({"type": "sale.end", "req": "6", "id": "s1"})
            self.assertEqual(r["type"], "ack")
            r = await m.call({"type": "card.hide", "req": "7", "id": "c1"})
            self.assertEqual(r["type"], "ack")
            r = await m.call({"type": "overlay.clear", "req": "8"})
            self.assertEqual(r, {"type": "ack", "req": "8", "version": v1 + 7})

            # Error codes; none closes the connection.
            self.assertError(await m.call("{not json"), "bad_json")
            self.assertError(await m.call({"type": "card.flip", "req": "9"}), "unknown_type", "9")
            bad = card("10", "c2")
            del bad["card"]["price"]
            self.assertError(await m.call(bad), "invalid", "10", "card.price: missing")
            self.assertError(await m.call(sale("11", "s2", stock=-1)), "invalid", "11",
                             "sale.stock: must be an integer >= 0")
            self.assertError(await m.call(card("12", "c3", title="x" * 201)), "invalid", "12",
                             "card.title: longer than 200 characters")
            self.assertError(await m.call(card("13", "c3", image="data:image/png;base64," +
                                               base64.b64encode(b"GIF89a....").decode())),
                             "invalid", "13", "card.image")
            self.assertError(await m.call(card("14", "c3", image=data_uri("image/png", png(4097, 1)))),
                             "invalid", "14", "4096x4096")
            self.assertError(await m.call({"type": "card.hide", "req": "15", "id": "nope"}), "not_found", "15")
            self.assertError(await m.call({"type": "sale.update", "req": "16", "id": "nope", "stock": 1}),
                             "not_found", "16")
            for i in range(32):
                self.assertEqual((await m.call(card(f"m{i}", f"m{i}")))["type"], "ack")
            self.assertError(await m.call(card("17", "m32")), "invalid", "17", "at most 32 overlays")
            r = await m.call({"type": "overlay.clear", "req": "18"})
            self.assertEqual(r["type"], "ack")
            await m.close()
        run(body())
        streams = {s["id"]: s for s in server.streams()}
        self.assertEqual(streams["demo"]["overlays"], 0)

    def test_rate_limit_per_connection(self):
        server = self.start_with({"rate_limit_per_s": 5})

        async def body():
            m = await Merchant.open(server)
            for i in range(8):
                await m.send(card(str(i), "c1"))
            replies = [await m.reply() for _ in range(8)]
            self.assertEqual([r["req"] for r in replies], [str(i) for i in range(8)])
            self.assertEqual([r["type"] for r in replies[:5]], ["ack"] * 5)  # a one-second burst
            limited = [r for r in replies[5:] if r["type"] == "error"]
            self.assertGreaterEqual(len(limited), 2, replies)  # refill: 1 per 200 ms
            for r in limited:
                self.assertError(r, "rate_limited", contains="5 commands per second")
            await asyncio.sleep(0.5)
            self.assertEqual((await m.call(card("later", "c1")))["type"], "ack")
            fresh = await Merchant.open(server)  # the limit is per connection
            self.assertEqual((await fresh.call(card("f", "c1")))["type"], "ack")
            await m.close()
            await fresh.close()
        run(body())

    def test_scheduled_commands(self):
        server = self.start_server()

        async def body():
            m = await Merchant.open(server)
            now = int(time.time() * 1000)
            r = await m.call(dict(card("1", "later"), at_ms=now + 2500))
            self.assertEqual(r["type"], "ack")
            sid = r["scheduled"]
            r2 = await m.call(dict({"type": "overlay.clear", "req": "2"}, at_ms=now + 3_600_000))
            other = await Merchant.open(server)
            self.assertEqual(sorted(s["id"] for s in other.state["scheduled"]), sorted([sid, r2["scheduled"]]))
            self.assertEqual(other.state["overlays"], [])
            r = await m.call({"type": "schedule.cancel", "req": "3", "id": r2["scheduled"]})
            self.assertEqual(r["type"], "ack")
            self.assertError(await m.call({"type": "schedule.cancel", "req": "4", "id": r2["scheduled"]}),
                             "not_found", "4")
            fired = await other.event("applied", timeout=5, version=r["version"] + 1)
            self.assertIn("pts_ms", fired)
            third = await Merchant.open(server)
            self.assertEqual([o["id"] for o in third.state["overlays"]], ["later"])
            self.assertEqual(third.state["scheduled"], [])
            for c in (m, other, third):
                await c.close()
        run(body())

    def test_two_merchants_see_each_others_applied(self):
        server = self.start_server()

        async def body():
            a = await Merchant.open(server)
            b = await Merchant.open(server, header=False)
            ra = await a.call(card("a1", "ca"))
            ev = await b.event("applied", version=ra["version"])
            self.assertIn("pts_ms", ev)
            rb = await b.call(sale("b1", "sb"))
            ev = await a.event("applied", version=rb["version"])
            self.assertEqual(ev["version"], ra["version"] + 1)
            await a.close()
            await b.close()
        run(body())

    def test_thousand_pipelined_commands_acked_in_order(self):
        server = self.start_with({"rate_limit_per_s": 100000})

        async def body():
            m = await Merchant.open(server)
            t0 = time.monotonic()
            for i in range(1000):
                await m.send(card(f"p{i}", f"c{i % 10}", title=f"item {i}"))
            replies = [await m.reply(timeout=30) for _ in range(1000)]
            elapsed = time.monotonic() - t0
            self.assertEqual([r["req"] for r in replies], [f"p{i}" for i in range(1000)])
            self.assertTrue(all(r["type"] == "ack" for r in replies), [r for r in replies if r["type"] != "ack"][:3])
            versions = [r["version"] for r in replies]
            self.assertEqual(versions, list(range(versions[0], versions[0] + 1000)))
            harness.report(f"1000 pipelined durable acks in {elapsed * 1000:.0f} ms")
            await m.close()
        run(body())

    def test_applied_carries_the_live_output_timeline(self):
        server = self.start_server()
        self.publish(server, harness.key_of("demo"), seconds=30, size="320x240", preset="ultrafast")
        server.wait_live("demo")
        wait_for(lambda: server.stream("demo")["stats"]["packets_in"] > 30, 15, "media packets on demo")

        async def body():
            m = await Merchant.open(server)
            self.assertIs(m.state["live"], True)
            first = await m.event("applied", version=(await m.call(card("1", "c1")))["version"])
            await asyncio.sleep(1.5)
            second = await m.event("applied", version=(await m.call(card("2", "c1")))["version"])
            self.assertGreater(first["pts_ms"], 0)
            # The anchor's timeline advances in real time between the two changes.
            self.assertGreater(second["pts_ms"] - first["pts_ms"], 700, (first, second))
            harness.report(f"applied pts_ms {first['pts_ms']} then {second['pts_ms']}")
            await m.close()
        run(body())

    # -- limits and bad input -----------------------------------------------------------

    def test_frame_over_one_mib_closes_with_1009(self):
        server = self.start_server()

        async def body():
            m = await Merchant.open(server)
            await m.send("x" * (1024 * 1024 + 1))
            with self.assertRaises(websockets.exceptions.ConnectionClosed):
                while True:
                    await asyncio.wait_for(m.ws.recv(), 10)
            self.assertEqual(m.ws.close_code, 1009)
            again = await Merchant.open(server)
            self.assertEqual((await again.call({"type": "overlay.clear", "req": "x"}))["type"], "ack")
            await again.close()
        run(body())
        self.assertTrue(server.alive())

    def test_bad_input_gets_clear_errors(self):
        server = self.start_server()

        async def body():
            m = await Merchant.open(server)
            self.assertError(await m.call(b'{"type":"overlay.clear","req":"1"}'), "bad_json", contains="binary")
            self.assertError(await m.call(b"\xff\xfe\x00"), "bad_json", contains="binary")
            self.assertError(await m.call('{"type":"card.hide","req":"2","id":"\\ud800"}'), "bad_json")
            deep = '{"type":"overlay.clear","req":"3","x":' + "[" * 10000 + "]" * 10000 + "}"
            self.assertError(await m.call(deep), "bad_json", contains="nested deeper")
            self.assertError(await m.call(sale("4", "s", stock=10 ** 30)), "invalid", "4", "sale.stock")
            self.assertError(await m.call(sale("5", "s", stock=2 ** 64)), "invalid", "5", "sale.stock")
            self.assertError(await m.call(sale("6", "s", duration_ms=1.5)), "invalid", "6", "sale.duration_ms")
            self.assertError(await m.call(dict(card("7", "c"), at_ms=-1)), "invalid", "7", "at_ms")
            huge = "data:image/png;base64," + base64.b64encode(b"\x89PNG" + b"\x00" * 700_000).decode()
            self.assertError(await m.call(card("8", "c", image=huge)), "invalid", "8", "card.image")
            self.assertError(await m.call(card("9", "c", image="data:image/png;base64," + "@" * 900_000)),
                             "invalid", "9", "base64")
            self.assertError(await m.call("[]"), "bad_json")
            self.assertError(await m.call('{"type":"overlay.clear"}'), "invalid", contains="req: missing")
            self.assertEqual((await m.call({"type": "overlay.clear", "req": "ok"}))["type"], "ack")
            # Invalid UTF-8 in a text frame is a WebSocket protocol error (RFC 6455 8.1): the
            # server closes with 1007; the next connection works.
            await m.ws.write_frame(True, 0x1, b'{"type":"\xff"}')
            with self.assertRaises(websockets.exceptions.ConnectionClosed):
                while True:
                    await asyncio.wait_for(m.ws.recv(), 10)
            self.assertEqual(m.ws.close_code, 1007)
            again = await Merchant.open(server)
            self.assertEqual((await again.call({"type": "overlay.clear", "req": "x"}))["type"], "ack")
            await again.close()
        run(body())
        self.assertTrue(server.alive())

    # -- durability ---------------------------------------------------------------------

    def test_sigterm_then_restart_restores_state(self):
        server = self.start_server()

        async def before():
            m = await Merchant.open(server)
            await m.call(card("1", "c1", image=data_uri("image/png", png(8, 8))))
            await m.call(sale("2", "s1", stock=7))
            await m.call(card("3", "c2", duration_ms=3_600_000))
            await m.call(dict(card("4", "c3"), at_ms=int(time.time() * 1000) + 3_600_000))
            await m.call({"type": "sale.update", "req": "5", "id": "s1", "stock": 6})
            snap = await Merchant.open(server)
            return m, snap.state

        async def body():
            m, state = await before()
            code = await asyncio.get_running_loop().run_in_executor(None, lambda: server.stop(signal.SIGTERM)[0])
            self.assertEqual(code, 0)
            with self.assertRaises(websockets.exceptions.ConnectionClosed):
                while True:
                    await asyncio.wait_for(m.ws.recv(), 5)
            self.assertEqual(m.ws.close_code, 1001)
            self.assertEqual(m.ws.close_reason, "server shutting down")
            server.start()
            after = await Merchant.open(server)
            self.assertEqual(after.state, state)
            self.assertEqual(len(state["overlays"]), 3)
            self.assertEqual(len(state["scheduled"]), 1)
            await after.close()
        run(body())

    def test_kill_9_right_after_an_ack_keeps_the_change(self):
        server = self.start_server()

        async def body():
            m = await Merchant.open(server)
            r = await m.call(sale("1", "s-durable", stock=42))
            self.assertEqual(r["type"], "ack")
            server.child.proc.send_signal(signal.SIGKILL)
            server.child.proc.wait()
            server.stop()
            server.start()
            after = await Merchant.open(server)
            self.assertEqual(after.state["version"], r["version"])
            self.assertEqual([(o["id"], o["stock"]) for o in after.state["overlays"]], [("s-durable", 42)])
            await after.close()
        run(body())

    # -- admin API ----------------------------------------------------------------------

    def test_admin_streams_and_assets(self):
        server = self.start_server()
        port = server.http_port
        admin = {"Authorization": f"Bearer {harness.ADMIN_TOKEN}", "Content-Type": "application/json"}
        new = {"id": "pop-up", "publish_key": "pop-up-key-123456", "overlay": "metadata",
               "merchant_tokens": ["pop-up-merchant-token"]}
        resp = harness.http_request(port, "POST", "/api/v1/streams", json.dumps(new).encode(),
                                    {"Authorization": "Bearer nope"})
        self.assertEqual(resp.status, 401)
        resp = harness.http_request(port, "POST", "/api/v1/streams", b'{"id":"x"}', admin)
        self.assertEqual(resp.status, 400)
        self.assertIn("publish_key: missing", resp.json()["message"])
        resp = harness.http_request(port, "POST", "/api/v1/streams", json.dumps(new).encode(), admin)
        self.assertEqual(resp.status, 201, resp.body)
        resp = harness.http_request(port, "POST", "/api/v1/streams", json.dumps(new).encode(), admin)
        self.assertEqual(resp.status, 409)
        self.assertIn("pop-up", [s["id"] for s in server.streams()])
        self.assertEqual(server.get("/hls/pop-up/index.m3u8").status, 404)  # known, not live

        image = png(32, 16)
        resp = harness.http_request(port, "POST", "/api/v1/assets", image,
                                    {"Authorization": f"Bearer {harness.ADMIN_TOKEN}", "Content-Type": "image/png"})
        self.assertEqual(resp.status, 201, resp.body)
        asset = resp.json()
        self.assertEqual((asset["type"], asset["width"], asset["height"]), ("image/png", 32, 16))
        resp = harness.http_request(port, "POST", "/api/v1/assets", b"not an image",
                                    {"Authorization": f"Bearer {harness.ADMIN_TOKEN}"})
        self.assertEqual(resp.status, 400)
        resp = harness.http_request(port, "GET", "/api/v1/assets", headers=admin)
        self.assertEqual([a["id"] for a in resp.json()], [asset["id"]])

        async def use_it():
            m = await Merchant.open(server, "pop-up", "pop-up-merchant-token")
            self.assertEqual((await m.call(card("1", "c1", image=asset["id"])))["type"], "ack")
            self.assertError(await m.call(card("2", "c2", image="img-00000000deadbeef")), "not_found", "2")
            await m.close()
            with self.assertRaises(websockets.exceptions.InvalidStatusCode):
                await Merchant.open(server, "demo", "pop-up-merchant-token")
        run(use_it())
        self.assertEqual({s["id"]: s for s in server.streams()}["pop-up"]["overlays"], 1)

        server.stop()
        server.start()
        self.assertIn("pop-up", [s["id"] for s in server.streams()])

        async def still_there():
            m = await Merchant.open(server, "pop-up", "pop-up-merchant-token")
            self.assertEqual([o["image"] for o in m.state["overlays"]], [asset["id"]])
            await m.close()
        run(still_there())
        resp = harness.http_request(port, "DELETE", "/api/v1/streams/demo", headers=admin)
        self.assertEqual(resp.status, 409)  # config streams belong to the config
        resp = harness.http_request(port, "DELETE", "/api/v1/streams/pop-up", headers=admin)
        self.assertEqual(resp.status, 204)
        self.assertNotIn("pop-up", [s["id"] for s in server.streams()])
        self.assertEqual(server.get("/hls/pop-up/index.m3u8").status, 404)
        self.assertNotIn(harness.ADMIN_TOKEN, server.log_text())


if __name__ == "__main__":
    harness.main()
