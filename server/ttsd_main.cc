// ttsd: the training daemon's executable.
//   ttsd serve [--data-dir DIR] [--listen ADDR] ...   the daemon (commands/serve_command.cc)
//   ttsd worker ...                                   one daemon job's training process (internal)
// Subcommands that work on one config without a daemon:
//   ttsd train --config FILE [--output-dir DIR] [--resume auto|PATH]
//   ttsd synthesize --checkpoint CKPT --text TEXT --out X.wav
//   ttsd config check|defaults
//   ttsd data check|prepare --config FILE
//   ttsd text symbols|phonemize --config FILE
//   ttsd audio mel|griffin-lim ...
//   ttsd bench features --config FILE
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdlib>

#include "core/common/logging.h"

#include "server/commands/commands.h"

namespace {

// LibTorch's OpenMP threads (libgomp) spin between parallel regions by default. On a 2-core machine
// that spinning takes cycles from the thread doing the work: training steps measured 5-10% slower
// (bench/BENCHMARKS.md). libgomp reads OMP_WAIT_POLICY when it loads, before main, so ttsd executes
// itself again, once, with PASSIVE, unless the user chose a policy.
void PreferPassiveOpenMpWaits(char** argv) {
  if (std::getenv("OMP_WAIT_POLICY") != nullptr) return;
  setenv("OMP_WAIT_POLICY", "PASSIVE", 1);
  execv("/proc/self/exe", argv);  // returns only on failure: go on with libgomp's default
}

}  // namespace

int main(int argc, char** argv) {
  PreferPassiveOpenMpWaits(argv);
  spdlog::set_pattern("%Y-%m-%d %H:%M:%S.%e %^%l%$ %v");
  CLI::App app{"ttsd - trains and fine-tunes text-to-speech voices"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("ttsd ") + TTSD_VERSION);
  int exit_code = ttsd::server::kExitOk;
  ttsd::server::RegisterServeCommand(app, &exit_code);
  ttsd::server::RegisterTrainCommands(app, &exit_code);
  ttsd::server::RegisterSynthesizeCommands(app, &exit_code);
  ttsd::server::RegisterModelCommands(app, &exit_code);
  ttsd::server::RegisterImportCommands(app, &exit_code);
  ttsd::server::RegisterAdminCommands(app, &exit_code);
  ttsd::server::RegisterConfigCommands(app, &exit_code);
  ttsd::server::RegisterDataCommands(app, &exit_code);
  ttsd::server::RegisterTextCommands(app, &exit_code);
  ttsd::server::RegisterAudioCommands(app, &exit_code);
  ttsd::server::RegisterBenchCommands(app, &exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : ttsd::server::kExitBadConfig;
  }
  return exit_code;
}
