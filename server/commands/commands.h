// `ttsd` subcommands. Each Register* adds its subcommands to the app; the callback stores the process
// exit code in *exit_code (0 ok, 1 failed, 2 bad config or usage).
#pragma once

#include <CLI/CLI.hpp>

namespace ttsd::server {

constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;
constexpr int kExitBadConfig = 2;

void RegisterDataCommands(CLI::App& app, int* exit_code);
void RegisterAudioCommands(CLI::App& app, int* exit_code);
void RegisterBenchCommands(CLI::App& app, int* exit_code);
void RegisterBenchTrainStep(CLI::App& bench, int* exit_code);  // under `ttsd bench`
void RegisterBenchStore(CLI::App& bench, int* exit_code);      // under `ttsd bench`
void RegisterConfigCommands(CLI::App& app, int* exit_code);
void RegisterTextCommands(CLI::App& app, int* exit_code);
void RegisterTrainCommands(CLI::App& app, int* exit_code);
void RegisterSynthesizeCommands(CLI::App& app, int* exit_code);
void RegisterModelCommands(CLI::App& app, int* exit_code);
void RegisterImportCommands(CLI::App& app, int* exit_code);
void RegisterAdminCommands(CLI::App& app, int* exit_code);
void RegisterServeCommand(CLI::App& app, int* exit_code);

}  // namespace ttsd::server
