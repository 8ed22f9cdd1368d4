// What the run loop (trainer.cc) needs from a model, so one loop trains every model type: the module a
// checkpoint holds, its optimizers, one training step, held-out losses, and speech for validation.
// glow_tts_trainable.cc and vits_trainable.cc implement it; MakeTrainableModel picks by model.type.
// Includes LibTorch.
#pragma once

#include <torch/torch.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/audio/matrix.h"
#include "core/config/train_config.h"
#include "core/data/dataset.h"
#include "core/data/loader.h"
#include "core/train/precision.h"

namespace ttsd::core::train {

// What became of one step.
enum class StepOutcome {
  kApplied,
  kNonFinite,  // a loss or a gradient was NaN/inf: no update, counted towards max_nonfinite_steps
  kOverflow,   // fp16 only: the scaled gradients overflowed; no update, the loss scale halves
};

struct StepOutput {
  std::map<std::string, double> values;  // train/loss and the model's other train/* terms, grad_norm, ...
  StepOutcome outcome = StepOutcome::kApplied;
};

// Speech for validation. mel: [n_mels, frames] log-mel of what was said (empty when the model said
// nothing usable); wave: the audio at audio.sample_rate.
struct Spoken {
  FloatMatrix mel;
  std::vector<float> wave;
};

class TrainableModel {
 public:
  virtual ~TrainableModel() = default;

  // Called in Step between a network's backward pass and its clipping, with the index in optimizers()
  // of the optimizer about to step (data parallelism averages the gradients of that optimizer's
  // parameters across ranks there). Unset: nothing happens.
  using GradientHook = std::function<void(int optimizer)>;
  void set_gradient_hook(GradientHook hook) { gradient_hook_ = std::move(hook); }
  // Data parallelism over `world` ranks: `sum` adds a tensor across them in place. A model uses it to
  // weight its loss terms by this rank's share of the global batch (so the averaged gradient is the
  // one a single process computes on the whole batch) and to agree on skipping a step.
  using RankSum = std::function<void(torch::Tensor&)>;
  virtual void set_rank_sum(RankSum sum, int world) {
    rank_sum_ = std::move(sum);
    world_ = world;
  }

  // Every parameter and buffer a checkpoint holds, named as finetune patterns see them.
  virtual torch::nn::Module& module() = 0;
  // Called once, after fine-tune loading and freezing: optimizers over the parameters that train.
  virtual void CreateOptimizers() = 0;
  virtual std::vector<torch::optim::Optimizer*> optimizers() = 0;
  // After CreateOptimizers: what this model's steps will do differently from usual, for the run's log.
  virtual std::vector<std::string> TrainingNotes() const { return {}; }
  // The loader must give this model waveforms (Batch::wave).
  virtual bool needs_waveforms() const = 0;

  // One optimizer step (for a GAN, both networks' steps) at learning rate `lr`.
  virtual StepOutput Step(const Batch& batch, double lr, LossScaler& scaler) = 0;
  // Held-out losses of one batch ("val/loss" and the model's terms), in eval mode, without gradients.
  virtual std::map<std::string, double> EvalLosses(const Batch& batch) = 0;

  // Validation speech for one text (ids with blanks as the tokenizer makes them) in one voice.
  virtual Spoken Speak(const std::vector<int64_t>& ids, int64_t speaker) = 0;
  // Copy-synthesis: a recording (mono, at audio.sample_rate, whole hops) through the model's audio
  // path without text: VITS's posterior encoder and generator, or Griffin-Lim of the recording's own
  // log-mel for Glow-TTS. What the vocoder gives with perfect acoustics, the ceiling on Speak's quality.
  virtual std::vector<float> Resynthesize(const std::vector<float>& wave, int64_t speaker) = 0;
  // The alignment the model finds between `ids` and the recording of utterance `u` ([T_text, frames]),
  // for TensorBoard; `mel` is its cached log-mel.
  virtual FloatMatrix Alignment(const std::vector<int64_t>& ids, int64_t speaker, const PreparedUtterance& u,
                                const FloatMatrix& mel) = 0;

 protected:
  void SyncGradients(int optimizer) {
    if (gradient_hook_) gradient_hook_(optimizer);
  }
  // counts * world / (the counts summed over the ranks): 1 for each in one process. [n] float64, CPU.
  torch::Tensor RankShares(const torch::Tensor& counts);
  // Whether every rank says ok (one process: `ok`).
  bool AllRanks(bool ok);

 private:
  GradientHook gradient_hook_;
  RankSum rank_sum_;
  int world_ = 1;
};

// The model of cfg.model.type, on `device`, built for `n_symbols` and `n_speakers`.
std::unique_ptr<TrainableModel> MakeTrainableModel(const TrainConfig& cfg, int64_t n_symbols, int64_t n_speakers,
                                                   const torch::Device& device);

// training.optimizer (adam | adamw) over `params`, with the config's betas, eps and weight decay; the
// learning rate is set before every step.
std::unique_ptr<torch::optim::Optimizer> MakeOptimizer(const std::vector<torch::Tensor>& params, const TrainingConfig& t);

// Saves the CPU (and the device's) random generator on construction and puts it back on destruction:
// validation draws noise, and a run with validation must train exactly as one without.
class GeneratorGuard {
 public:
  explicit GeneratorGuard(const torch::Device& device);
  ~GeneratorGuard();
  GeneratorGuard(const GeneratorGuard&) = delete;
  GeneratorGuard& operator=(const GeneratorGuard&) = delete;

 private:
  torch::Device device_;
  torch::Tensor cpu_, cuda_;
};

// Sets every parameter group's learning rate.
void SetLearningRate(torch::optim::Optimizer& optimizer, double lr);

// One utterance as a batch of one on `device` (ids [1, T], lengths [1], speakers [1]), for speaking.
struct OneUtterance {
  OneUtterance(const std::vector<int64_t>& ids, int64_t speaker, const torch::Device& device);
  torch::Tensor ids, lengths, speakers;
};

// The batch on `device` (a no-op on the CPU).
Batch OnDevice(const Batch& b, const torch::Device& device);

}  // namespace ttsd::core::train
