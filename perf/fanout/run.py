#!/usr/bin/python3
"""Fan-out comparison (issues 2, 13): anchorcast vs nginx-rtmp and SRS, one after the other,
each pinned to core 0 (anchorcast with one data-plane loop), fed by one ~600 kbps publisher and ramped to N viewers by perf/loadgen_fanout
(publisher and load generator on core 1). Prints one table row per (server, step) and
the headline: viewers per core keeping up at < 90 % CPU, and the ratio.

    perf/fanout/run.py                       # all three servers, default steps
    perf/fanout/run.py --quick               # 3 short steps, a smoke run
    perf/fanout/run.py --servers nginx --steps 500,1000,2000

Everything it starts is killed on exit (normal, error, SIGINT, SIGTERM); every wait is
bounded. Only 127.0.0.1 is used. See perf/fanout/README.md for the columns.
"""

import argparse
import datetime
import glob
import json
import os
import platform
import random
import re
import resource
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DEFAULT_STEPS = [500, 1000, 1500, 2000, 2500, 3000, 3500, 4000, 5000, 6000, 8000]
QUICK_STEPS = [100, 250, 500]
SERVER_CORE = "0"
CLIENT_CORE = "1"
# The machine is shared (engineers compile on both cores): at nice 0 a compiler on core 0
# took half the server's core and nginx-rtmp "saturated" at 42 % CPU. The measured
# processes run at nice -10 (a 9:1 share against a nice-0 job); "core0 other %" shows
# whatever still ran there.
NICE = ["nice", "-n", "-10"]
CLK_TCK = os.sysconf("SC_CLK_TCK")
STREAM_ID = "fanout"


def log(msg):
    print(f"[fanout {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


class Fatal(Exception):
    pass


# ----------------------------------------------------------------------------------------
# Processes: every child is registered so one cleanup path stops them all.

CHILDREN = []


def spawn(cmd, **kw):
    log("run: " + " ".join(shlex.quote(c) for c in cmd))
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, **kw)
    CHILDREN.append(p)
    return p


def stop(p, grace_s=6.0):
    """SIGTERM, then SIGKILL after grace_s. Servers must exit within 5 s (contract)."""
    if p.poll() is not None:
        return p.returncode
    p.send_signal(signal.SIGTERM)
    try:
        return p.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        log(f"pid {p.pid} ignored SIGTERM for {grace_s} s: SIGKILL")
        p.kill()
        return p.wait(timeout=5)


def stop_all():
    for p in reversed(CHILDREN):
        try:
            stop(p)
        except Exception as e:  # keep stopping the others
            log(f"stopping pid {p.pid}: {e}")
    CHILDREN.clear()


def on_signal(signum, _frame):
    raise KeyboardInterrupt(f"signal {signum}")


# ----------------------------------------------------------------------------------------
# Environment checks

def free_port():
    """A free TCP port below the ephemeral range, so it cannot collide with the load
    generator's thousands of client ports (and not a fixed one: other engineers run
    servers on this machine)."""
    lo, _hi = local_port_range()
    for _ in range(200):
        port = random.randint(20000, min(lo, 32768) - 1)
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
        finally:
            s.close()
    raise Fatal("no free port found in 20000..32767")


def local_port_range():
    try:
        lo, hi = open("/proc/sys/net/ipv4/ip_local_port_range").read().split()
        return int(lo), int(hi)
    except OSError:
        return 32768, 60999


def raise_fd_limit():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # children inherit it
    except (ValueError, OSError):
        pass
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def ensure_nginx_rtmp():
    def module():
        found = glob.glob("/usr/lib/nginx/modules/ngx_rtmp_module.so")
        return found[0] if found else None

    if shutil.which("nginx") and module():
        return shutil.which("nginx"), module()
    log("nginx or libnginx-mod-rtmp missing: installing with apt-get")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    cmd = ["apt-get", "install", "-y", "--no-install-recommends", "nginx", "libnginx-mod-rtmp"]
    if subprocess.run(cmd, env=env, timeout=600).returncode != 0:
        subprocess.run(["apt-get", "update"], env=env, timeout=600, check=True)
        subprocess.run(cmd, env=env, timeout=600, check=True)
    if not (shutil.which("nginx") and module()):
        raise Fatal("nginx with ngx_rtmp_module.so still missing after apt-get install")
    # Debian's package may start the system nginx; it binds :80, not our ports, so it is
    # left alone (it is not ours to stop).
    return shutil.which("nginx"), module()


