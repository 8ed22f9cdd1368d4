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

// The discriminators' weights take no gradient from what is built while this lives: the generator's
// loss runs through them, but its gradient on them would be thrown away, so it is not computed; under
// data parallelism this also keeps the generator's backward pass off the discriminators' buckets.
class NoWeightGradients {
 public:
  explicit NoWeightGradients(std::vector<torch::Tensor> params) : params_(std::move(params)) {
    for (auto& p : params_) {
      flags_.push_back(p.requires_grad());
      p.requires_grad_(false);
    }
  }
  ~NoWeightGradients() {
    for (size_t i = 0; i < params_.size(); ++i) params_[i].requires_grad_(flags_[i]);
  }

 private:
  std::vector<torch::Tensor> params_;
  std::vector<bool> flags_;
};

}  // namespace

VitsStepper::VitsStepper(models::Vits& model, torch::optim::Optimizer& gen_opt, torch::optim::Optimizer& disc_opt,
                         const TrainConfig& config)
    : gen_(model),
      disc_(model->discriminator),
      gen_opt_(gen_opt),
      disc_opt_(disc_opt),
      cfg_(config),
      spectra_(config.audio),
      text_side_only_(!model->AudioPathTrains()) {}

std::pair<models::VitsForward, torch::Tensor> VitsStepper::Forward(const VitsBatch& b, bool decode) {
  const int64_t hop = cfg_.audio.hop_length;
  auto spec = spectra_.Linear(b.wave);
  auto spec_lengths = torch::div(b.wave_lengths, hop, "floor");
  auto out = gen_->forward(b.ids, b.id_lengths, spec, spec_lengths, b.speakers, decode);
  if (!decode) return {out, torch::Tensor()};
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
  auto [out, real] = Forward(b, /*decode=*/!text_side_only_);

  // This rank's shares of the global batch's utterances, spectrogram frames and symbols (1 alone).
  torch::Tensor counts = torch::stack({torch::tensor(static_cast<double>(b.ids.size(0)), torch::kFloat64),
                                       torch::div(b.wave_lengths, cfg_.audio.hop_length, "floor").sum().to(torch::kCPU, torch::kFloat64),
                                       b.id_lengths.sum().to(torch::kCPU, torch::kFloat64)});
  torch::Tensor share = dp_.shares ? dp_.shares(counts) : torch::ones({3}, torch::kFloat64);
  const double items = share[0].item<double>(), frames = share[1].item<double>(), symbols = share[2].item<double>();
  auto all_ranks = [this](bool ok) { return dp_.all_ranks ? dp_.all_ranks(ok) : ok; };

  VitsStepResult r;
  if (!text_side_only_) {
    // Discriminators first: real windows against the generator's, detached (no generator gradient).
    auto d = models::LeastSquaresDiscriminatorLoss(disc_->forward(real), disc_->forward(out.audio.detach()));
    ClearGradients(disc_opt_);
    (d.total * items).backward();
    if (dp_.sync) dp_.sync(1);
    const double disc_norm = ClipNorm(RequiringGrad(gen_->DiscriminatorParameters()), cfg_.training.grad_clip);
    const double disc_loss = d.total.item<double>() * items;
    r.values = {{"train/disc_loss", disc_loss}, {"grad_norm_disc", disc_norm}};
    for (size_t i = 0; i < d.per_discriminator.size(); ++i) {
      r.values[i == 0 ? "train/disc_loss_scale" : "train/disc_loss_period_" + std::to_string(v.discriminator_periods[i - 1])] =
          d.per_discriminator[i] * items;
    }
    if (!all_ranks(std::isfinite(disc_loss) && std::isfinite(disc_norm))) {
      ClearGradients(disc_opt_);
      r.finite = false;
      return r;
    }
    disc_opt_.step();
  }

  // Then the generator side: prior and duration terms, and (judged by the updated discriminators)
  // reconstruction and adversarial ones.
  auto kl_loss = models::VitsKlLoss(out) * (v.kl_loss_weight * frames);
  auto duration_loss = out.duration_loss * symbols;
  auto total = kl_loss + duration_loss;
  r.values.insert({{"train/kl_loss", kl_loss.item<double>()}, {"train/duration_loss", duration_loss.item<double>()}});
  if (!text_side_only_) {
    auto mel_loss = torch::l1_loss(spectra_.LogMel(out.audio), spectra_.LogMel(real)) * (v.mel_loss_weight * items);
    std::vector<models::Judgement> judged_real;
    {
      torch::NoGradGuard no_grad;  // real features are targets only
      judged_real = disc_->forward(real);
    }
    NoWeightGradients frozen(gen_->DiscriminatorParameters());
    auto judged_fake = disc_->forward(out.audio);
    auto gen_loss = models::LeastSquaresGeneratorLoss(judged_fake) * items;
    auto fm_loss = models::FeatureMatchingLoss(judged_real, judged_fake) * items;
    total = total + mel_loss + gen_loss + fm_loss;
    r.values.insert({{"train/mel_loss", mel_loss.item<double>()},
                     {"train/gen_loss", gen_loss.item<double>()},
                     {"train/fm_loss", fm_loss.item<double>()}});
  }
  ClearGradients(gen_opt_);
  total.backward();
  if (dp_.sync) dp_.sync(0);
  const double gen_norm = ClipNorm(RequiringGrad(gen_->GeneratorParameters()), cfg_.training.grad_clip);
  r.values.insert({{"train/loss", total.item<double>()}, {"grad_norm", gen_norm}});
  if (!all_ranks(std::isfinite(r.values["train/loss"]) && std::isfinite(gen_norm))) {
    ClearGradients(gen_opt_);
    r.finite = false;
    return r;
  }
  gen_opt_.step();
  return r;
}

}  // namespace ttsd::core::train
