// Where ttsctl looks for the daemon: --addr, else $TTSD_ADDR, else the default unix socket in the
// default data dir ($XDG_DATA_HOME/ttsd/ttsd.sock, or ~/.local/share/ttsd/ttsd.sock).
#pragma once

#include <string>

namespace ttsd::client {

std::string DefaultDataDir();
std::string ResolveAddress(const std::string& flag_addr);
// "unix:///path" or "unix:path" -> gRPC target; "tcp://host:port" -> "host:port"; anything else as is.
std::string ToGrpcTarget(const std::string& addr);

}  // namespace ttsd::client
