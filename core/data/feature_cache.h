// On-disk feature cache: one file per utterance holding its log-mel, symbol ids and audio statistics,
// named by a SHA-256 of the audio file's bytes, the text, and every parameter that changes the result
// (audio config, text config, symbol table). A changed hop_length, a re-recorded WAV or an edited
// transcript is a different key, so stale features are never read. Entries are written atomically;
// a corrupt entry reads as a miss. Thread-safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/audio/matrix.h"
#include "core/config/train_config.h"

namespace ttsd::core {

struct CachedFeatures {
  FloatMatrix mel;        // [n_mels, frames]
  std::vector<int> ids;   // symbol ids (with blanks when add_blank)
  // Facts about the source audio, so checks run on a hit without decoding it again.
  int source_sample_rate = 0;
  int64_t source_frames = 0;
  float peak = 0;
  double rms_dbfs = 0;
  double clipped_fraction = 0;
  int text_length = 0;  // code points after normalisation
};

class FeatureCache {
 public:
  // `fingerprint` covers every setting that affects features (see FeatureFingerprint).
  FeatureCache(std::string dir, std::string fingerprint) : dir_(std::move(dir)), fingerprint_(std::move(fingerprint)) {}

  std::string Key(const std::string& audio_sha256, const std::string& text) const;
  std::string PathFor(const std::string& key) const;
  // nullopt on a miss or an unreadable entry.
  std::optional<CachedFeatures> Load(const std::string& key) const;
  absl::Status Store(const std::string& key, const CachedFeatures& features) const;
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
  std::string fingerprint_;
};

// Canonical text of every feature-relevant setting plus the symbol table.
std::string FeatureFingerprint(const AudioConfig& audio, const TextConfig& text, const std::string& symbols_json);

// Reads one entry file (the format FeatureCache::Store writes).
absl::StatusOr<CachedFeatures> ReadFeatureFile(const std::string& path);

}  // namespace ttsd::core
