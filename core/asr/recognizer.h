// Offline English speech recognition for objective validation: pocketsphinx (Debian's libpocketsphinx
// with the pocketsphinx-en-us acoustic model, language model and dictionary). It answers "can a
// recogniser understand the voice yet" without a person listening. One decoder per run; not thread-safe.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace ttsd::core::asr {

// Where the en-us model lives (pocketsphinx-en-us); empty when it is not installed.
std::string PocketsphinxModelDir();

class Recognizer {
 public:
  // FAILED_PRECONDITION, saying which package to install, when the model files are missing.
  static absl::StatusOr<std::unique_ptr<Recognizer>> CreateEnglish();
  ~Recognizer();

  // The words heard in `wave` (mono, any sample rate; resampled to the model's 16 kHz), lowercase.
  absl::StatusOr<std::string> Transcribe(const std::vector<float>& wave, int sample_rate);

 private:
  struct Impl;
  explicit Recognizer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ttsd::core::asr
