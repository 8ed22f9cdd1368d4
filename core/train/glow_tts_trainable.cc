// Glow-TTS under the run loop: one Adam(W) optimizer, MLE + duration loss, fp16 loss scaling, and
// validation speech through Griffin-Lim (the model predicts mels, not audio).
#include <cmath>
#include <limits>

#include "core/audio/griffin_lim.h"
#include "core/audio/mel.h"
#include "core/audio/mel_torch.h"
#include "core/models/glow_tts/glow_tts.h"
#include "core/train/gradients.h"
#include "core/train/trainable_model.h"

namespace ttsd::core::train {
namespace {

class GlowTtsTrainable : public TrainableModel {
 public:
  GlowTtsTrainable(const TrainConfig& cfg, int64_t n_symbols, int64_t n_speakers, const torch::Device& device)
      : cfg_(cfg), device_(device), model_(cfg.model, n_symbols, cfg.audio.n_mels, n_speakers) {
    model_->to(device);
  }

  torch::nn::Module& module() override { return *model_; }
  void CreateOptimizers() override { optimizer_ = MakeOptimizer(model_->parameters(), cfg_.training); }
  std::vector<torch::optim::Optimizer*> optimizers() override { return {optimizer_.get()}; }
  bool needs_waveforms() const override { return false; }

  StepOutput Step(const Batch& batch, double lr, LossScaler& scaler) override {
    model_->train();
    auto l = Losses(batch);
    // Under data parallelism each term counts by this rank's share of the global batch's mel values and
    // symbols: the averaged gradient (and the averaged logged values) are then the whole batch's.
    torch::Tensor shares = RankShares(torch::stack({l.frames, l.symbols}));
    l.mle = l.mle * shares[0].item<double>();
    l.duration = l.duration * shares[1].item<double>();
    ClearGradients(*optimizer_);
    scaler.Scale(l.mle + l.duration).backward();
    SyncGradients(0);
    scaler.Unscale(model_->parameters());
    double max_norm = cfg_.training.grad_clip > 0 ? cfg_.training.grad_clip : std::numeric_limits<double>::infinity();
    const double grad_norm = torch::nn::utils::clip_grad_norm_(model_->parameters(), max_norm);
    const double mle = l.mle.item<double>(), duration = l.duration.item<double>();
    StepOutput r;
    r.values = {{"train/loss", mle + duration}, {"train/mle", mle}, {"train/duration", duration}, {"grad_norm", grad_norm}};
    const bool loss_finite = AllRanks(std::isfinite(mle + duration)), grads_finite = std::isfinite(grad_norm);
    scaler.Update(grads_finite);
    if (loss_finite && grads_finite) {
      SetLearningRate(*optimizer_, lr);
      optimizer_->step();
    } else {
      ClearGradients(*optimizer_);  // skip the update; the bad batch leaves no trace
      r.outcome = loss_finite && scaler.enabled ? StepOutcome::kOverflow : StepOutcome::kNonFinite;
    }
    return r;
  }

  std::map<std::string, double> EvalLosses(const Batch& batch) override {
    torch::NoGradGuard no_grad;
    model_->eval();
    auto l = Losses(batch);
    const double mle = l.mle.item<double>(), duration = l.duration.item<double>();
    return {{"val/loss", mle + duration}, {"val/mle", mle}, {"val/duration", duration}};
  }

  Spoken Speak(const std::vector<int64_t>& ids, int64_t speaker) override {
    torch::NoGradGuard no_grad;
    model_->eval();
    OneUtterance in(ids, speaker, device_);
    auto [mel, mel_lengths] = model_->Infer(in.ids, in.lengths, in.speakers, cfg_.model.noise_scale, cfg_.model.length_scale);
    const int64_t frames = mel_lengths[0].item<int64_t>();
    if (frames < 2) return {};
    Spoken out;
    out.mel = FromTensor(mel[0].narrow(1, 0, frames).to(torch::kCPU, torch::kFloat32));
    out.wave = GriffinLim(out.mel, cfg_.audio, cfg_.audio.griffin_lim_iters, cfg_.seed);
    return out;
  }

  std::vector<float> Resynthesize(const std::vector<float>& wave, int64_t) override {
    return GriffinLim(MelExtractor(cfg_.audio).Compute(wave), cfg_.audio, cfg_.audio.griffin_lim_iters, cfg_.seed);
  }

  FloatMatrix Alignment(const std::vector<int64_t>& ids, int64_t speaker, const PreparedUtterance&,
                        const FloatMatrix& mel) override {
    torch::NoGradGuard no_grad;
    model_->eval();
    auto mels = ToTensor(mel).unsqueeze(0).to(device_);
    auto mel_lengths = torch::tensor({mel.cols}, torch::kInt64).to(device_);
    OneUtterance in(ids, speaker, device_);
    auto out = model_->forward(in.ids, in.lengths, mels, mel_lengths, in.speakers);
    return FromTensor(out.alignment[0].to(torch::kCPU, torch::kFloat32));
  }

 private:
  // The batch through the model (under autocast for bf16 / fp16) and its losses.
  models::GlowTtsLosses Losses(const Batch& batch) {
    Batch b = OnDevice(batch, device_);
    models::GlowTtsForward out;
    {
      AutocastScope autocast(device_, cfg_.training.precision);
      out = model_->forward(b.ids, b.id_lengths, b.mels, b.mel_lengths, b.speakers);
    }
    return model_->Losses(out);
  }

  const TrainConfig& cfg_;
  torch::Device device_;
  models::GlowTts model_;
  std::unique_ptr<torch::optim::Optimizer> optimizer_;
};

}  // namespace

std::unique_ptr<TrainableModel> MakeGlowTtsTrainable(const TrainConfig& cfg, int64_t n_symbols, int64_t n_speakers,
                                                     const torch::Device& device) {
  return std::make_unique<GlowTtsTrainable>(cfg, n_symbols, n_speakers, device);
}

}  // namespace ttsd::core::train
