// The three manifest readers (ljspeech, multispeaker, jsonl) on arbitrary text: problems per line,
// never a crash. The first byte picks the format; the rest is the manifest file.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "core/data/manifest.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static const std::string dir = [] {
    std::string d = std::filesystem::temp_directory_path() / ("manifest-fuzz-" + std::to_string(::getpid()));
    std::filesystem::create_directories(d + "/wavs");
    return d;
  }();
  static const char* kFormats[] = {"ljspeech", "multispeaker", "jsonl"};
  ttsd::core::DataConfig config;
  config.format = kFormats[data[0] % 3];
  config.path = dir;
  {
    std::ofstream out(ttsd::core::ManifestPath(config), std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data + 1), static_cast<std::streamsize>(size - 1));
  }
  auto manifest = ttsd::core::ReadManifest(config);
  if (manifest.ok()) {
    for (const auto& u : manifest->utterances) {
      if (u.audio_path.empty() || u.where.empty()) std::abort();
    }
  }
  return 0;
}
