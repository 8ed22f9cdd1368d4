// Dataset manifest readers, chosen by data.format:
//   ljspeech      metadata.csv, "id|text" or "id|text|normalized text", audio in wavs/<id>.wav
//   multispeaker  metadata.csv, "id|speaker|text" (piper's layout), audio in wavs/<id>.wav
//   jsonl         one {"audio": path, "text": ..., "speaker": ..., "id": ...} per line; audio paths
//                 relative to the manifest's folder
// Bad lines become DataProblems; only an unreadable manifest is an error.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/config/train_config.h"
#include "core/data/problems.h"

namespace ttsd::core {

struct Utterance {
  std::string id;
  std::string speaker;     // empty for single-speaker data
  std::string text;        // the normalized column when the manifest has one
  std::string audio_path;  // absolute
  std::string where;       // "metadata.csv:12"
};

struct Manifest {
  std::string path;
  size_t lines = 0;  // non-empty lines read
  std::vector<Utterance> utterances;
  std::vector<DataProblem> problems;
};

std::string ManifestPath(const DataConfig& config);
absl::StatusOr<Manifest> ReadManifest(const DataConfig& config);

}  // namespace ttsd::core
