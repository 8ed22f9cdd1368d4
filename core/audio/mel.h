// Log-mel spectrogram: |STFT| (Hann window, power 1) -> Slaney-normalised Slaney-scale mel filterbank ->
// log(max(x, log_clamp)). Matches torchaudio.transforms.MelSpectrogram(norm="slaney",
// mel_scale="slaney", power=1) followed by the same log. Thread-safe: Compute is const.
#pragma once

#include <memory>
#include <vector>

#include "core/audio/matrix.h"
#include "core/config/train_config.h"

namespace ttsd::core {

class MelExtractor {
 public:
  explicit MelExtractor(const AudioConfig& config);
  ~MelExtractor();
  MelExtractor(const MelExtractor&) = delete;
  MelExtractor& operator=(const MelExtractor&) = delete;

  // `mono` at config.sample_rate; returns [n_mels, NumFrames(mono.size())].
  FloatMatrix Compute(const std::vector<float>& mono) const;
  int64_t NumFrames(int64_t num_samples) const;
  // [n_freqs = n_fft/2 + 1, n_mels], as torchaudio.functional.melscale_fbanks.
  FloatMatrix Filterbank() const;
  const AudioConfig& config() const { return config_; }

 private:
  struct Impl;
  AudioConfig config_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ttsd::core
