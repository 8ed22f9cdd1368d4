// `ttsd admin backup --data-dir D --out FILE`: an online copy of the daemon's database, safe while the
// daemon runs (SQLite's backup API), checked with integrity_check before it is renamed into place.
#include <cstdio>

#include "server/commands/command_util.h"
#include "server/commands/commands.h"
#include "server/store/sqlite.h"

namespace ttsd::server {
namespace {

struct BackupOptions {
  std::string data_dir;
  std::string out;
};

int RunBackup(const BackupOptions& o) {
  const std::string db = (o.data_dir.empty() ? DefaultDataDir() : o.data_dir) + "/ttsd.db";
  auto pages = store::BackupDatabase(db, o.out);
  if (!pages.ok()) return ReportError(pages.status());
  std::printf("%s: %lld pages copied from %s; integrity_check ok\n", o.out.c_str(), static_cast<long long>(*pages),
              db.c_str());
  return kExitOk;
}

}  // namespace

void RegisterAdminCommands(CLI::App& app, int* exit_code) {
  auto* admin = app.add_subcommand("admin", "Operator tasks on a daemon's data dir");
  admin->require_subcommand(1);
  auto o = std::make_shared<BackupOptions>();
  auto* backup = admin->add_subcommand("backup", "Copy the daemon's SQLite database while it runs");
  backup->add_option("--data-dir", o->data_dir, "The daemon's data dir (default $XDG_DATA_HOME/ttsd)");
  backup->add_option("--out", o->out, "The backup file (written atomically)")->required();
  backup->callback([o, exit_code] { *exit_code = RunBackup(*o); });
}

}  // namespace ttsd::server
