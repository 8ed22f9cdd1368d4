#include "core/train/checkpoint.h"

#include <algorithm>
#include <filesystem>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/common/failpoint.h"
#include "core/common/file_util.h"
#include "core/common/sha256.h"
#include "core/common/status.h"

namespace ttsd::core::train {
namespace fs = std::filesystem;

namespace {

// The first optimizer keeps the key checkpoints have always used; a second (VITS's discriminators) is
// "optimizer_1", and so on.
std::string OptimizerKey(size_t i) { return i == 0 ? "optimizer" : "optimizer_" + std::to_string(i); }

std::string CheckpointName(int64_t step) { return absl::StrFormat("ckpt-%09d.pt", step); }

int64_t StepOf(const std::string& name) {
  if (name.rfind("ckpt-", 0) != 0 || name.size() < 9 || name.substr(name.size() - 3) != ".pt") return -1;
  try {
    return std::stoll(name.substr(5, name.size() - 8));
  } catch (...) {
    return -1;
  }
}

void WriteInt(torch::serialize::OutputArchive& a, const std::string& key, int64_t v) { a.write(key, c10::IValue(v)); }
void WriteDouble(torch::serialize::OutputArchive& a, const std::string& key, double v) { a.write(key, c10::IValue(v)); }
void WriteString(torch::serialize::OutputArchive& a, const std::string& key, const std::string& v) {
  a.write(key, c10::IValue(v));
}

void WriteMeta(torch::serialize::OutputArchive& a, const CheckpointMeta& m) {
  WriteInt(a, "format_version", m.format_version);
  WriteInt(a, "step", m.state.step);
  WriteInt(a, "epoch", m.state.position.epoch);
  WriteInt(a, "batch_in_epoch", m.state.position.batch);
  WriteDouble(a, "best_metric", m.state.best_metric);
  WriteInt(a, "best_step", m.state.best_step);
  WriteInt(a, "validations_since_best", m.state.validations_since_best);
  WriteDouble(a, "early_best", m.state.early_best);
  WriteInt(a, "early_stale", m.state.early_stale);
  WriteInt(a, "nonfinite_in_row", m.state.nonfinite_in_row);
  WriteString(a, "config_yaml", m.config_yaml);
  WriteString(a, "symbols_json", m.symbols_json);
  WriteString(a, "speakers_json", m.speakers_json);
  WriteDouble(a, "loss_scale", m.state.loss_scale);
  WriteInt(a, "loss_scale_good_steps", m.state.loss_scale_good_steps);
  WriteString(a, "device", m.device);
  WriteString(a, "parent", m.parent_json);
  // The CPU generator drives dropout and the prior noise: saving it makes a resumed run bit-identical.
  // On CUDA, dropout draws from that device's generator, saved as well.
  a.write("rng_cpu", at::detail::getDefaultCPUGenerator().get_state());
  torch::Device device(m.device);
  if (device.is_cuda()) a.write("rng_cuda", at::globalContext().defaultGenerator(device).get_state());
}

absl::StatusOr<CheckpointMeta> ReadMetaFrom(torch::serialize::InputArchive& a, bool restore_rng,
                                            const torch::Device& restore_rng_device = torch::kCPU) {
  CheckpointMeta m;
  auto get = [&](const char* key) -> c10::IValue {
    c10::IValue out;
    a.read(key, out);
    return out;
  };
  m.format_version = get("format_version").toInt();
  if (m.format_version > kCheckpointFormatVersion) {
    return absl::FailedPreconditionError(absl::StrCat("checkpoint format ", m.format_version,
                                                      " is newer than this ttsd understands (",
                                                      kCheckpointFormatVersion, "); upgrade ttsd"));
  }
  m.state.step = get("step").toInt();
  m.state.position.epoch = get("epoch").toInt();
  m.state.position.batch = get("batch_in_epoch").toInt();
  m.state.best_metric = get("best_metric").toDouble();
  m.state.best_step = get("best_step").toInt();
  m.state.nonfinite_in_row = get("nonfinite_in_row").toInt();
  m.config_yaml = get("config_yaml").toStringRef();
  m.symbols_json = get("symbols_json").toStringRef();
  m.speakers_json = get("speakers_json").toStringRef();
  // Added after format 1 was first written: absent from the oldest checkpoints.
  c10::IValue v;
  if (a.try_read("loss_scale", v)) m.state.loss_scale = v.toDouble();
  if (a.try_read("loss_scale_good_steps", v)) m.state.loss_scale_good_steps = v.toInt();
  if (a.try_read("device", v)) m.device = v.toStringRef();
  if (a.try_read("parent", v)) m.parent_json = v.toStringRef();
  if (a.try_read("validations_since_best", v)) m.state.validations_since_best = v.toInt();
  if (a.try_read("early_best", v)) m.state.early_best = v.toDouble();
  if (a.try_read("early_stale", v)) m.state.early_stale = v.toInt();
  if (restore_rng) {
    torch::Tensor rng;
    a.read("rng_cpu", rng);
    at::Generator gen = at::detail::getDefaultCPUGenerator();
    gen.set_state(rng.cpu());
    torch::Tensor rng_cuda;
    if (restore_rng_device.is_cuda() && a.try_read("rng_cuda", rng_cuda)) {
      at::Generator cuda_gen = at::globalContext().defaultGenerator(restore_rng_device);
      cuda_gen.set_state(rng_cuda.cpu());
    }
  }
  return m;
}

}  // namespace

absl::Status VerifyCheckpoint(const std::string& path) {
  auto want = ReadFileToString(path + ".sha256");
  if (!want.ok()) {
    return absl::DataLossError(absl::StrCat(path, ": no .sha256 beside it (an interrupted save); not trusted"));
  }
  TTSD_ASSIGN_OR_RETURN(std::string got, Sha256File(path));
  std::string expected = want->substr(0, 64);
  if (got != expected) {
    return absl::DataLossError(absl::StrCat(path, ": sha256 mismatch (file ", got.substr(0, 12), "..., recorded ",
                                            expected.substr(0, 12), "...): the file is corrupt"));
  }
  return absl::OkStatus();
}

namespace {

absl::StatusOr<std::string> Serialize(const torch::nn::Module& model, const std::vector<torch::optim::Optimizer*>& optimizers,
                                      const CheckpointMeta& meta) {
  std::ostringstream bytes;
  try {
    torch::serialize::OutputArchive archive;
    torch::serialize::OutputArchive model_archive;
    model.save(model_archive);
    archive.write("model", model_archive);
    for (size_t i = 0; i < optimizers.size(); ++i) {
      torch::serialize::OutputArchive optim_archive;
      optimizers[i]->save(optim_archive);
      archive.write(OptimizerKey(i), optim_archive);
    }
    WriteMeta(archive, meta);
    archive.save_to(bytes);
  } catch (const c10::Error& e) {
    return absl::InternalError(absl::StrCat("cannot serialise checkpoint: ", e.what_without_backtrace()));
  }
  return bytes.str();
}

// The file, then its sidecar: a file without a sidecar is never trusted, so a crash between the two
// leaves nothing that a later run would read.
absl::StatusOr<CheckpointInfo> WriteWithSidecar(const std::string& path, const std::string& data, int64_t step) {
  CheckpointInfo info;
  info.step = step;
  info.path = path;
  info.sha256 = Sha256Hex(data);
  info.bytes = static_cast<int64_t>(data.size());
  const std::string name = fs::path(path).filename().string();
  TTSD_RETURN_IF_ERROR(WriteFileAtomic(info.path, data));
  Failpoint("checkpoint-before-sidecar", name);  // a complete file, not yet trusted
  TTSD_RETURN_IF_ERROR(WriteFileAtomic(info.path + ".sha256", absl::StrCat(info.sha256, "  ", name, "\n")));
  return info;
}

}  // namespace

absl::StatusOr<CheckpointInfo> SaveCheckpointFile(const std::string& path, const torch::nn::Module& model,
                                                  const CheckpointMeta& meta) {
  const auto dir = fs::path(path).parent_path();
  if (!dir.empty()) TTSD_RETURN_IF_ERROR(EnsureDirectory(dir.string()));
  TTSD_ASSIGN_OR_RETURN(std::string data, Serialize(model, {}, meta));
  return WriteWithSidecar(path, data, meta.state.step);
}

absl::StatusOr<CheckpointInfo> Checkpointer::Save(const torch::nn::Module& model,
                                                  const std::vector<torch::optim::Optimizer*>& optimizers,
                                                  const CheckpointMeta& meta, bool is_best) {
  TTSD_RETURN_IF_ERROR(EnsureDirectory(dir_));
  TTSD_ASSIGN_OR_RETURN(std::string data, Serialize(model, optimizers, meta));
  TTSD_ASSIGN_OR_RETURN(CheckpointInfo info,
                        WriteWithSidecar((fs::path(dir_) / CheckpointName(meta.state.step)).string(), data, meta.state.step));
  info.is_best = is_best;
  TTSD_RETURN_IF_ERROR(WriteFileAtomic((fs::path(dir_) / "latest").string(), CheckpointName(info.step) + "\n"));
  if (is_best) {
    TTSD_RETURN_IF_ERROR(WriteFileAtomic((fs::path(dir_) / "best").string(), CheckpointName(info.step) + "\n"));
  }
  TTSD_RETURN_IF_ERROR(ApplyRetention());
  return info;
}

std::string Checkpointer::ReadPointer(const std::string& name) const {
  auto s = ReadFileToString((fs::path(dir_) / name).string());
  if (!s.ok()) return "";
  std::string v = *s;
  while (!v.empty() && (v.back() == '\n' || v.back() == ' ')) v.pop_back();
  return v;
}

std::string Checkpointer::PointerPath(const std::string& pointer) const {
  const std::string name = ReadPointer(pointer);
  return name.empty() ? "" : (fs::path(dir_) / name).string();
}

std::string Checkpointer::PathForStep(int64_t step) const { return (fs::path(dir_) / CheckpointName(step)).string(); }

absl::Status Checkpointer::ApplyRetention() {
  std::vector<std::string> all = List();
  const std::string latest = ReadPointer("latest"), best = ReadPointer("best");
  for (size_t i = static_cast<size_t>(config_.keep_last); i < all.size(); ++i) {
    std::string name = fs::path(all[i]).filename().string();
    if (name == latest || name == best) continue;
    std::error_code ec;
    fs::remove(all[i] + ".sha256", ec);
    fs::remove(all[i], ec);
  }
  return absl::OkStatus();
}

std::vector<std::string> Checkpointer::List() const {
  std::vector<std::pair<int64_t, std::string>> found;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir_, ec)) {
    int64_t step = StepOf(entry.path().filename().string());
    if (step >= 0) found.emplace_back(step, entry.path().string());
  }
  std::sort(found.rbegin(), found.rend());
  std::vector<std::string> out;
  for (auto& f : found) out.push_back(f.second);
  return out;
}

