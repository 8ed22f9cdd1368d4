// WAV (and anything libsndfile reads) in, 16-bit PCM WAV out. Errors say which file and why.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace ttsd::core {

struct AudioInfo {
  int sample_rate = 0;
  int channels = 0;
  int64_t frames = 0;  // samples per channel
  double seconds() const { return sample_rate > 0 ? static_cast<double>(frames) / sample_rate : 0; }
};

// Samples as float in [-1, 1], interleaved when channels > 1.
struct Audio {
  int sample_rate = 0;
  int channels = 1;
  std::vector<float> samples;
  int64_t frames() const { return channels > 0 ? static_cast<int64_t>(samples.size()) / channels : 0; }
};

absl::StatusOr<AudioInfo> ReadAudioInfo(const std::string& path);
absl::StatusOr<Audio> ReadAudio(const std::string& path);

// Averages channels; a mono input is returned as is.
Audio ToMono(Audio audio);

// 16-bit PCM WAV bytes (RIFF header + little-endian samples), clamped to [-1, 1].
std::string EncodeWav16(const std::vector<float>& samples, int sample_rate);
// Atomic write of EncodeWav16's bytes.
absl::Status WriteWav16(const std::string& path, const std::vector<float>& samples, int sample_rate);

}  // namespace ttsd::core
