// ttsctl's subcommands. Each Register* adds subcommands whose callbacks connect with `g->conn` and put
// the process exit code in g->exit_code.
#pragma once

#include <CLI/CLI.hpp>

#include "client/connection.h"

namespace ttsd::client {

struct Globals {
  ConnectionOptions conn;
  std::string output = "text";  // text | json
  int exit_code = kExitOk;
  bool json() const { return output == "json"; }
};

void RegisterJobCommands(CLI::App& app, Globals* g);       // submit, list, status, stop, resume, cancel, watch
void RegisterArtifactCommands(CLI::App& app, Globals* g);  // logs, checkpoints, metrics

}  // namespace ttsd::client
