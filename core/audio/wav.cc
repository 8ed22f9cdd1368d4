#include "core/audio/wav.h"

#include <sndfile.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "core/common/file_util.h"

namespace ttsd::core {
namespace {

// Beyond these a header is corrupt (or the file is not speech data).
constexpr int kMaxSampleRate = 768000;
constexpr int kMaxChannels = 64;
constexpr int64_t kMaxAudioSeconds = 3600;

// RAII for SNDFILE*.
struct SndFile {
  SNDFILE* f = nullptr;
  SF_INFO info{};
  ~SndFile() {
    if (f) sf_close(f);
  }
};

absl::Status Open(const std::string& path, SndFile* sf) {
  if (!std::filesystem::exists(path)) return absl::NotFoundError(absl::StrCat(path, ": file not found"));
  std::memset(&sf->info, 0, sizeof(sf->info));
  sf->f = sf_open(path.c_str(), SFM_READ, &sf->info);
  if (sf->f == nullptr) {
    return absl::DataLossError(absl::StrCat(path, ": not a readable audio file (", sf_strerror(nullptr), ")"));
  }
  if (sf->info.samplerate <= 0 || sf->info.samplerate > kMaxSampleRate || sf->info.channels <= 0 ||
      sf->info.channels > kMaxChannels) {
    return absl::DataLossError(absl::StrCat(path, ": corrupt header (sample rate ", sf->info.samplerate,
                                            ", channels ", sf->info.channels, ")"));
  }
  return absl::OkStatus();
}

void PutLE(std::string* out, uint32_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint32_t GetLE32(const unsigned char* p) { return p[0] | (p[1] << 8) | (p[2] << 16) | (uint32_t(p[3]) << 24); }

// libsndfile quietly shortens a RIFF/WAVE whose data chunk runs past the end of the file; a corpus
// file cut short by a failed copy must be reported instead. Other formats pass unchecked.
absl::Status CheckWavNotTruncated(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  unsigned char hdr[12];
  if (!in.read(reinterpret_cast<char*>(hdr), 12) || std::memcmp(hdr, "RIFF", 4) != 0 ||
      std::memcmp(hdr + 8, "WAVE", 4) != 0) {
    return absl::OkStatus();
  }
  const uint64_t file_size = std::filesystem::file_size(path);
  uint64_t pos = 12;
  unsigned char chunk[8];
  while (in.seekg(static_cast<std::streamoff>(pos)) && in.read(reinterpret_cast<char*>(chunk), 8)) {
    uint32_t size = GetLE32(chunk + 4);
    if (std::memcmp(chunk, "data", 4) == 0) {
      // 0 and 0xFFFFFFFF are streaming placeholders: the writer did not know the length.
      if (size != 0 && size != 0xFFFFFFFFu && pos + 8 + size > file_size) {
        return absl::DataLossError(absl::StrCat(path, ": truncated (header declares ", size,
                                                " bytes of audio, the file holds ", file_size - pos - 8, ")"));
      }
      return absl::OkStatus();
    }
    pos += 8 + size + (size & 1);
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<AudioInfo> ReadAudioInfo(const std::string& path) {
  SndFile sf;
  if (auto st = Open(path, &sf); !st.ok()) return st;
  return AudioInfo{sf.info.samplerate, sf.info.channels, static_cast<int64_t>(sf.info.frames)};
}

absl::StatusOr<Audio> ReadAudio(const std::string& path) {
  SndFile sf;
  if (auto st = Open(path, &sf); !st.ok()) return st;
  if (auto st = CheckWavNotTruncated(path); !st.ok()) return st;
  if (sf.info.frames > kMaxAudioSeconds * sf.info.samplerate) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": the header declares ", sf.info.frames / sf.info.samplerate,
                                                   " s of audio; files over ", kMaxAudioSeconds,
                                                   " s are not read (split it into utterances)"));
  }
  Audio audio;
  audio.sample_rate = sf.info.samplerate;
  audio.channels = sf.info.channels;
  // In chunks, so what is allocated is what the file really holds, not what a corrupt header claims.
  constexpr sf_count_t kChunkFrames = 1 << 16;
  std::vector<float> chunk(static_cast<size_t>(kChunkFrames) * sf.info.channels);
  sf_count_t got = 0;
  while (true) {
    const sf_count_t n = sf_readf_float(sf.f, chunk.data(), kChunkFrames);
    if (n <= 0) break;
    audio.samples.insert(audio.samples.end(), chunk.begin(), chunk.begin() + n * sf.info.channels);
    got += n;
  }
  if (got != sf.info.frames) {
    // The header promised more than the file holds: a truncated download or copy.
    return absl::DataLossError(absl::StrCat(path, ": truncated (header says ", sf.info.frames,
                                            " frames, file holds ", got, ")"));
  }
  return audio;
}

Audio ToMono(Audio audio) {
  if (audio.channels <= 1) return audio;
  int64_t n = audio.frames();
  std::vector<float> mono(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    float sum = 0;
    for (int c = 0; c < audio.channels; ++c) sum += audio.samples[i * audio.channels + c];
    mono[i] = sum / audio.channels;
  }
  audio.samples = std::move(mono);
  audio.channels = 1;
  return audio;
}

std::string EncodeWav16(const std::vector<float>& samples, int sample_rate) {
  std::string out;
  uint32_t data_bytes = static_cast<uint32_t>(samples.size() * 2);
  out.reserve(44 + data_bytes);
  out += "RIFF";
  PutLE(&out, 36 + data_bytes, 4);
  out += "WAVEfmt ";
  PutLE(&out, 16, 4);  // fmt chunk size
  PutLE(&out, 1, 2);   // PCM
  PutLE(&out, 1, 2);   // mono
  PutLE(&out, static_cast<uint32_t>(sample_rate), 4);
  PutLE(&out, static_cast<uint32_t>(sample_rate) * 2, 4);  // byte rate
  PutLE(&out, 2, 2);                                        // block align
  PutLE(&out, 16, 2);                                       // bits per sample
  out += "data";
  PutLE(&out, data_bytes, 4);
  for (float s : samples) {
    float c = std::clamp(std::isfinite(s) ? s : 0.0f, -1.0f, 1.0f);
    auto v = static_cast<int16_t>(std::lrint(c * 32767.0f));
    PutLE(&out, static_cast<uint16_t>(v), 2);
  }
  return out;
}

absl::Status WriteWav16(const std::string& path, const std::vector<float>& samples, int sample_rate) {
  return WriteFileAtomic(path, EncodeWav16(samples, sample_rate));
}

}  // namespace ttsd::core
