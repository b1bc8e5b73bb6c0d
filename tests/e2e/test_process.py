"""The process surface: --help, --version, --check-config, exit codes, port errors,
signals (contract: "Process")."""

import re
import signal
import socket
import time

import harness
from harness import E2ETestCase, run_cli


class CliTest(E2ETestCase):
    def write(self, name: str, text: str):
        path = self.tmp / name
        path.write_text(text)
        return path

    def good_config(self, name="good.json", streams=None):
        path = self.tmp / name
        ports = dict(zip(("http", "rtmp", "srt", "webrtc"), harness.free_ports(4)))
        harness.write_config(path, ports, self.tmp / "data", streams)
        return path, ports

    def test_help(self):
        code, out = run_cli(["--help"])
        self.assertEqual(code, 0, out)
        self.assertIn("--config", out)
        self.assertIn("--check-config", out)

    def test_version(self):
        code, out = run_cli(["--version"])
        self.assertEqual(code, 0, out)
        self.assertRegex(out, r"\d+\.\d+", "--version prints no version number")

    def test_check_config_accepts_a_good_config(self):
        path, _ = self.good_config()
        code, out = run_cli(["--check-config", str(path)], cwd=self.tmp)
        self.assertEqual(code, 0, out)

    def test_shipped_config_passes_check(self):
        shipped = harness.REPO_ROOT / "config" / "anchorcast.json"
        code, out = run_cli(["--check-config", str(shipped)], cwd=self.tmp)
        self.assertEqual(code, 0, out)

    def test_check_config_names_the_missing_key(self):
        streams = [dict(s) for s in harness.STREAMS]
        del streams[1]["publish_key"]
        path, _ = self.good_config("missing-key.json", streams)
        code, out = run_cli(["--check-config", str(path)], cwd=self.tmp)
        self.assertEqual(code, 2, out)
        self.assertIn("streams[1].publish_key", out)

    def test_check_config_rejects_invalid_json(self):
        path, _ = self.good_config()
        text = path.read_text()
        broken = self.write("broken.json", text[: len(text) // 2])  # cut mid-object
        code, out = run_cli(["--check-config", str(broken)], cwd=self.tmp)
        self.assertEqual(code, 2, out)
        self.assertTrue(out.strip(), "no message for invalid JSON")
        code, out = run_cli(["--check-config", str(path)], cwd=self.tmp)
        self.assertEqual(code, 0, f"the uncut file is valid: the cut is what is rejected\n{out}")


class PortAndSignalTest(E2ETestCase):
    def run_with_port_taken(self, which: str):
        config = self.tmp / f"taken-{which}.json"
        ports = dict(zip(("http", "rtmp", "srt", "webrtc"), harness.free_ports(4)))
        harness.write_config(config, ports, self.tmp / "data")
        blocker = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.addCleanup(blocker.close)
        blocker.bind((harness.HOST, ports[which]))
        blocker.listen(1)
        child = self.spawn([harness.BINARY, "--config", str(config)], f"server-{which}-taken")
        code = child.wait(timeout=15)
        out = child.log_text()
        self.assertEqual(code, 2, f"exit code with the {which} port taken\n{out[-2000:]}")
        self.assertIn(str(ports[which]), out, "the message does not name the port")

    def test_http_port_in_use_is_exit_2(self):
        self.run_with_port_taken("http")

    def test_rtmp_port_in_use_is_exit_2(self):
        self.run_with_port_taken("rtmp")

    def test_sigint_stops_within_5s(self):
        server = self.start_server()
        code, elapsed = server.stop(signal.SIGINT, timeout=5.0)
        self.assertEqual(code, 0, f"SIGINT: exit {code} after {elapsed:.1f}s\n"
                         f"{server.log_tail()}")

    def test_sigterm_with_anchor_and_viewer_stops_within_5s(self):
        server = self.start_server()
        publisher = self.publish(server, harness.key_of("demo"), seconds=60)
        server.wait_live("demo")
        reader = self.flv_reader(server, "/flv/demo.flv")
        harness.wait_for(lambda: len(reader.frames()) >= 10, 10, "frames at the viewer")
        code, elapsed = server.stop(signal.SIGTERM, timeout=5.0)
        self.assertEqual(code, 0, f"SIGTERM: exit {code} after {elapsed:.1f}s\n"
                         f"{server.log_tail()}")
        # Stopping means the clients are let go, not left hanging on a dead socket.
        harness.wait_for(lambda: not reader.running(), 5, "the viewer's connection to end")
        harness.wait_for(lambda: not publisher.running(), 10, "the anchor's ffmpeg to end")


if __name__ == "__main__":
    harness.main()
