// Glow-TTS (Kim et al., 2020): a transformer text encoder predicts a Gaussian prior (mean only) per
// symbol and a log-duration per symbol; a flow decoder maps mels to that prior's space; monotonic
// alignment search pairs frames with symbols during training. Built from a ModelConfig.
#pragma once

#include <torch/torch.h>

#include "core/config/train_config.h"
#include "core/models/modules/attention.h"
#include "core/models/modules/duration_predictor.h"
#include "core/models/modules/flows.h"
#include "core/models/modules/layers.h"

namespace ttsd::core::models {

struct EncoderOutput {
  torch::Tensor mean;    // [B, n_mels, T_text]
  torch::Tensor logw;    // [B, 1, T_text] predicted log durations (frames)
  torch::Tensor mask;    // [B, 1, T_text]
};

struct TextEncoderImpl : torch::nn::Module {
  TextEncoderImpl(const ModelConfig& c, int64_t n_symbols, int64_t out_channels, int64_t gin_channels);
  EncoderOutput forward(const torch::Tensor& ids, const torch::Tensor& lengths, const torch::Tensor& g);

  int64_t hidden;
  torch::nn::Embedding emb{nullptr};
  ConvReluNorm prenet{nullptr};
  torch::nn::ModuleList attention, norm1, ffn, norm2;
  Dropout drop{nullptr};
  torch::nn::Conv1d proj_mean{nullptr};
  DurationPredictor duration{nullptr};
};
TORCH_MODULE(TextEncoder);

struct FlowDecoderImpl : torch::nn::Module {
  FlowDecoderImpl(const ModelConfig& c, int64_t channels, int64_t gin_channels);
  // y: [B, C, T] with T a multiple of n_sqz. Forward returns z and the log-determinant [B].
  FlowOutput forward(const torch::Tensor& y, const torch::Tensor& mask, const torch::Tensor& g, bool reverse);

  int64_t n_sqz;
  torch::nn::ModuleList flows;  // ActNorm, InvConvNear, AffineCoupling, repeated
};
TORCH_MODULE(FlowDecoder);

struct GlowTtsForward {
  torch::Tensor z, z_mean, z_mask, logdet;  // decoder side, [B, C, T_mel']
  torch::Tensor logw, logw_target, x_mask;  // durations, [B, 1, T_text]
  torch::Tensor alignment;                  // [B, T_text, T_mel'] hard path from MAS
};

struct GlowTtsLosses {
  torch::Tensor mle;       // Gaussian negative log-likelihood per mel value, log-determinant included
  torch::Tensor duration;  // MSE of log durations per symbol
  torch::Tensor frames, symbols;  // what each term is divided by (mel values, symbols): data parallelism
                                  // weights each rank's terms by its share of the global batch's
};

struct GlowTtsImpl : torch::nn::Module {
  GlowTtsImpl(const ModelConfig& config, int64_t n_symbols, int64_t n_mels, int64_t n_speakers);

  // Training pass. mel_lengths are rounded down to a multiple of n_sqz.
  GlowTtsForward forward(const torch::Tensor& ids, const torch::Tensor& id_lengths, const torch::Tensor& mels,
                         const torch::Tensor& mel_lengths, const torch::Tensor& speakers);
  GlowTtsLosses Losses(const GlowTtsForward& out) const;

  // Synthesis: [B, n_mels, T] log-mels and their lengths [B].
  std::pair<torch::Tensor, torch::Tensor> Infer(const torch::Tensor& ids, const torch::Tensor& id_lengths,
                                                const torch::Tensor& speakers, double noise_scale,
                                                double length_scale);

  ModelConfig config;
  int64_t n_mels, n_speakers;
  TextEncoder encoder{nullptr};
  FlowDecoder decoder{nullptr};
  torch::nn::Embedding speaker_emb{nullptr};  // only with n_speakers > 1

 private:
  torch::Tensor SpeakerCondition(const torch::Tensor& speakers);
};
TORCH_MODULE(GlowTts);

// Alignment path from integer durations [B, T_text]: [B, T_text, T_mel].
torch::Tensor PathFromDurations(const torch::Tensor& durations, const torch::Tensor& mask);

}  // namespace ttsd::core::models
