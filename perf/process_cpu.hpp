// CPU time another process has used (utime + stime, /proc/PID/stat fields 14 and 15):
// how the load generators charge a server with the work they made it do.
#pragma once

#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

namespace anchorcast::perf {

// Seconds of CPU `pid` has used, user and system; 0 when it cannot be read.
inline double process_cpu_seconds(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(in, line);
  auto close = line.rfind(')');  // the command name may hold spaces and parentheses
  if (close == std::string::npos) return 0;
  std::istringstream rest(line.substr(close + 2));
  std::string field;
  unsigned long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stoul(field);
    if (i == 15) stime = std::stoul(field);
  }
  return double(utime + stime) / double(sysconf(_SC_CLK_TCK));
}

}  // namespace anchorcast::perf