absl::StatusOr<std::string> Checkpointer::NewestValid(const std::function<void(const std::string&)>& warn) const {
  for (const auto& path : List()) {
    auto st = VerifyCheckpoint(path);
    if (st.ok()) return path;
    warn(std::string(st.message()));
  }
  return absl::NotFoundError(absl::StrCat("no usable checkpoint in ", dir_));
}

int Checkpointer::RemovePartialWrites() const {
  int removed = 0;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir_, ec)) {
    // WriteFileAtomic's temp files: <name>.tmp.<pid>.<n>
    if (entry.path().filename().string().find(".tmp.") == std::string::npos) continue;
    std::error_code rm;
    if (fs::remove(entry.path(), rm)) ++removed;
  }
  return removed;
}

absl::Status Checkpointer::Load(const std::string& path, torch::nn::Module& model,
                                const std::vector<torch::optim::Optimizer*>& optimizers, CheckpointMeta* meta,
                                const torch::Device& device) {
  TTSD_RETURN_IF_ERROR(VerifyCheckpoint(path));
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(path, device);
    torch::serialize::InputArchive model_archive;
    archive.read("model", model_archive);
    model.load(model_archive);
    for (size_t i = 0; i < optimizers.size(); ++i) {
      torch::serialize::InputArchive optim_archive;
      archive.read(OptimizerKey(i), optim_archive);
      optimizers[i]->load(optim_archive);
    }
    TTSD_ASSIGN_OR_RETURN(*meta, ReadMetaFrom(archive, /*restore_rng=*/!optimizers.empty(), device));
  } catch (const c10::Error& e) {
    return absl::DataLossError(absl::StrCat(path, ": cannot load (", e.what_without_backtrace(),
                                            "); was it written for a different model size?"));
  }
  return absl::OkStatus();
}

absl::StatusOr<CheckpointMeta> Checkpointer::ReadMeta(const std::string& path) {
  TTSD_RETURN_IF_ERROR(VerifyCheckpoint(path));
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(path, torch::Device(torch::kCPU));
    return ReadMetaFrom(archive, /*restore_rng=*/false);
  } catch (const c10::Error& e) {
    return absl::DataLossError(absl::StrCat(path, ": cannot read (", e.what_without_backtrace(), ")"));
  }
}

}  // namespace ttsd::core::train
