#include "core/train/vits_step.h"

#include <cmath>
#include <limits>

#include "core/train/gradients.h"

namespace ttsd::core::train {
namespace {

double ClipNorm(const std::vector<torch::Tensor>& params, double clip) {
  double max_norm = clip > 0 ? clip : std::numeric_limits<double>::infinity();
  return torch::nn::utils::clip_grad_norm_(params, max_norm);
}

std::vector<torch::Tensor> Trainable(const std::vector<torch::Tensor>& params) {
  std::vector<torch::Tensor> out;
  for (const auto& p : params) {
    if (p.requires_grad()) out.push_back(p);
  }
  return out;
}

}  // namespace

VitsStepper::VitsStepper(models::Vits& model, torch::optim::Optimizer& gen_opt, torch::optim::Optimizer& disc_opt,
                         const TrainConfig& config)
    : gen_(model), disc_(model->discriminator), gen_opt_(gen_opt), disc_opt_(disc_opt), cfg_(config), spectra_(config.audio) {}

std::pair<models::VitsForward, torch::Tensor> VitsStepper::Forward(const VitsBatch& b) {
  const int64_t hop = cfg_.audio.hop_length;
  auto spec = spectra_.Linear(b.wave);
  auto spec_lengths = torch::div(b.wave_lengths, hop, "floor");
  auto out = gen_->forward(b.ids, b.id_lengths, spec, spec_lengths, b.speakers);
  auto real = models::SliceSegments(b.wave, out.segment_starts * hop, cfg_.model.vits.segment_size);
  return {out, real};
}

std::map<std::string, double> VitsStepper::EvalLosses(const VitsBatch& b) {
  torch::NoGradGuard no_grad;
  gen_->eval();
  auto [out, real] = Forward(b);
  const auto& v = cfg_.model.vits;
  const double mel = (torch::l1_loss(spectra_.LogMel(out.audio), spectra_.LogMel(real)) * v.mel_loss_weight).item<double>();
  const double kl = (models::VitsKlLoss(out) * v.kl_loss_weight).item<double>();
  const double duration = out.duration_loss.item<double>();
  gen_->train();
  return {{"val/loss", mel + kl + duration}, {"val/mel_loss", mel}, {"val/kl_loss", kl}, {"val/duration_loss", duration}};
}

VitsStepResult VitsStepper::Step(const VitsBatch& b) {
  const auto& v = cfg_.model.vits;
  gen_->train();
  auto [out, real] = Forward(b);

  VitsStepResult r;
  // Discriminators first: real windows against the generator's, detached (no generator gradient).
  auto d = models::LeastSquaresDiscriminatorLoss(disc_->forward(real), disc_->forward(out.audio.detach()));
  ClearGradients(disc_opt_);
  d.total.backward();
  const double disc_norm = ClipNorm(Trainable(gen_->DiscriminatorParameters()), cfg_.training.grad_clip);
  const double disc_loss = d.total.item<double>();
  r.values = {{"train/disc_loss", disc_loss}, {"grad_norm_disc", disc_norm}};
  for (size_t i = 0; i < d.per_discriminator.size(); ++i) {
    r.values[i == 0 ? "train/disc_loss_scale" : "train/disc_loss_period_" + std::to_string(v.discriminator_periods[i - 1])] =
        d.per_discriminator[i];
  }
  if (!std::isfinite(disc_loss) || !std::isfinite(disc_norm)) {
    ClearGradients(disc_opt_);
    r.finite = false;
    return r;
  }
  disc_opt_.step();

  // Then the generator, judged by the updated discriminators: reconstruction, prior and adversarial terms.
  auto mel_loss = torch::l1_loss(spectra_.LogMel(out.audio), spectra_.LogMel(real)) * v.mel_loss_weight;
  auto kl_loss = models::VitsKlLoss(out) * v.kl_loss_weight;
  std::vector<models::Judgement> judged_real;
  {
    torch::NoGradGuard no_grad;  // real features are targets only
    judged_real = disc_->forward(real);
  }
  auto judged_fake = disc_->forward(out.audio);
  auto gen_loss = models::LeastSquaresGeneratorLoss(judged_fake);
  auto fm_loss = models::FeatureMatchingLoss(judged_real, judged_fake);
  auto total = mel_loss + kl_loss + out.duration_loss + gen_loss + fm_loss;
  ClearGradients(gen_opt_);
  total.backward();
  ClearGradients(disc_opt_);  // what the generator's loss left on the discriminators is not theirs to use
  const double gen_norm = ClipNorm(Trainable(gen_->GeneratorParameters()), cfg_.training.grad_clip);
  r.values.insert({{"train/loss", total.item<double>()},
                   {"train/mel_loss", mel_loss.item<double>()},
                   {"train/kl_loss", kl_loss.item<double>()},
                   {"train/duration_loss", out.duration_loss.item<double>()},
                   {"train/gen_loss", gen_loss.item<double>()},
                   {"train/fm_loss", fm_loss.item<double>()},
                   {"grad_norm", gen_norm}});
  if (!std::isfinite(r.values["train/loss"]) || !std::isfinite(gen_norm)) {
    ClearGradients(gen_opt_);
    r.finite = false;
    return r;
  }
  gen_opt_.step();
  return r;
}

}  // namespace ttsd::core::train
