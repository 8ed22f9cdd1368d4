#include "server/daemon/metrics_backfill.h"

#include <fstream>
#include <map>

#include "core/common/status.h"
#include "nlohmann/json.hpp"

namespace ttsd::server::daemon {
namespace {

// metrics.jsonl names -> the daemon's metric keys ("step_s" is what the daemon calls perf/step_seconds);
// "" = not a metric row of the daemon's.
std::string DaemonKey(const std::string& k) {
  if (k == "step" || k == "epoch" || k == "frames_per_s") return "";
  if (k == "step_s") return "perf/step_seconds";
  return k;
}

}  // namespace

absl::StatusOr<int64_t> BackfillMetrics(store::Store& store, int64_t job_id, int64_t attempt,
                                        const std::string& job_dir, int64_t resume_step) {
  TTSD_ASSIGN_OR_RETURN(int64_t have, store.MaxMetricStep(job_id));
  if (resume_step <= have) return 0;
  std::ifstream in(job_dir + "/metrics.jsonl");
  if (!in) return 0;
  std::map<std::pair<int64_t, std::string>, double> rows;
  std::string line;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object() || !j.contains("step") || !j["step"].is_number_integer()) continue;  // a torn last line
    int64_t step = j["step"].get<int64_t>();
    if (step <= have || step > resume_step) continue;
    for (auto& [k, v] : j.items()) {
      std::string key = DaemonKey(k);
      if (!key.empty() && v.is_number()) rows[{step, key}] = v.get<double>();
    }
  }
  std::vector<store::MetricRow> out;
  for (const auto& [sk, value] : rows) out.push_back({job_id, attempt, sk.first, sk.second, value});
  const int64_t n = static_cast<int64_t>(out.size());
  store.AddMetrics(std::move(out));
  TTSD_RETURN_IF_ERROR(store.FlushMetrics());
  return n;
}

}  // namespace ttsd::server::daemon