def machine_info():
    model = "unknown"
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    return {
        "date": datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        "nproc": os.cpu_count(),
        "cpu": model,
        "kernel": platform.release(),
    }


# ----------------------------------------------------------------------------------------
# /proc sampling

def proc_cpu_ticks(pid):
    """(utime, stime) in clock ticks, all threads (proc(5) fields 14, 15)."""
    data = open(f"/proc/{pid}/stat").read()
    fields = data[data.rindex(")") + 2:].split()
    return int(fields[11]), int(fields[12])


def proc_rss_kb(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def core_ticks(core):
    """(tasks, irq, total) jiffies of one CPU from /proc/stat. tasks = user+nice+system+
    steal: everyone's, so work by other processes on the server's core shows. irq =
    irq+softirq ticks: on loopback mostly the TCP work the server's own sends raise. With
    tick accounting and no IRQ_TIME_ACCOUNTING (this kernel) the server's runtime already
    includes the softirq work done in its context, so the two overlap: an indicator of
    how much of the server's cost is kernel networking, not an addend."""
    for line in open("/proc/stat"):
        if line.startswith(f"cpu{core} "):
            v = [int(x) for x in line.split()[1:9]]
            user, nice, system, _idle, _iowait, irq, softirq, steal = v
            return user + nice + system + steal, irq + softirq, sum(v)
    return 0, 0, 0


class Sample:
    def __init__(self, pids):
        self.t = time.monotonic()
        ticks = [proc_cpu_ticks(p) for p in pids]
        self.utime = sum(u for u, _s in ticks)
        self.cpu = sum(u + s for u, s in ticks)
        self.rss_kb = sum(proc_rss_kb(p) for p in pids)
        self.core_tasks, self.core_irq, self.core_total = core_ticks(SERVER_CORE)


def cpu_pct(a, b):
    return (b.cpu - a.cpu) / CLK_TCK / max(b.t - a.t, 1e-3) * 100


def core_other_pct(a, b):
    total = b.core_total - a.core_total
    if total <= 0:
        return 0.0
    return max(0.0, ((b.core_tasks - a.core_tasks) - (b.cpu - a.cpu)) / total * 100)


def core_irq_pct(a, b):
    total = b.core_total - a.core_total
    return (b.core_irq - a.core_irq) / total * 100 if total > 0 else 0.0


# ----------------------------------------------------------------------------------------
# Servers

def wait_for_port(port, proc, timeout_s=15):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise Fatal(f"server exited with {proc.returncode} before listening on {port}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.2)
    raise Fatal(f"nothing listens on 127.0.0.1:{port} after {timeout_s} s")


class Nginx:
    name = "nginx-rtmp"
    protocols = ("rtmp",)

    def __init__(self, tmp, max_fds):
        self.prefix = os.path.join(tmp, "nginx")
        self.max_fds = max_fds

    def start(self):
        binary, module = ensure_nginx_rtmp()
        os.makedirs(os.path.join(self.prefix, "logs"), exist_ok=True)
        self.port = free_port()
        conf = os.path.join(self.prefix, "nginx.conf")
        # One worker (the peer setup); its fd and connection limits raised to
        # what the load needs, everything else nginx-rtmp's defaults.
        with open(conf, "w") as f:
            f.write(f"""load_module {module};
worker_processes 1;
daemon off;
master_process on;
pid {self.prefix}/nginx.pid;
error_log {self.prefix}/logs/error.log warn;
worker_rlimit_nofile {self.max_fds};
events {{ worker_connections {self.max_fds - 64}; }}
rtmp {{
  server {{
    listen 127.0.0.1:{self.port};
    application live {{ live on; }}
  }}
}}
""")
        self.log = open(os.path.join(self.prefix, "logs", "stderr.log"), "w")
        self.proc = spawn(NICE + ["taskset", "-c", SERVER_CORE, binary, "-p", self.prefix, "-c", conf],
                          stdout=self.log, stderr=subprocess.STDOUT)
        wait_for_port(self.port, self.proc)
        self.publish_url = f"rtmp://127.0.0.1:{self.port}/live/{STREAM_ID}"

    def pids(self):
        # master + its worker(s): the worker does the work, the master is idle.
        pids = [self.proc.pid]
        for stat in glob.glob("/proc/[0-9]*/stat"):
            try:
                data = open(stat).read()
                if int(data[data.rindex(")") + 2:].split()[1]) == self.proc.pid:
                    pids.append(int(stat.split("/")[2]))
            except (OSError, ValueError):
                continue
        return pids

    def play_url(self, protocol):
        return f"rtmp://127.0.0.1:{self.port}/live/{STREAM_ID}"

    def alive(self):
        return self.proc.poll() is None


SRS_BINARY = os.path.abspath(os.path.join(REPO, "..", "shared", "peers", "srs", "srs"))


class Srs:
    """SRS 6 (../shared/peers/srs/, its README has this config): RTMP and HTTP-FLV, one
    process, defaults otherwise (merged writes, GOP cache on)."""
    name = "srs"
    protocols = ("rtmp", "flv")

    def __init__(self, tmp, max_fds, binary=SRS_BINARY):
        self.dir = os.path.join(tmp, "srs")
        self.max_fds = max_fds
        self.binary = binary

    def start(self):
        if not os.access(self.binary, os.X_OK):
            raise Fatal(f"{self.binary} missing (the prebuilt SRS peer; pass --srs)")
        os.makedirs(os.path.join(self.dir, "html"), exist_ok=True)
        binary = os.path.join(self.dir, "srs")
        shutil.copy2(self.binary, binary)
        self.rtmp_port, self.http_port = free_port(), free_port()
        conf = os.path.join(self.dir, "srs.conf")
        # SRS wants max_connections + 128 <= RLIMIT_NOFILE.
        with open(conf, "w") as f:
            f.write(f"""listen              127.0.0.1:{self.rtmp_port};
max_connections     {self.max_fds - 200};
daemon              off;
pid                 {self.dir}/srs.pid;
srs_log_tank        file;
srs_log_file        {self.dir}/srs.log;
srs_log_level_v2    warn;
http_api {{ enabled off; }}
http_server {{ enabled on; listen 127.0.0.1:{self.http_port}; dir {self.dir}/html; }}
vhost __defaultVhost__ {{
    play {{ gop_cache on; }}
    http_remux {{ enabled on; mount [vhost]/[app]/[stream].flv; }}
}}
""")
        self.log = open(os.path.join(self.dir, "stderr.log"), "w")
        self.proc = spawn(NICE + ["taskset", "-c", SERVER_CORE, binary, "-c", conf], cwd=self.dir,
                          stdout=self.log, stderr=subprocess.STDOUT)
        wait_for_port(self.rtmp_port, self.proc)
        wait_for_port(self.http_port, self.proc)
        self.publish_url = f"rtmp://127.0.0.1:{self.rtmp_port}/live/{STREAM_ID}"

    def pids(self):
        return [self.proc.pid]

    def play_url(self, protocol):
        if protocol == "flv":
            return f"http://127.0.0.1:{self.http_port}/live/{STREAM_ID}.flv"
        return f"rtmp://127.0.0.1:{self.rtmp_port}/live/{STREAM_ID}"

    def alive(self):
        return self.proc.poll() is None


class Anchorcast:
    name = "anchorcast"

    def __init__(self, tmp, binary, protocols, overlay, threads=1, write_batch_ms=0):
        self.dir = os.path.join(tmp, "anchorcast")
        self.binary = binary
        self.protocols = protocols
        self.overlay = overlay
        self.threads = threads
        self.write_batch_ms = write_batch_ms

    def start(self):
        if not os.access(self.binary, os.X_OK):
            raise Fatal(f"{self.binary} is not an executable (build it, or pass --anchorcast)")
        os.makedirs(self.dir, exist_ok=True)
        # A private copy: engineers rebuild build/anchorcast while this runs.
        binary = os.path.join(self.dir, "anchorcast")
        shutil.copy2(self.binary, binary)
        self.rtmp_port, self.http_port = free_port(), free_port()
        srt_port, webrtc_port = free_port(), free_port()
        key = "fanout-" + secrets.token_hex(8)
        config = {
            "http": {"listen": f"127.0.0.1:{self.http_port}"},
            "rtmp": {"listen": f"127.0.0.1:{self.rtmp_port}"},
            "srt": {"listen": f"127.0.0.1:{srt_port}", "latency_ms": 120},
            "webrtc": {"listen": f"127.0.0.1:{webrtc_port}", "public_ip": "127.0.0.1"},
            # The server is pinned to one core: one loop on it (builds before issue 13
            # ignore the key and have one anyway). --anchorcast-threads 2 measures what
            # spreading over two loops costs on that one core.
            # write_batch_ms: how long a loop may hold viewers' new data to write it
            # together (0: as it comes; builds before it ignore the key).
            "data_plane": {"threads": self.threads, "write_batch_ms": self.write_batch_ms},
            "data_dir": os.path.join(self.dir, "data"),
            "admin_token": secrets.token_hex(16),
            # metadata: video passes through untouched, as through nginx-rtmp; burn-in
            # would measure the compositor, not the fan-out.
            "streams": [{"id": STREAM_ID, "publish_key": key, "overlay": self.overlay,
                         "merchant_tokens": [secrets.token_hex(8)]}],
        }
        path = os.path.join(self.dir, "anchorcast.json")
        with open(path, "w") as f:
            json.dump(config, f, indent=2)
        self.log = open(os.path.join(self.dir, "stderr.log"), "w")
        self.proc = spawn(NICE + ["taskset", "-c", SERVER_CORE, binary, "--config", path],
                          stdout=self.log, stderr=subprocess.STDOUT)
        wait_for_port(self.rtmp_port, self.proc)
        if "flv" in self.protocols:
            wait_for_port(self.http_port, self.proc)
        self.publish_url = f"rtmp://127.0.0.1:{self.rtmp_port}/live/{key}"

    def pids(self):
        return [self.proc.pid]  # all threads: /proc/PID/stat sums them

    def play_url(self, protocol):
        if protocol == "flv":
            return f"http://127.0.0.1:{self.http_port}/flv/{STREAM_ID}.flv"
        return f"rtmp://127.0.0.1:{self.rtmp_port}/live/{STREAM_ID}"

    def alive(self):
        return self.proc.poll() is None


# ----------------------------------------------------------------------------------------
# Publisher

def make_media(path):
    """20 s of 640x360 H.264 at 500 kbit/s + AAC 64 kbit/s, encoded once; the publisher
    then re-streams it with -c copy so it costs almost no CPU. Noise keeps x264 from
    undershooting the bitrate on a synthetic picture."""
    if os.path.exists(path):
        return
    log(f"encoding the publisher's media once: {path}")
    tmp = path + ".part.flv"
    subprocess.run(
        ["taskset", "-c", CLIENT_CORE, "ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
         "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25",
         "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100",
         "-t", "20", "-vf", "noise=alls=12:allf=t",
         "-c:v", "libx264", "-preset", "veryfast", "-b:v", "500k", "-maxrate", "500k",
         "-bufsize", "1000k", "-g", "50", "-keyint_min", "50", "-sc_threshold", "0",
         "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "64k", "-ar", "44100", "-f", "flv", tmp],
        check=True, timeout=300)
    os.rename(tmp, path)


def media_kbps(path):
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration",
                          "-of", "default=nw=1:nk=1", path],
                         capture_output=True, text=True, timeout=30, check=True).stdout
    return os.path.getsize(path) * 8 / float(out.strip()) / 1000


def start_publisher(media, url, logdir):
    logf = open(os.path.join(logdir, "publisher.log"), "w")
    return spawn(NICE + ["taskset", "-c", CLIENT_CORE, "ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error",
                  "-re", "-stream_loop", "-1", "-i", media, "-c", "copy", "-f", "flv", url],
                 stdout=logf, stderr=subprocess.STDOUT)


# ----------------------------------------------------------------------------------------
# Load generator runs

def parse_kv(line):
    return {k: v for k, v in re.findall(r"(\w+)=(\S+)", line)}


def run_loadgen(args, url, protocol, viewers, ramp, measure_from, window, keepup_kbps,
                on_window=None, on_summary=None, logf=None):
    """Runs one loadgen; calls on_window()/on_summary() as those lines arrive, so the
    caller samples the server at the same moments. The window opens at measure_from, or
    later when viewers are still joining (up to --join-wait). Returns (summary, reasons)."""
    duration = measure_from + args.join_wait + window + 5
    cmd = NICE + ["taskset", "-c", CLIENT_CORE, args.loadgen, "--protocol", protocol, "--url", url,
                  "--viewers", str(viewers), "--ramp", str(ramp), "--duration", f"{duration:.1f}",
                  "--measure-from", f"{measure_from:.1f}", "--window", f"{window:.1f}",
                  "--join-wait", f"{args.join_wait:.1f}", "--max-pending", str(args.max_pending),
                  "--interval", "1",
                  *(["--delay-every", str(args.delay_every)] if args.delay_every != 10 else []),
                  "--keepup-kbps", f"{keepup_kbps:.1f}"]
    p = spawn(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)
    # Bounded: the loadgen stops itself at --duration; this is the backstop.
    watchdog = threading.Timer(duration + 30, p.kill)
    watchdog.start()
    summary, reasons = None, []
    try:
        for line in p.stdout:
            if logf:
                logf.write(line)
            if line.startswith("window_start") and on_window:
                on_window()
            elif line.startswith("summary"):
                if on_summary:
                    on_summary()
                summary = parse_kv(line)
            elif line.startswith("reason"):
                reasons.append(line.strip())
            elif line.startswith("loadgen_fanout:"):
                log(line.strip())
        p.wait(timeout=30)
    finally:
        watchdog.cancel()
        stop(p)
        CHILDREN.remove(p)
    if p.returncode not in (0, None):
        raise Fatal(f"loadgen exited with {p.returncode}")
    return summary, reasons


def wait_until_live(args, server, protocol, logf):
    """One viewer until it receives media: the publisher needs a moment to connect."""
    for attempt in range(6):
        summary, reasons = run_loadgen(args, server.play_url(protocol), protocol, 1, 10, 2, 2, 0,
                                       logf=logf)
        if summary and float(summary.get("median_kbps", 0)) > 0:
            return
        log(f"{server.name}/{protocol}: not live yet (attempt {attempt + 1}) {' '.join(reasons)}")
        if not server.alive():
            raise Fatal(f"{server.name} died")
        time.sleep(2)
    raise Fatal(f"{server.name}/{protocol}: no media reached a viewer in ~40 s")


def measure_server(args, server, protocol, publish_kbps, tmp):
    rows = []
    logf = open(os.path.join(tmp, f"loadgen-{server.name}-{protocol}.log"), "w")
    wait_until_live(args, server, protocol, logf)
    time.sleep(2)
    base0 = Sample(server.pids())
    time.sleep(3)
    base1 = Sample(server.pids())
    log(f"{server.name}: publisher only: CPU {cpu_pct(base0, base1):.1f} %, RSS {base1.rss_kb / 1024:.1f} MB")
    keepup_kbps = publish_kbps * args.keepup
    steps = list(args.steps)
    retried = set()
    while steps:
        n = steps.pop(0)
        ramp_s = n / args.ramp
        measure_from = ramp_s + args.settle
        marks = {}
        pids = server.pids()
        logf.write(f"# step {n}\n")
        summary, reasons = run_loadgen(
            args, server.play_url(protocol), protocol, n, args.ramp, measure_from, args.measure, keepup_kbps,
            on_window=lambda: marks.__setitem__("a", Sample(pids)),
            on_summary=lambda: marks.__setitem__("b", Sample(pids)), logf=logf)
        logf.flush()
        if not server.alive():
            rows.append(row_crashed(server, protocol, n))
            log(f"{server.name} died at {n} viewers: stopping its ramp")
            break
        if not summary or "a" not in marks or "b" not in marks or "mbps" not in summary:
            raise Fatal(f"{server.name}/{protocol} {n}: the loadgen reported no window ({reasons})")
        a, b = marks["a"], marks["b"]
        cpu = cpu_pct(a, b)
        mbps = float(summary["mbps"])
        window_s = b.t - a.t
        delivered_mb = mbps * 1e6 / 8 * float(summary["window_s"]) / 1e6
        cpu_us = (b.cpu - a.cpu) / CLK_TCK * 1e6
        playing = int(summary["still_playing"])
        median = float(summary["median_kbps"])
        keeping_up = (playing == n and int(summary["viewers"]) == n and median >= keepup_kbps)
        row = {
            "server": server.name, "protocol": protocol, "viewers": n, "playing": playing,
            "cpu_pct": cpu, "mbps": mbps,
            "cpu_us_per_mb": cpu_us / delivered_mb if delivered_mb > 0 else float("nan"),
            "rss_mb": b.rss_kb / 1024, "rss_kb_per_viewer": (b.rss_kb - base1.rss_kb) / n,
            "median_kbps": median, "min_kbps": float(summary["min_kbps"]),
            "starved": int(summary.get("below_keepup", 0)) + (n - int(summary["viewers"])),
            "lg_cpu_pct": float(summary.get("lg_cpu_pct", 0)),
            # Delivery delay above each timed viewer's fastest message (loadgen_fanout's header).
            "delay_p50_ms": (float(summary.get("delay_p50_ms", "nan"))
                             if int(summary.get("delay_viewers", 0)) > 0 else float("nan")),
            "delay_p99_ms": (float(summary.get("delay_p99_ms", "nan"))
                             if int(summary.get("delay_viewers", 0)) > 0 else float("nan")),
            # Seconds after the last connect until every viewer played: join cost.
            "join_s": (float(summary["all_joined_t"]) - ramp_s if float(summary.get("all_joined_t", -1)) >= 0
                       else float("inf")),
            "user_share_pct": (b.utime - a.utime) / max(b.cpu - a.cpu, 1) * 100,
            "core0_other_pct": core_other_pct(a, b), "core0_irq_pct": core_irq_pct(a, b),
            "window_s": window_s,
            "keeping_up": keeping_up, "reasons": reasons,
        }
        rows.append(row)
        log(format_row(row))
        if not keeping_up:
            log(f"  window viewers {summary['viewers']}, still setting up {summary.get('setup', '?')}, "
                f"failed {summary['failed']}, closed by server {summary['closed']}")
        for r in reasons:
            log("  " + r)
        # Only "not keeping up" ends the ramp, not CPU >= the limit: anchorcast's CPU is
        # not monotonic in N (measured: 91 % at 2500 viewers, 83 % at 8000) because a busier
        # loop drains several packets per viewer per write. Such rows just do not count.
        if not keeping_up:
            # On a shared machine a step can fail because something else took core 0;
            # such a step gets one more try before it counts as the server's limit.
            if row["core0_other_pct"] > args.busy_retry and n not in retried:
                retried.add(n)
                row["note"] = "retried: core 0 busy"
                log(f"{server.name}/{protocol} {n}: failed with {row['core0_other_pct']:.0f} % of core 0 "
                    f"used by other processes: once more")
                steps.insert(0, n)
                time.sleep(5)
                continue
            log(f"{server.name}/{protocol} saturated at {n} viewers: stopping its ramp")
            break
        time.sleep(2)  # let the server reap the closed viewers before the next step
    return rows


def row_crashed(server, protocol, n):
    return {"server": server.name, "protocol": protocol, "viewers": n, "playing": 0,
            "cpu_pct": float("nan"), "mbps": 0, "cpu_us_per_mb": float("nan"), "rss_mb": float("nan"),
            "rss_kb_per_viewer": float("nan"), "median_kbps": 0, "min_kbps": 0, "starved": n,
            "lg_cpu_pct": float("nan"), "delay_p50_ms": float("nan"), "delay_p99_ms": float("nan"),
            "join_s": float("nan"), "user_share_pct": float("nan"), "core0_other_pct": float("nan"), "core0_irq_pct": float("nan"),
            "window_s": 0,
            "keeping_up": False, "reasons": ["server died"]}


# ----------------------------------------------------------------------------------------
# Report

COLUMNS = [
    ("server", "server", "{}"), ("proto", "protocol", "{}"), ("viewers", "viewers", "{}"),
    ("playing", "playing", "{}"), ("CPU %", "cpu_pct", "{:.1f}"),
    ("core0 softirq %", "core0_irq_pct", "{:.0f}"), ("Mbit/s", "mbps", "{:.0f}"),
    ("CPU µs/MB", "cpu_us_per_mb", "{:.0f}"), ("user %", "user_share_pct", "{:.0f}"),
    ("RSS MB", "rss_mb", "{:.1f}"),
    ("RSS KB/viewer", "rss_kb_per_viewer", "{:.1f}"), ("median kbps", "median_kbps", "{:.0f}"),
    ("min kbps", "min_kbps", "{:.0f}"), ("starved", "starved", "{}"),
    ("delay p50 ms", "delay_p50_ms", "{:.0f}"), ("delay p99 ms", "delay_p99_ms", "{:.0f}"),
    ("keeping up", "keeping_up", "{}"), ("join s", "join_s", "{:.1f}"), ("loadgen CPU %", "lg_cpu_pct", "{:.0f}"),
    ("core0 other %", "core0_other_pct", "{:.0f}"),
]


def format_row(row):
    cells = []
    for _title, key, fmt in COLUMNS:
        v = row[key]
        cells.append("n/a" if v is None else ("yes" if v else "no") if isinstance(v, bool) else fmt.format(v))
    if row.get("note"):
        cells[[k for _t, k, _f in COLUMNS].index("keeping_up")] += f" ({row['note']})"
    return "| " + " | ".join(cells) + " |"


def headline(rows, cpu_limit):
    best = {}
    for r in rows:
        label = f"{r['server']} ({r['protocol']})"
        best.setdefault(label, None)
        if r["keeping_up"] and r["cpu_pct"] < cpu_limit and not r.get("note"):
            if best[label] is None or r["viewers"] > best[label]["viewers"]:
                best[label] = r
    lines = []
    for label, r in best.items():
        if r is None:
            lines.append(f"- {label}: no step kept up at < {cpu_limit:.0f} % CPU")
            continue
        saturated = any(x["server"] + x["protocol"] == r["server"] + r["protocol"] and x["viewers"] > r["viewers"]
                        for x in rows)
        note = "" if saturated else " (never saturated: the step list ran out; a lower bound)"
        # No projection past the last step: CPU is not linear in viewers (anchorcast
        # batches more when busy), so only measured steps count.
        lines.append(f"- {label}: **{r['viewers']} viewers per core** keeping up at "
                     f"{r['cpu_pct']:.0f} % CPU{note}")
    ref = next((r for k, r in best.items() if k.startswith("nginx-rtmp") and r), None)
    for label, r in best.items():
        if ref and r and label.startswith("anchorcast"):
            lines.append(f"- ratio {label} / nginx-rtmp (rtmp): **{r['viewers'] / ref['viewers']:.2f}x** measured")
        # Issue 13's peer: SRS on the same protocol (target ≥ 1.25x).
        srs = best.get(f"srs ({r['protocol']})") if r else None
        if srs and label.startswith("anchorcast"):
            lines.append(f"- ratio {label} / srs ({r['protocol']}): **{r['viewers'] / srs['viewers']:.2f}x** "
                         f"measured (target ≥ 1.25x)")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--anchorcast", default=os.path.join(REPO, "build", "anchorcast"))
    ap.add_argument("--loadgen", default=None, help="default: build/perf/loadgen_fanout or build-perf/...")
    ap.add_argument("--servers", default="nginx,srs,anchorcast", help="comma list: nginx, srs, anchorcast")
    ap.add_argument("--srs", default=SRS_BINARY, help="the SRS binary (default: the prebuilt peer)")
    ap.add_argument("--protocols", default="rtmp,flv",
                    help="anchorcast's viewer protocols (nginx-rtmp: rtmp only)")
    ap.add_argument("--overlay", default="metadata", choices=["metadata", "burn-in"])
    ap.add_argument("--anchorcast-write-batch-ms", type=int, default=0,
                    help="anchorcast's data_plane.write_batch_ms (0: write as it comes)")
    ap.add_argument("--anchorcast-threads", type=int, default=1,
                    help="anchorcast's data_plane.threads (still pinned to one core)")
    ap.add_argument("--delay-every", type=int, default=10,
                    help="every K-th viewer measures delivery delay (0: none; loadgen_fanout --delay-every)")
    ap.add_argument("--steps", default=None, help="viewer counts, e.g. 250,500,1000")
    ap.add_argument("--quick", action="store_true", help=f"steps {QUICK_STEPS}, 5 s windows")
    ap.add_argument("--ramp", type=float, default=1000, help="connections per second")
    ap.add_argument("--settle", type=float, default=3, help="seconds after the ramp before measuring")
    ap.add_argument("--max-pending", type=int, default=200,
                    help="viewers setting up at once, at most (0: no cap): joins queue behind it, so "
                         "a step measures fan-out, not how fast the server accepts during a join storm")
    ap.add_argument("--join-wait", type=float, default=20,
                    help="how long past the settle the window waits for viewers still joining")
    ap.add_argument("--measure", type=float, default=10, help="measurement window, seconds")
    ap.add_argument("--cpu-limit", type=float, default=90)
    ap.add_argument("--busy-retry", type=float, default=15,
                    help="a failed step with more than this %% of core 0 used by others is retried once")
    ap.add_argument("--keepup", type=float, default=0.9, help="fraction of the publish bitrate")
    ap.add_argument("--media", default="/tmp/anchorcast-fanout-media-v1.flv")
    ap.add_argument("--keep-temp", action="store_true", help="keep configs and logs")
    args = ap.parse_args()

    args.steps = ([int(x) for x in args.steps.split(",")] if args.steps
                  else QUICK_STEPS if args.quick else DEFAULT_STEPS)
    if args.quick and args.measure == 10:
        args.measure = 5
    if args.loadgen is None:
        candidates = [os.path.join(REPO, d, "perf", "loadgen_fanout") for d in ("build", "build-perf")]
        args.loadgen = next((c for c in candidates if os.access(c, os.X_OK)), candidates[0])
    if not os.access(args.loadgen, os.X_OK):
        raise Fatal(f"{args.loadgen} missing: cmake -S {REPO} -B {REPO}/build -G Ninja "
                    f"-DCMAKE_BUILD_TYPE=Release && ninja -C {REPO}/build loadgen_fanout")
    if os.cpu_count() < 2:
        raise Fatal("needs 2 cores: the server on core 0, publisher and load generator on core 1")

    fds = raise_fd_limit()
    lo, hi = local_port_range()
    cap = min(fds - 100, hi - lo - 1000)
    if max(args.steps) > cap:
        log(f"steps above {cap} dropped: RLIMIT_NOFILE {fds}, local port range {lo}-{hi}")
        args.steps = [s for s in args.steps if s <= cap]

    info = machine_info()
    servers = [s.strip() for s in args.servers.split(",") if s.strip()]
    tmp = tempfile.mkdtemp(prefix="anchorcast-fanout-")
    signal.signal(signal.SIGTERM, on_signal)
    rows = []
    publish_kbps = 0.0
    try:
        make_media(args.media)
        publish_kbps = media_kbps(args.media)
        log(f"publish bitrate {publish_kbps:.0f} kbit/s; keeping up = median ≥ {args.keepup * publish_kbps:.0f}")
        for name in servers:
            for protocol in (["rtmp"] if name == "nginx" else args.protocols.split(",")):
                server = (Nginx(tmp, fds) if name == "nginx"
                          else Srs(tmp, fds, args.srs) if name == "srs"
                          else Anchorcast(tmp, args.anchorcast, [protocol], args.overlay,
                                          args.anchorcast_threads, args.anchorcast_write_batch_ms))
                try:
                    server.start()
                    start_publisher(args.media, server.publish_url, tmp)
                    rows += measure_server(args, server, protocol, publish_kbps, tmp)
                except Fatal as e:
                    log(f"{name}/{protocol}: {e}")
                    rows.append(dict(row_crashed(server, protocol, 0), reasons=[str(e)]))
                finally:
                    stop_all()  # publisher and server: the next server runs alone
                    time.sleep(2)
    except KeyboardInterrupt as e:
        log(f"interrupted ({e}): stopping")
    finally:
        stop_all()
        if not args.keep_temp:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            log(f"configs and logs kept in {tmp}")

    print()
    print(f"command: {' '.join(shlex.quote(a) for a in sys.argv)}")
    print(f"date: {info['date']}; nproc: {info['nproc']}; CPU: {info['cpu']}; kernel: {info['kernel']}")
    print(f"publisher: {publish_kbps:.0f} kbit/s (H.264 500k + AAC 64k, -c copy); server on core {SERVER_CORE}, "
          f"publisher + loadgen on core {CLIENT_CORE}; window {args.measure:.0f} s after a {args.settle:.0f} s settle")
    print()
    print("| " + " | ".join(t for t, _k, _f in COLUMNS) + " |")
    print("|" + "---|" * len(COLUMNS))
    for r in rows:
        if r["viewers"]:
            print(format_row(r))
    print()
    print(headline([r for r in rows if r["viewers"]], args.cpu_limit))
    for r in rows:
        if not r["viewers"]:
            print(f"- {r['server']} ({r['protocol']}): not measured: {'; '.join(r['reasons'])}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Fatal as e:
        stop_all()
        print(f"fanout: {e}", file=sys.stderr)
        sys.exit(2)
