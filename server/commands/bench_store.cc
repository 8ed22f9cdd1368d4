// `ttsd bench store`: metric rows per second through the daemon's SQLite store (server/store), the way
// a training job writes them: AddMetrics calls of `--batch` rows, written by the store's writer thread
// in transactions. Times from the first call until FlushMetrics returns. One JSON line.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "server/commands/command_util.h"
#include "server/commands/commands.h"
#include "server/store/store.h"

namespace ttsd::server {
namespace {

struct StoreBenchOptions {
  int64_t rows = 200000;
  int batch = 100;
  std::string dir;
};

int RunStoreBench(const StoreBenchOptions& opt) {
  namespace fs = std::filesystem;
  fs::path dir = opt.dir.empty() ? fs::temp_directory_path() / ("ttsd-bench-store-" + std::to_string(::getpid()))
                                 : fs::path(opt.dir);
  std::error_code ec;
  fs::remove_all(dir / "bench.db", ec);
  int64_t job_id = 0;
  double seconds = 0;
  {
    auto store = store::Store::Open({(dir / "bench.db").string(), (dir / "jobs").string()});
    if (!store.ok()) return ReportError(store.status());
    bool created = false;
    auto job = (*store)->CreateJob({"bench", "", 0, "", 1, ""}, "", &created);
    if (!job.ok()) return ReportError(job.status());
    job_id = job->id;
    const std::vector<std::string> keys = {"train/loss", "train/mle", "train/duration", "lr", "grad_norm"};
    auto t0 = std::chrono::steady_clock::now();
    int64_t written = 0;
    for (int64_t step = 1; written < opt.rows; ++step) {
      std::vector<store::MetricRow> rows;
      rows.reserve(opt.batch);
      for (int i = 0; i < opt.batch && written < opt.rows; ++i, ++written) {
        rows.push_back({job_id, 1, step * opt.batch + i, keys[static_cast<size_t>(i) % keys.size()], 0.5 * i});
      }
      (*store)->AddMetrics(std::move(rows));
    }
    if (auto st = (*store)->FlushMetrics(); !st.ok()) return ReportError(st);
    seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  if (opt.dir.empty()) fs::remove_all(dir, ec);
  nlohmann::json j = {{"rows", opt.rows}, {"batch", opt.batch}, {"seconds", seconds},
                      {"rows_per_s", static_cast<double>(opt.rows) / seconds}};
  std::printf("%s\n", j.dump().c_str());
  return kExitOk;
}

}  // namespace

void RegisterBenchStore(CLI::App& bench, int* exit_code) {
  auto opt = std::make_shared<StoreBenchOptions>();
  auto* s = bench.add_subcommand("store", "Metric rows per second through the SQLite store (one JSON line)");
  s->add_option("--rows", opt->rows, "Metric rows to write")->check(CLI::PositiveNumber);
  s->add_option("--batch", opt->batch, "Rows per AddMetrics call")->check(CLI::PositiveNumber);
  s->add_option("--dir", opt->dir, "Folder for the database (default: a temporary one, removed after)");
  s->callback([opt, exit_code] { *exit_code = RunStoreBench(*opt); });
}

}  // namespace ttsd::server
