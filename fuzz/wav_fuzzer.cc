// The audio reader on arbitrary bytes (a corrupt, truncated or hostile WAV/FLAC/OGG): a clear error or
// audio, never a crash. The reader takes a path, so each input goes through a file in memory (memfd).
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "core/audio/wav.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const int fd = ::memfd_create("wav-fuzz", 0);
  if (fd < 0 || ::ftruncate(fd, 0) != 0 || ::pwrite(fd, data, size, 0) != static_cast<ssize_t>(size)) return 0;
  const std::string path = "/proc/self/fd/" + std::to_string(fd);
  auto info = ttsd::core::ReadAudioInfo(path);
  auto audio = ttsd::core::ReadAudio(path);
  if (audio.ok() && info.ok() && audio->sample_rate != info->sample_rate) __builtin_trap();
  return 0;
}
