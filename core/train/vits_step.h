// One VITS training step (Kim et al., 2021, section 2.6): the generator decodes random windows of the
// batch, the discriminators take an optimizer step on real vs generated audio, then the generator takes
// one on mel L1 (x mel_loss_weight), KL (x kl_loss_weight), duration, adversarial and feature-matching
// losses. Both updates make up one "step" of the run. Includes LibTorch.
#pragma once

#include <torch/torch.h>

#include <functional>
#include <map>
#include <string>

#include "core/config/train_config.h"
#include "core/models/vits/vits.h"

namespace ttsd::core::train {

struct VitsBatch {
  torch::Tensor ids;           // [B, T_text] int64
  torch::Tensor id_lengths;    // [B]
  torch::Tensor wave;          // [B, 1, T] float in [-1, 1], T a multiple of hop_length, zero padded
  torch::Tensor wave_lengths;  // [B] samples
  torch::Tensor speakers;      // [B]
};

struct VitsStepResult {
  std::map<std::string, double> values;  // train/mel_loss, train/kl_loss, ..., grad_norm, grad_norm_disc
  bool finite = true;  // false: a loss or gradient was NaN/inf; that network's update (and any after it) skipped
};

// What a VITS step needs under data parallelism (trainable_model.h has the mechanisms). Unset members
// mean one process.
struct VitsDataParallel {
  // Averages over the ranks the gradients of the generator (0) or of the discriminators (1).
  std::function<void(int network)> sync;
  // counts [n] -> this rank's shares of the global counts (counts * ranks / sum over ranks).
  std::function<torch::Tensor(const torch::Tensor&)> shares;
  // Whether every rank says ok.
  std::function<bool(bool)> all_ranks;
};

class VitsStepper {
 public:
  // Not owned; all must outlive the stepper. gen_opt holds (trainable) GeneratorParameters(), disc_opt
  // the model's discriminator's.
  VitsStepper(models::Vits& model, torch::optim::Optimizer& gen_opt, torch::optim::Optimizer& disc_opt,
              const TrainConfig& config);

  // Under data parallelism every loss term counts by this rank's share of what the term averages over
  // in the global batch (utterances for the windowed and adversarial terms, spectrogram frames for KL,
  // symbols for duration), so the averaged gradients are those of the whole batch; and a network's
  // update is skipped on every rank when any rank's loss is not finite.
  void set_data_parallel(VitsDataParallel dp) { dp_ = std::move(dp); }

  VitsStepResult Step(const VitsBatch& batch);
  // Every parameter the generated audio depends on is frozen (a text-side fine-tune): the reconstruction
  // and adversarial terms could train nothing and the discriminators would only learn a fixed
  // generator, so Step runs neither the generator nor the discriminators, only the prior (KL) and
  // duration terms, several times faster. Decided at construction, from what requires gradients.
  bool text_side_only() const { return text_side_only_; }
  // Held-out reconstruction, KL and duration terms (the generator alone, eval mode, no gradients) and
  // their sum as val/loss.
  std::map<std::string, double> EvalLosses(const VitsBatch& batch);

 private:
  // The generator's pass over the batch, and the real audio windows its output is compared with.
  std::pair<models::VitsForward, torch::Tensor> Forward(const VitsBatch& batch, bool decode = true);

  models::Vits& gen_;
  models::VitsDiscriminator disc_;
  torch::optim::Optimizer& gen_opt_;
  torch::optim::Optimizer& disc_opt_;
  const TrainConfig& cfg_;
  models::VitsSpectra spectra_;
  VitsDataParallel dp_;
  bool text_side_only_;
};

}  // namespace ttsd::core::train
