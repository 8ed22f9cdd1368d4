// TensorBoard event files: one file per run attempt under <run>/events/, named
// events.out.tfevents.<unix seconds>.<host>.<pid> as TensorBoard expects. Each record is TFRecord
// framed (little-endian u64 length, masked CRC-32C of the length, the serialised Event, masked CRC-32C
// of it) and flushed at once, so TensorBoard shows a running job live and a crash loses at most the
// record being written (a reader skips a truncated tail).
#pragma once

#include <cstdio>
#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "core/tensorboard/png.h"

namespace ttsd::tensorboard {
class Event;
}

namespace ttsd::core::tensorboard {

// The TFRecord frame around one record's bytes.
std::string FrameRecord(const std::string& data);

class EventWriter {
 public:
  // Creates the folder and a new file in it, starting with the file_version record.
  static absl::StatusOr<std::unique_ptr<EventWriter>> Create(const std::string& dir);
  ~EventWriter();

  absl::Status Scalars(int64_t step, const std::map<std::string, double>& values);
  absl::Status Audio(int64_t step, const std::string& tag, const std::string& wav_file_bytes, int sample_rate,
                     int64_t frames);
  absl::Status Image(int64_t step, const std::string& tag, const RgbImage& image);
  // A resumed run: TensorBoard discards the points earlier attempts logged at or after `step`, so the
  // curves continue instead of doubling back.
  absl::Status SessionStart(int64_t step);

  const std::string& path() const { return path_; }

 private:
  EventWriter(std::string path, std::FILE* f) : path_(std::move(path)), file_(f) {}
  absl::Status Write(ttsd::tensorboard::Event& e, int64_t step);

  std::string path_;
  std::FILE* file_;
};

}  // namespace ttsd::core::tensorboard
