// FormatDatasetReport: the text `ttsd data check` prints and every training run logs.
#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/data/dataset.h"

namespace ttsd::core {
namespace {

std::string Hours(double seconds) { return absl::StrFormat("%.2f h", seconds / 3600.0); }

std::string Bar(size_t n, size_t max, int width = 30) {
  int len = max == 0 ? 0 : static_cast<int>((n * width + max - 1) / max);
  return std::string(static_cast<size_t>(len), '#');
}

}  // namespace

std::string FormatDatasetReport(const PreparedDataset& ds, const TrainConfig& cfg) {
  const DatasetReport& r = ds.report;
  std::string out;
  double total = 0;
  for (const auto& u : ds.utterances) total += u.seconds;
  absl::StrAppend(&out, "Dataset  ", r.manifest_path, "  (format ", r.format, ")\n");
  absl::StrAppend(&out, "Entries  ", r.entries, " read, ", ds.utterances.size(), " usable (", Hours(total), "), ",
                  r.problems.size(), " with problems", r.problems.empty() ? "" : (cfg.data.strict ? " (strict: fatal)" : " (skipped)"),
                  "\n");
  absl::StrAppend(&out, "Split    ", ds.train.size(), " train, ", ds.validation.size(), " validation\n");

  absl::StrAppend(&out, "\nSpeakers\n");
  std::map<std::string, std::pair<size_t, double>> per_speaker;
  for (const auto& u : ds.utterances) {
    auto& s = per_speaker[u.utt.speaker.empty() ? "(single speaker)" : u.utt.speaker];
    s.first++;
    s.second += u.seconds;
  }
  for (const auto& [name, s] : per_speaker) {
    absl::StrAppend(&out, absl::StrFormat("  %-20s %6zu utterances  %s  mean %.2f s\n", name, s.first,
                                          Hours(s.second), s.second / s.first));
  }

  static const double kEdges[] = {0, 1, 2, 3, 5, 8, 12, 20};
  constexpr int kBins = sizeof(kEdges) / sizeof(kEdges[0]);
  size_t counts[kBins] = {};
  double min_s = 1e9, max_s = 0;
  for (const auto& u : ds.utterances) {
    int b = kBins - 1;
    while (b > 0 && u.seconds < kEdges[b]) --b;
    counts[b]++;
    min_s = std::min(min_s, u.seconds);
    max_s = std::max(max_s, u.seconds);
  }
  size_t max_count = *std::max_element(counts, counts + kBins);
  absl::StrAppend(&out, "\nDurations");
  if (!ds.utterances.empty()) absl::StrAppend(&out, absl::StrFormat(" (min %.2f s, max %.2f s)", min_s, max_s));
  absl::StrAppend(&out, "\n");
  for (int b = 0; b < kBins; ++b) {
    std::string label = b + 1 < kBins ? absl::StrFormat("%g-%g s", kEdges[b], kEdges[b + 1])
                                      : absl::StrFormat("%g+ s", kEdges[b]);
    absl::StrAppend(&out, absl::StrFormat("  %-8s %6zu %s\n", label, counts[b], Bar(counts[b], max_count)));
  }

  std::map<int, size_t> rates;
  float peak = 0;
  std::vector<double> loudness;
  for (const auto& u : ds.utterances) {
    rates[u.source_sample_rate]++;
    peak = std::max(peak, u.peak);
    loudness.push_back(u.rms_dbfs);
  }
  absl::StrAppend(&out, "\nSample rates");
  for (const auto& [rate, n] : rates) {
    absl::StrAppend(&out, "  ", rate, " Hz: ", n, rate == cfg.audio.sample_rate ? "" : " (resampled)");
  }
  absl::StrAppend(&out, "   -> audio.sample_rate ", cfg.audio.sample_rate, "\n");
  if (!loudness.empty()) {
    std::sort(loudness.begin(), loudness.end());
    absl::StrAppend(&out, absl::StrFormat("Levels   peak %.3f, loudness median %.1f dBFS (range %.1f .. %.1f)\n",
                                          peak, loudness[loudness.size() / 2], loudness.front(), loudness.back()));
  }
  if (r.features) {
    absl::StrAppend(&out, "Features ", r.cache_dir, ": ", r.cache_hits, " cached, ", r.cache_misses, " computed\n");
  }

  if (!r.missing_validation_ids.empty()) {
    absl::StrAppend(&out, "\nValidation list ids not in the usable data (", r.missing_validation_ids.size(), "):");
    for (const auto& id : r.missing_validation_ids) absl::StrAppend(&out, " ", id);
    absl::StrAppend(&out, "\n");
  }
  if (!r.problems.empty()) {
    std::map<std::string, size_t> by_kind;
    for (const auto& p : r.problems) by_kind[ProblemKindName(p.kind)]++;
    absl::StrAppend(&out, "\nProblems (", r.problems.size(), "):");
    for (const auto& [kind, n] : by_kind) absl::StrAppend(&out, " ", kind, " ", n, ";");
    absl::StrAppend(&out, "\n");
    for (const auto& p : r.problems) absl::StrAppend(&out, "  ", p.ToString(), "\n");
  } else {
    absl::StrAppend(&out, "\nNo problems found.\n");
  }
  return out;
}

}  // namespace ttsd::core
