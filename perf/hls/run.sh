#!/bin/bash
# HLS origin load on a 2-core machine: anchorcast (one data-plane loop) and nginx (one
# worker) each pinned to CPU 0 in turn, serving the same stream's playlist and one
# segment; the anchor (a pre-encoded file pushed with -c copy) and loadgen_hls on CPU 1.
# nginx serves the files anchorcast made, copied into a folder at the start (its
# hls_path): what nginx-rtmp's HLS would serve, with nothing made per request.
#
#   perf/hls/run.sh [CONNECTIONS] [SECONDS]
#   env: BUILD (default build), WORK (default /tmp/anchorcast-hls-perf)
#
# Prints four loadgen_hls summary lines: anchorcast playlist, anchorcast segment, nginx
# playlist, nginx segment.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=${BUILD:-$repo/build}
CONN=${1:-50} SECS=${2:-10}
work=${WORK:-/tmp/anchorcast-hls-perf}
mkdir -p "$work"
src=$work/anchor.flv
if [[ ! -s $src ]]; then
  ffmpeg -hide_banner -nostdin -loglevel error -y -f lavfi -i testsrc2=size=640x360:rate=30 \
    -f lavfi -i sine=frequency=440:sample_rate=44100 -t 60 -c:v libx264 -profile:v baseline -bf 0 \
    -preset veryfast -g 60 -b:v 530k -maxrate 530k -bufsize 530k \
    -pix_fmt yuv420p -c:a aac -b:a 64k -f flv "$src"
fi
rm -rf "$work/data" "$work/www"; mkdir -p "$work/data" "$work/www/hls/demo" "$work/nginx"
cat >"$work/anchorcast.json" <<JSON
{
  "http": {"listen": "127.0.0.1:18580"}, "rtmp": {"listen": "127.0.0.1:18581"},
  "srt": {"listen": "127.0.0.1:18582"}, "webrtc": {"listen": "127.0.0.1:18583", "public_ip": "127.0.0.1"},
  "data_plane": {"threads": 1}, "hls": {"target_duration_ms": 2000, "window_segments": 30},
  "data_dir": "$work/data", "admin_token": "perf-admin", "log_level": "warn",
  "streams": [{"id": "demo", "publish_key": "perf-demo-key", "overlay": "metadata"}]
}
JSON
cat >"$work/nginx/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  types { application/vnd.apple.mpegurl m3u8; video/mp2t ts; }
  client_body_temp_path $work/nginx; proxy_temp_path $work/nginx; fastcgi_temp_path $work/nginx;
  uwsgi_temp_path $work/nginx; scgi_temp_path $work/nginx;
  server { listen 127.0.0.1:18590; root $work/www; }
}
CONF
taskset -c 0 "$build/anchorcast" --config "$work/anchorcast.json" >"$work/server.log" 2>&1 &
server=$!
nginx_pid=
anchor=
trap 'kill $anchor $server $nginx_pid 2>/dev/null || true' EXIT
for _ in $(seq 50); do curl -sf http://127.0.0.1:18580/healthz >/dev/null && break; sleep 0.1; done
taskset -c 1 ffmpeg -hide_banner -nostdin -loglevel error -re -stream_loop -1 -i "$src" -c copy \
  -f flv rtmp://127.0.0.1:18581/live/perf-demo-key >"$work/ffmpeg.log" 2>&1 &
anchor=$!
playlist=/hls/demo/index.m3u8
for _ in $(seq 100); do
  [[ $(curl -sf "http://127.0.0.1:18580$playlist" | grep -c '^seg-') -ge 3 ]] && break; sleep 0.2
done
segment=/hls/demo/$(curl -sf "http://127.0.0.1:18580$playlist" | grep '^seg-' | tail -1)
curl -sf "http://127.0.0.1:18580$playlist" -o "$work/www$playlist"
curl -sf "http://127.0.0.1:18580$segment" -o "$work/www$segment"
echo "playlist $(stat -c %s "$work/www$playlist") bytes, segment $segment $(stat -c %s "$work/www$segment") bytes"
lg=( taskset -c 1 "$build/perf/loadgen_hls" --connections "$CONN" --seconds "$SECS" )
"${lg[@]}" --target 127.0.0.1:18580 --path "$playlist" --server-pid $server | sed 's/^summary/anchorcast/'
"${lg[@]}" --target 127.0.0.1:18580 --path "$segment" --server-pid $server | sed 's/^summary/anchorcast/'
kill $anchor $server; wait $server 2>/dev/null || true
anchor= server=
taskset -c 0 nginx -c "$work/nginx/nginx.conf" &
for _ in $(seq 50); do curl -sf "http://127.0.0.1:18590$playlist" >/dev/null && break; sleep 0.1; done
nginx_pid=$(cat "$work/nginx/nginx.pid")
worker=$(pgrep -P "$nginx_pid" | head -1)
"${lg[@]}" --target 127.0.0.1:18590 --path "$playlist" --server-pid "$worker" | sed 's/^summary/nginx/'
"${lg[@]}" --target 127.0.0.1:18590 --path "$segment" --server-pid "$worker" | sed 's/^summary/nginx/'
