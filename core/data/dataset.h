// Dataset preparation: read the manifest, check every entry once (audio readable, mono, not clipped,
// duration and text within limits, every symbol known), and (for training) fill the feature cache.
// The same pass backs `ttsd data check` and the start of every training run.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/config/train_config.h"
#include "core/data/manifest.h"
#include "core/data/problems.h"
#include "core/text/tokenizer.h"

namespace ttsd::core {

struct PreparedUtterance {
  Utterance utt;
  int speaker_id = 0;
  double seconds = 0;          // source duration
  int source_sample_rate = 0;
  int64_t frames = 0;          // mel frames at audio.sample_rate
  int64_t num_ids = 0;         // symbol ids, blanks included (0 when not computed)
  float peak = 0;
  double rms_dbfs = 0;
  std::string feature_path;    // cache entry; empty when features were not computed
};

struct DatasetReport {
  std::string manifest_path;
  std::string format;
  size_t entries = 0;                   // non-empty manifest lines
  std::vector<DataProblem> problems;    // manifest order
  std::vector<std::string> missing_validation_ids;
  bool features = false;
  std::string cache_dir;
  size_t cache_hits = 0;
  size_t cache_misses = 0;
};

struct PreparedDataset {
  std::vector<PreparedUtterance> utterances;  // usable ones, manifest order
  std::vector<size_t> train;                  // indices into utterances
  std::vector<size_t> validation;
  std::vector<std::string> speakers;          // speaker id -> name (sorted); one "" for single-speaker
  DatasetReport report;
};

struct PrepareOptions {
  bool compute_features = true;  // false: check only (no mel, no cache)
  bool show_progress = true;
  // Only the manifest entries i with i % shard_count == shard_rank: data-parallel ranks each fill their
  // share of a cold feature cache, then every rank prepares the whole set from it.
  int shard_rank = 0, shard_count = 1;
};

// Errors only for what stops the whole pass (unreadable manifest, cache dir not writable); per-entry
// problems are in report.problems. Apply EnforceDataPolicy() afterwards.
absl::StatusOr<PreparedDataset> PrepareDataset(const TrainConfig& config, const Tokenizer& tokenizer,
                                               const PrepareOptions& options);

// FAILED_PRECONDITION when data.strict and there are problems, or when nothing usable is left.
absl::Status EnforceDataPolicy(const PreparedDataset& dataset, const DataConfig& config);

// The human-readable report `ttsd data check` prints.
std::string FormatDatasetReport(const PreparedDataset& dataset, const TrainConfig& config);

std::string CacheDirFor(const DataConfig& config);

}  // namespace ttsd::core
