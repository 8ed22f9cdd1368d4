#include "client/address.h"

#include <cstdlib>

namespace ttsd::client {

std::string DefaultDataDir() {
  if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg && *xdg) return std::string(xdg) + "/ttsd";
  if (const char* home = std::getenv("HOME"); home && *home) return std::string(home) + "/.local/share/ttsd";
  return "/var/lib/ttsd";
}

std::string ResolveAddress(const std::string& flag_addr) {
  if (!flag_addr.empty()) return flag_addr;
  if (const char* env = std::getenv("TTSD_ADDR"); env && *env) return env;
  return "unix://" + DefaultDataDir() + "/ttsd.sock";
}

std::string ToGrpcTarget(const std::string& addr) {
  if (addr.rfind("tcp://", 0) == 0) return addr.substr(6);
  return addr;  // gRPC understands unix:///abs/path and unix:rel/path itself
}

}  // namespace ttsd::client
