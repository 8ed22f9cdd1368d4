// `ttsd config check` (validate, print the resolved config) and `ttsd config defaults`.
#include <cstdio>

#include "core/config/config_yaml.h"
#include "server/commands/command_util.h"
#include "server/commands/commands.h"

namespace ttsd::server {

void RegisterConfigCommands(CLI::App& app, int* exit_code) {
  auto* config = app.add_subcommand("config", "Validate configs and show every setting");
  config->require_subcommand(1);
  auto path = std::make_shared<std::string>();

  auto* check = config->add_subcommand("check", "Validate a config and print it resolved (defaults filled in)");
  check->add_option("--config", *path, "Training config (YAML)")->required();
  check->callback([path, exit_code] {
    auto parsed = LoadConfigOrReport(*path, exit_code);
    if (!parsed) return;
    std::printf("%s", core::EmitConfigYaml(parsed->config).c_str());
    *exit_code = kExitOk;
  });

  auto* defaults = config->add_subcommand("defaults", "Print every setting with its default value");
  defaults->callback([exit_code] {
    std::printf("%s", core::EmitConfigYaml(core::TrainConfig{}).c_str());
    *exit_code = kExitOk;
  });
}

}  // namespace ttsd::server
