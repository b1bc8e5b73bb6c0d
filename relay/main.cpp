// anchorcast: the command line. Everything else lives in the Server.
#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>

#include "anchorcast/app/server.hpp"
#include "anchorcast/core/config.hpp"
#include "anchorcast/core/log.hpp"

extern "C" {
#include <libavutil/log.h>
}

namespace {

constexpr const char* kUsage =
    "usage: anchorcast --config FILE        run the server (logs to stderr)\n"
    "       anchorcast --check-config FILE  validate a config: exit 0, or 2 naming the bad key\n"
    "       anchorcast --help | --version\n"
    "\n"
    "A live-commerce streaming relay: RTMP in; HLS, HTTP-FLV and RTMP out.\n"
    "  publish  rtmp://HOST:RTMP_PORT/live  with stream key = a stream's publish_key\n"
    "  play     http://HOST:HTTP_PORT/hls/{id}/index.m3u8\n"
    "           http://HOST:HTTP_PORT/flv/{id}.flv\n"
    "           rtmp://HOST:RTMP_PORT/live/{id}\n"
    "  operate  /healthz  /metrics  /api/v1/streams\n";

int fail(const std::string& message) {
  std::fprintf(stderr, "anchorcast: %s\n", message.c_str());
  return 2;
}

anchorcast::log::Level parse_level(const std::string& s) {
  using anchorcast::log::Level;
  if (s == "debug") return Level::debug;
  if (s == "warn") return Level::warn;
  if (s == "error") return Level::error;
  return Level::info;
}

}  // namespace

#if defined(__SANITIZE_ADDRESS__)
// LeakSanitizer (the ASan build): fontconfig keeps what it allocates while parsing the
// system's fonts.conf (the card renderer's first font lookup) for the life of the process.
// It is fontconfig's own cache, not a leak of ours; everything else still fails the run.
extern "C" const char* __lsan_default_suppressions() { return "leak:libfontconfig.so\n"; }
#endif

int main(int argc, char** argv) {
  std::string config_path;
  bool check_only = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (arg == "--version") {
      std::printf("anchorcast %s\n", ANCHORCAST_VERSION);
      return 0;
    }
    if ((arg == "--config" || arg == "--check-config") && i + 1 < argc) {
      check_only = arg == "--check-config";
      config_path = argv[++i];
      continue;
    }
    if (arg.rfind("--config=", 0) == 0) {
      config_path = arg.substr(9);
      continue;
    }
    std::fprintf(stderr, "anchorcast: unknown argument '%s'\n\n%s", arg.c_str(), kUsage);
    return 2;
  }
  if (config_path.empty()) {
    std::fputs(kUsage, stderr);
    return 2;
  }

  auto config = anchorcast::load_config(config_path);
  if (!config) return fail(config_path + ": " + config.error().message);
  if (check_only) {
    std::printf("%s: ok (%zu stream(s))\n", config_path.c_str(), config->streams.size());
    return 0;
  }
  anchorcast::log::set_min_level(parse_level(config->log_level));
  // libav's own log (x264's settings banner and exit statistics are "info") stays quiet
  // unless something is wrong; the compositor logs what matters in our format.
  av_log_set_level(config->log_level == "debug" ? AV_LOG_INFO : AV_LOG_WARNING);

  // Block the stop signals in every thread (threads inherit the mask), then wait for
  // them here: no async-signal-safety puzzles, and the stop runs on this thread.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);  // a viewer hanging up is an error code, not a death

  anchorcast::Server server(std::move(*config));
  if (auto st = server.start(); !st) {
    server.stop();
    return fail(st.error().message);
  }
  int sig = 0;
  sigwait(&stop_signals, &sig);
  anchorcast::log::info("received ", sig == SIGINT ? "SIGINT" : "SIGTERM", ", stopping");
  server.stop();
  return 0;
}
