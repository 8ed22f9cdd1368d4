// Runs a shell command the way a user would and captures its exit code and output (stdout + stderr).
#pragma once

#include <string>

namespace ttsd::testing {

struct CommandResult {
  int code = -1;       // exit status; -1 if killed by a signal or not started
  std::string output;  // stdout and stderr, interleaved
};

CommandResult RunCommand(const std::string& command);

}  // namespace ttsd::testing
