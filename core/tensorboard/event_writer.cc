#include "core/tensorboard/event_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "core/common/file_util.h"
#include "core/tensorboard/crc32c.h"
#include "tensorboard/event.pb.h"

namespace ttsd::core::tensorboard {
namespace {

double WallTime() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

void PutLittleEndian(std::string* s, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) s->push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

}  // namespace

std::string FrameRecord(const std::string& data) {
  std::string out;
  out.reserve(data.size() + 16);
  PutLittleEndian(&out, data.size(), 8);
  PutLittleEndian(&out, MaskCrc(Crc32c(out.data(), 8)), 4);
  out += data;
  PutLittleEndian(&out, MaskCrc(Crc32c(data.data(), data.size())), 4);
  return out;
}

absl::StatusOr<std::unique_ptr<EventWriter>> EventWriter::Create(const std::string& dir) {
  if (auto st = EnsureDirectory(dir); !st.ok()) return st;
  char host[256] = "localhost";
  gethostname(host, sizeof(host) - 1);
  const std::string base =
      absl::StrCat(dir, "/events.out.tfevents.", static_cast<int64_t>(WallTime()), ".", host, ".", getpid());
  // A new file for every writer, even two in one second (a stop and a resume in one process): a suffix
  // that sorts after the plain name, which is what TensorBoard reads the files in.
  std::string path = base;
  int fd = -1;
  for (int n = 1; n < 1000; ++n) {
    fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd >= 0 || errno != EEXIST) break;
    path = absl::StrCat(base, ".", n);
  }
  std::FILE* f = fd >= 0 ? fdopen(fd, "wb") : nullptr;
  if (f == nullptr) return absl::InternalError(absl::StrCat("cannot create ", path, ": ", std::strerror(errno)));
  std::unique_ptr<EventWriter> w(new EventWriter(path, f));
  ttsd::tensorboard::Event e;
  e.set_file_version("brain.Event:2");
  if (auto st = w->Write(e, 0); !st.ok()) return st;
  return w;
}

EventWriter::~EventWriter() { std::fclose(file_); }

absl::Status EventWriter::Write(ttsd::tensorboard::Event& e, int64_t step) {
  e.set_wall_time(WallTime());
  e.set_step(step);
  const std::string record = FrameRecord(e.SerializeAsString());
  if (std::fwrite(record.data(), 1, record.size(), file_) != record.size() || std::fflush(file_) != 0) {
    return absl::InternalError(absl::StrCat("cannot write ", path_, ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

absl::Status EventWriter::Scalars(int64_t step, const std::map<std::string, double>& values) {
  ttsd::tensorboard::Event e;
  for (const auto& [tag, v] : values) {
    auto* value = e.mutable_summary()->add_value();
    value->set_tag(tag);
    value->set_simple_value(static_cast<float>(v));
  }
  return Write(e, step);
}

absl::Status EventWriter::Audio(int64_t step, const std::string& tag, const std::string& wav_file_bytes,
                                int sample_rate, int64_t frames) {
  ttsd::tensorboard::Event e;
  auto* value = e.mutable_summary()->add_value();
  value->set_tag(tag);
  auto* audio = value->mutable_audio();
  audio->set_sample_rate(static_cast<float>(sample_rate));
  audio->set_num_channels(1);
  audio->set_length_frames(frames);
  audio->set_encoded_audio_string(wav_file_bytes);
  audio->set_content_type("audio/wav");
  return Write(e, step);
}

absl::Status EventWriter::Image(int64_t step, const std::string& tag, const RgbImage& image) {
  ttsd::tensorboard::Event e;
  auto* value = e.mutable_summary()->add_value();
  value->set_tag(tag);
  auto* img = value->mutable_image();
  img->set_height(image.height);
  img->set_width(image.width);
  img->set_colorspace(3);
  img->set_encoded_image_string(EncodePng(image));
  return Write(e, step);
}

absl::Status EventWriter::SessionStart(int64_t step) {
  ttsd::tensorboard::Event e;
  e.mutable_session_log()->set_status(ttsd::tensorboard::SessionLog::START);
  return Write(e, step);
}

}  // namespace ttsd::core::tensorboard
