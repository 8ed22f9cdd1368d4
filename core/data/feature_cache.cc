#include "core/data/feature_cache.h"

#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "core/common/file_util.h"
#include "core/common/sha256.h"
#include "core/common/status.h"

namespace ttsd::core {
namespace {

constexpr char kMagic[8] = {'T', 'T', 'S', 'D', 'F', 'E', 'A', 'T'};
constexpr uint32_t kVersion = 1;

void PutU32(std::string* out, uint32_t v) { out->append(reinterpret_cast<const char*>(&v), 4); }

}  // namespace

std::string FeatureFingerprint(const AudioConfig& a, const TextConfig& t, const std::string& symbols_json) {
  return absl::StrCat("features-v", kVersion, "|sr=", a.sample_rate, "|n_fft=", a.n_fft, "|hop=", a.hop_length,
                      "|win=", a.win_length, "|n_mels=", a.n_mels, "|fmin=", a.fmin, "|fmax=", a.fmax,
                      "|center=", a.center, "|clamp=", a.log_clamp, "|mode=", t.mode, "|lang=", t.language,
                      "|normalize=", t.normalize, "|lower=", t.lowercase, "|blank=", t.add_blank,
                      "|symbols=", Sha256Hex(symbols_json));
}

std::string FeatureCache::Key(const std::string& audio_sha256, const std::string& text) const {
  Sha256 h;
  h.Update(fingerprint_);
  h.Update("\n");
  h.Update(audio_sha256);
  h.Update("\n");
  h.Update(text);
  return h.HexDigest();
}

std::string FeatureCache::PathFor(const std::string& key) const {
  return (std::filesystem::path(dir_) / key.substr(0, 2) / (key + ".feat")).string();
}

std::optional<CachedFeatures> FeatureCache::Load(const std::string& key) const {
  auto f = ReadFeatureFile(PathFor(key));
  if (!f.ok()) return std::nullopt;
  return *std::move(f);
}

absl::Status FeatureCache::Store(const std::string& key, const CachedFeatures& f) const {
  nlohmann::json h = {{"n_mels", f.mel.rows},          {"frames", f.mel.cols},
                      {"n_ids", f.ids.size()},         {"source_sample_rate", f.source_sample_rate},
                      {"source_frames", f.source_frames}, {"peak", f.peak},
                      {"rms_dbfs", f.rms_dbfs},        {"clipped_fraction", f.clipped_fraction},
                      {"text_length", f.text_length}};
  std::string header = h.dump();
  std::string out(kMagic, 8);
  PutU32(&out, kVersion);
  PutU32(&out, static_cast<uint32_t>(header.size()));
  out += header;
  out.append(reinterpret_cast<const char*>(f.mel.data.data()), f.mel.data.size() * sizeof(float));
  out.append(reinterpret_cast<const char*>(f.ids.data()), f.ids.size() * sizeof(int));
  std::string path = PathFor(key);
  TTSD_RETURN_IF_ERROR(EnsureDirectory(std::filesystem::path(path).parent_path().string()));
  return WriteFileAtomic(path, out);
}

absl::StatusOr<CachedFeatures> ReadFeatureFile(const std::string& path) {
  TTSD_ASSIGN_OR_RETURN(std::string bytes, ReadFileToString(path));
  auto bad = [&](const char* why) { return absl::DataLossError(absl::StrCat(path, ": ", why)); };
  if (bytes.size() < 16 || std::memcmp(bytes.data(), kMagic, 8) != 0) return bad("not a feature file");
  uint32_t version, header_len;
  std::memcpy(&version, bytes.data() + 8, 4);
  std::memcpy(&header_len, bytes.data() + 12, 4);
  if (version != kVersion) return bad("feature file version mismatch");
  if (bytes.size() < 16 + static_cast<size_t>(header_len)) return bad("truncated header");
  auto h = nlohmann::json::parse(bytes.substr(16, header_len), nullptr, false);
  if (h.is_discarded() || !h.is_object()) return bad("corrupt header");
  CachedFeatures f;
  try {
    f.mel.rows = h.at("n_mels").get<int64_t>();
    f.mel.cols = h.at("frames").get<int64_t>();
    size_t n_ids = h.at("n_ids").get<size_t>();
    f.source_sample_rate = h.at("source_sample_rate").get<int>();
    f.source_frames = h.at("source_frames").get<int64_t>();
    f.peak = h.at("peak").get<float>();
    f.rms_dbfs = h.at("rms_dbfs").get<double>();
    f.clipped_fraction = h.at("clipped_fraction").get<double>();
    f.text_length = h.at("text_length").get<int>();
    size_t mel_bytes = static_cast<size_t>(f.mel.rows * f.mel.cols) * sizeof(float);
    size_t off = 16 + header_len;
    if (bytes.size() != off + mel_bytes + n_ids * sizeof(int)) return bad("size does not match header");
    f.mel.data.resize(f.mel.rows * f.mel.cols);
    std::memcpy(f.mel.data.data(), bytes.data() + off, mel_bytes);
    f.ids.resize(n_ids);
    std::memcpy(f.ids.data(), bytes.data() + off + mel_bytes, n_ids * sizeof(int));
  } catch (const nlohmann::json::exception&) {
    return bad("corrupt header fields");
  }
  return f;
}

}  // namespace ttsd::core
