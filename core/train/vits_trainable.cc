// VITS under the run loop: two optimizers (generator, discriminators) stepped by VitsStepper as one
// step, batches with waveforms, and validation speech straight from the generator.
#include "absl/strings/str_cat.h"
#include "core/audio/mel.h"
#include "core/audio/mel_torch.h"
#include "core/models/vits/vits.h"
#include "core/train/gradients.h"
#include "core/train/trainable_model.h"
#include "core/train/vits_step.h"

namespace ttsd::core::train {
namespace {

VitsBatch ToVitsBatch(const Batch& b, const torch::Device& device) {
  VitsBatch v;
  v.ids = b.ids.to(device);
  v.id_lengths = b.id_lengths.to(device);
  v.wave = b.wave.to(device);
  v.wave_lengths = b.wave_lengths.to(device);
  v.speakers = b.speakers.to(device);
  return v;
}

class VitsTrainable : public TrainableModel {
 public:
  VitsTrainable(const TrainConfig& cfg, int64_t n_symbols, int64_t n_speakers, const torch::Device& device)
      : cfg_(cfg), device_(device), model_(cfg.model, cfg.audio, n_symbols, n_speakers), mel_(cfg.audio) {
    model_->to(device);
  }

  torch::nn::Module& module() override { return *model_; }
  void CreateOptimizers() override {
    gen_opt_ = MakeOptimizer(RequiringGrad(model_->GeneratorParameters()), cfg_.training);
    disc_opt_ = MakeOptimizer(RequiringGrad(model_->DiscriminatorParameters()), cfg_.training);
    stepper_ = std::make_unique<VitsStepper>(model_, *gen_opt_, *disc_opt_, cfg_);
    VitsDataParallel dp;
    dp.sync = [this](int network) { SyncGradients(network); };  // optimizers(): generator 0, discriminators 1
    dp.shares = [this](const torch::Tensor& counts) { return RankShares(counts); };
    dp.all_ranks = [this](bool ok) { return AllRanks(ok); };
    stepper_->set_data_parallel(std::move(dp));
  }
  std::vector<torch::optim::Optimizer*> optimizers() override { return {gen_opt_.get(), disc_opt_.get()}; }
  std::vector<std::string> TrainingNotes() const override {
    if (!stepper_ || !stepper_->text_side_only()) return {};
    return {"everything the generated audio depends on (posterior encoder, generator, speaker embedding) is frozen: "
            "steps train the text side (text encoder, flow, duration predictor) on the KL and duration terms alone; "
            "the generator and the discriminators are not run, so the discriminators do not train either"};
  }
  bool needs_waveforms() const override { return true; }

  StepOutput Step(const Batch& batch, double lr, LossScaler&) override {
    SetLearningRate(*gen_opt_, lr);
    SetLearningRate(*disc_opt_, lr);
    auto r = stepper_->Step(ToVitsBatch(batch, device_));
    StepOutput out;
    out.values = std::move(r.values);
    if (!r.finite) out.outcome = StepOutcome::kNonFinite;
    return out;
  }

  std::map<std::string, double> EvalLosses(const Batch& batch) override {
    return stepper_->EvalLosses(ToVitsBatch(batch, device_));
  }

  Spoken Speak(const std::vector<int64_t>& ids, int64_t speaker) override {
    torch::NoGradGuard no_grad;
    model_->eval();
    const auto& m = cfg_.model;
    OneUtterance in(ids, speaker, device_);
    // At most twice the longest utterance the data allows: an early model's durations can be absurd.
    const auto max_frames = static_cast<int64_t>(2 * cfg_.data.max_audio_seconds * cfg_.audio.sample_rate / cfg_.audio.hop_length);
    auto [audio, lengths] = model_->Infer(in.ids, in.lengths, in.speakers, m.noise_scale, m.length_scale, m.vits.noise_scale_w,
                                          max_frames);
    model_->train();
    const int64_t n = lengths[0].item<int64_t>();
    if (n < 2 * cfg_.audio.hop_length) return {};
    Spoken out;
    auto wave = audio[0][0].narrow(0, 0, n).to(torch::kCPU, torch::kFloat32).contiguous();
    out.wave.assign(wave.data_ptr<float>(), wave.data_ptr<float>() + n);
    out.mel = mel_.Compute(out.wave);  // measured like the recordings' features, for val/mcd
    return out;
  }

  std::vector<float> Resynthesize(const std::vector<float>& wave, int64_t speaker) override {
    model_->eval();
    const int64_t n = static_cast<int64_t>(wave.size());
    auto w = torch::from_blob(const_cast<float*>(wave.data()), {1, 1, n}, torch::kFloat32).to(device_);
    auto audio = model_->Resynthesize(w, torch::tensor({speaker}, torch::kInt64).to(device_));
    model_->train();
    auto samples = audio[0][0].to(torch::kCPU, torch::kFloat32).contiguous();
    return std::vector<float>(samples.data_ptr<float>(), samples.data_ptr<float>() + samples.numel());
  }

  FloatMatrix Alignment(const std::vector<int64_t>& ids, int64_t speaker, const PreparedUtterance& u,
                        const FloatMatrix&) override {
    auto wave = LoadWave(u, cfg_.audio);
    if (!wave.ok() || wave->empty()) return {};
    torch::NoGradGuard no_grad;
    model_->eval();
    const int64_t n = static_cast<int64_t>(wave->size());
    auto w = torch::from_blob(wave->data(), {1, 1, n}, torch::kFloat32).to(device_);
    models::VitsSpectra spectra(cfg_.audio);
    auto spec = spectra.Linear(w);
    auto frames = torch::tensor({spec.size(2)}, torch::kInt64).to(device_);
    if (spec.size(2) < static_cast<int64_t>(ids.size())) return {};  // too short to give every symbol a frame
    OneUtterance in(ids, speaker, device_);
    auto out = model_->forward(in.ids, in.lengths, spec, frames, in.speakers);
    model_->train();
    return FromTensor(out.alignment[0].to(torch::kCPU, torch::kFloat32));
  }

 private:
  const TrainConfig& cfg_;
  torch::Device device_;
  models::Vits model_;
  MelExtractor mel_;
  std::unique_ptr<torch::optim::Optimizer> gen_opt_, disc_opt_;
  std::unique_ptr<VitsStepper> stepper_;
};

}  // namespace

std::unique_ptr<TrainableModel> MakeVitsTrainable(const TrainConfig& cfg, int64_t n_symbols, int64_t n_speakers,
                                                  const torch::Device& device) {
  return std::make_unique<VitsTrainable>(cfg, n_symbols, n_speakers, device);
}

}  // namespace ttsd::core::train
