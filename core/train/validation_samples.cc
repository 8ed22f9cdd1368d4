#include "core/train/validation_samples.h"

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "core/audio/griffin_lim.h"
#include "core/audio/mel_torch.h"
#include "core/audio/wav.h"
#include "core/common/file_util.h"
#include "core/data/feature_cache.h"

namespace ttsd::core::train {
namespace {

// Saves the CPU (and the device's) generator on construction and puts it back on destruction.
class GeneratorGuard {
 public:
  explicit GeneratorGuard(const torch::Device& device) : device_(device) {
    cpu_ = at::detail::getDefaultCPUGenerator().get_state();
    if (device_.is_cuda()) cuda_ = at::globalContext().defaultGenerator(device_).get_state();
  }
  ~GeneratorGuard() {
    at::Generator cpu = at::detail::getDefaultCPUGenerator();  // a handle to the global generator
    cpu.set_state(cpu_);
    if (device_.is_cuda()) {
      at::Generator cuda = at::globalContext().defaultGenerator(device_);
      cuda.set_state(cuda_);
    }
  }

 private:
  torch::Device device_;
  torch::Tensor cpu_, cuda_;
};

// TensorBoard figures for one held-out utterance: the predicted mel over the recorded one, and the
// alignment the model finds between its symbols and the recorded frames.
void WriteFigures(models::GlowTts& model, const torch::Device& device, int64_t step,
                  const std::string& id, const torch::Tensor& ids, const torch::Tensor& lengths,
                  const torch::Tensor& speakers, const FloatMatrix& target, const FloatMatrix& predicted,
                  EventSink* sink) {
  sink->OnFigure({step, absl::StrCat("mel/", id), {predicted, target}});
  auto mels = ToTensor(target).unsqueeze(0).to(device);
  auto mel_lengths = torch::tensor({target.cols}, torch::kInt64).to(device);
  auto out = model->forward(ids, lengths, mels, mel_lengths, speakers);
  sink->OnFigure({step, absl::StrCat("alignment/", id), {FromTensor(out.alignment[0].to(torch::kCPU, torch::kFloat32))}});
}

}  // namespace

void WriteValidationSamples(models::GlowTts& model, const PreparedDataset& ds, const TrainConfig& cfg,
                            const torch::Device& device, int64_t step, const std::string& run_dir, EventSink* sink) {
  const size_t n = std::min<size_t>(static_cast<size_t>(cfg.validation.samples), ds.validation.size());
  if (n == 0) return;
  GeneratorGuard generators(device);
  torch::NoGradGuard no_grad;
  model->eval();
  const std::string dir = absl::StrCat(run_dir, "/samples/step_", step);
  if (auto st = EnsureDirectory(dir); !st.ok()) {
    sink->OnLog(absl::StrCat("warning: no validation audio: ", st.message()));
    return;
  }
  for (size_t i = 0; i < n; ++i) {
    const PreparedUtterance& u = ds.utterances[ds.validation[i]];
    auto features = ReadFeatureFile(u.feature_path);
    if (!features.ok()) {
      sink->OnLog(absl::StrCat("warning: no validation audio for ", u.utt.id, ": ", features.status().message()));
      continue;
    }
    torch::manual_seed(cfg.seed + i);  // the same noise at every validation: changes are the model's
    std::vector<int64_t> ids(features->ids.begin(), features->ids.end());
    auto id_tensor = torch::tensor(ids, torch::kInt64).unsqueeze(0).to(device);
    auto lengths = torch::tensor({static_cast<int64_t>(ids.size())}, torch::kInt64).to(device);
    auto speakers = torch::tensor({static_cast<int64_t>(u.speaker_id)}, torch::kInt64).to(device);
    auto [mel, mel_lengths] = model->Infer(id_tensor, lengths, speakers, cfg.model.noise_scale, cfg.model.length_scale);
    const int64_t frames = mel_lengths[0].item<int64_t>();
    if (frames < 2) {
      sink->OnLog(absl::StrCat("validation audio for ", u.utt.id, " skipped: the model predicted ", frames, " frames"));
      continue;
    }
    FloatMatrix m = FromTensor(mel[0].narrow(1, 0, frames).to(torch::kCPU, torch::kFloat32));
    if (i == 0) WriteFigures(model, device, step, u.utt.id, id_tensor, lengths, speakers, features->mel, m, sink);
    std::vector<float> wave = GriffinLim(m, cfg.audio, cfg.audio.griffin_lim_iters, cfg.seed);
    SampleEvent e;
    e.step = step;
    e.tag = u.utt.id;
    e.path = absl::StrCat(dir, "/", u.utt.id, ".wav");
    e.sample_rate = cfg.audio.sample_rate;
    e.duration_seconds = static_cast<double>(wave.size()) / cfg.audio.sample_rate;
    e.text = u.utt.text;
    if (auto st = WriteWav16(e.path, wave, cfg.audio.sample_rate); !st.ok()) {
      sink->OnLog(absl::StrCat("warning: validation audio: ", st.message()));
      continue;
    }
    sink->OnSample(e);
  }
  model->train();
}

}  // namespace ttsd::core::train
