#include "core/common/failpoint.h"

#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

namespace ttsd::core {

void Failpoint(std::string_view name, std::string_view argument) {
  static const std::string armed = [] {
    const char* v = std::getenv("TTSD_FAILPOINT");
    return v ? "," + std::string(v) + "," : std::string();
  }();
  if (armed.empty()) return;
  std::string want = ",";
  want.append(name).append(":").append(argument).append(",");
  if (armed.find(want) != std::string::npos) ::kill(::getpid(), SIGKILL);
}

}  // namespace ttsd::core
