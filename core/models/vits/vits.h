// VITS (Kim et al., 2021, "Conditional Variational Autoencoder with Adversarial Learning for End-to-End
// Text-to-Speech"): the generator network and its training losses. Text -> a transformer prior
// N(m_p, exp(logs_p)) per symbol; audio's linear spectrogram -> a posterior z (WaveNet encoder);
// a volume-preserving flow maps z to the prior's space, where monotonic alignment search pairs frames
// with symbols; a HiFi-GAN generator decodes random z segments straight to waveform. Durations are
// learned by a stochastic (or deterministic) predictor. The discriminators (hifigan.h) are a member, so
// one module holds everything a checkpoint saves; the training step that alternates the two optimizers
// is core/train/vits_step.h.
//
// Framing: a frame i covers the samples around [i * hop, (i + 1) * hop) (reflect padding of
// (n_fft - hop) / 2 each side, no centring), so a waveform of T samples has T / hop frames and a segment
// of frames [s, s + n) is exactly samples [s * hop, (s + n) * hop).
#pragma once

#include <torch/torch.h>

#include "core/config/train_config.h"
#include "core/models/modules/duration_predictor.h"
#include "core/models/modules/layers.h"
#include "core/models/modules/wavenet.h"
#include "core/models/vits/hifigan.h"
#include "core/models/vits/stochastic_duration.h"

namespace ttsd::core::models {

struct VitsTextEncoderImpl : torch::nn::Module {
  VitsTextEncoderImpl(const ModelConfig& c, int64_t n_symbols);
  struct Output {
    torch::Tensor hidden;        // [B, H, T_text], for the duration predictor
    torch::Tensor m_p, logs_p;   // prior [B, inter, T_text]
    torch::Tensor mask;          // [B, 1, T_text]
  };
  Output forward(const torch::Tensor& ids, const torch::Tensor& lengths);

  int64_t hidden_channels, inter_channels;
  torch::nn::Embedding emb{nullptr};
  torch::nn::ModuleList attention, norm1, ffn, norm2;
  Dropout drop{nullptr};
  torch::nn::Conv1d proj{nullptr};
};
TORCH_MODULE(VitsTextEncoder);

// q(z | linear spectrogram): a WaveNet over the spectrogram predicts a Gaussian per frame; z is sampled.
struct PosteriorEncoderImpl : torch::nn::Module {
  PosteriorEncoderImpl(const ModelConfig& c, int64_t spec_channels, int64_t gin_channels);
  struct Output {
    torch::Tensor z, m_q, logs_q;  // [B, inter, T]
  };
  Output forward(const torch::Tensor& spec, const torch::Tensor& mask, const torch::Tensor& g);
  torch::nn::Conv1d pre{nullptr}, proj{nullptr};
  WaveNet wn{nullptr};
};
TORCH_MODULE(PosteriorEncoder);

// A mean-only affine coupling (the Jacobian determinant is 1): the first half, through a WaveNet,
// shifts the second. The output conv starts at zero, so the coupling starts as the identity.
struct MeanCouplingImpl : torch::nn::Module {
  MeanCouplingImpl(int64_t channels, int64_t hidden, int64_t kernel, int64_t layers, int64_t gin_channels);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& mask, const torch::Tensor& g, bool reverse);
  torch::nn::Conv1d pre{nullptr}, post{nullptr};
  WaveNet wn{nullptr};
};
TORCH_MODULE(MeanCoupling);

// vits.flows mean couplings, the channel order reversed after each.
struct VitsFlowImpl : torch::nn::Module {
  VitsFlowImpl(const ModelConfig& c, int64_t gin_channels);
  torch::Tensor forward(torch::Tensor x, const torch::Tensor& mask, const torch::Tensor& g, bool reverse);
  torch::nn::ModuleList couplings;
};
TORCH_MODULE(VitsFlow);

// What a training pass produces for the losses and the discriminator.
struct VitsForward {
  torch::Tensor audio;           // [B, 1, segment_size] generated from the sliced posterior z
  torch::Tensor segment_starts;  // [B] first frame of each slice
  torch::Tensor duration_loss;   // scalar: SDP bound or log-duration MSE, per symbol
  torch::Tensor z_p, logs_q;     // posterior through the flow, and its log-scale [B, inter, T]
  torch::Tensor m_p, logs_p;     // prior expanded to frames by the alignment [B, inter, T]
  torch::Tensor spec_mask;       // [B, 1, T]
  torch::Tensor alignment;       // [B, T_text, T]
};

struct VitsImpl : torch::nn::Module {
  VitsImpl(const ModelConfig& config, const AudioConfig& audio, int64_t n_symbols, int64_t n_speakers);

  // spec: linear magnitudes [B, n_fft/2 + 1, T] with lengths [B] (frames). decode: false leaves audio
  // and segment_starts undefined (the generator is not run).
  VitsForward forward(const torch::Tensor& ids, const torch::Tensor& id_lengths, const torch::Tensor& spec,
                      const torch::Tensor& spec_lengths, const torch::Tensor& speakers, bool decode = true);

  // Synthesis: waveforms [B, 1, T_samples] and their lengths in samples [B]. With max_frames > 0, at
  // most that many frames are decoded (an untrained duration predictor can ask for minutes of audio).
  std::pair<torch::Tensor, torch::Tensor> Infer(const torch::Tensor& ids, const torch::Tensor& id_lengths,
                                                const torch::Tensor& speakers, double noise_scale, double length_scale,
                                                double noise_scale_w, int64_t max_frames = 0);

  // Copy-synthesis: a recording [1, 1, T_samples] (at audio.sample_rate, T a multiple of hop) through
  // the posterior encoder (its mean, no sampling) and the generator, bypassing text, prior, flow and
  // durations: what the generator can do with a perfect latent. Returns [1, 1, T_samples].
  torch::Tensor Resynthesize(const torch::Tensor& wave, const torch::Tensor& speakers);

  int64_t SegmentFrames() const { return config.vits.segment_size / audio.hop_length; }

  ModelConfig config;
  AudioConfig audio;
  int64_t n_speakers;
  VitsTextEncoder encoder{nullptr};
  PosteriorEncoder posterior{nullptr};
  VitsFlow flow{nullptr};
  StochasticDurationPredictor sdp{nullptr};  // vits.duration_predictor: stochastic
  DurationPredictor dp{nullptr};             // vits.duration_predictor: deterministic
  HifiGanGenerator decoder{nullptr};
  torch::nn::Embedding speaker_emb{nullptr};  // only with n_speakers > 1
  // The critics train with the generator and live in the same checkpoint (resume needs them); synthesis
  // never calls them.
  VitsDiscriminator discriminator{nullptr};

  // Parameters of the generator side (everything but `discriminator`) and of the discriminators.
  std::vector<torch::Tensor> GeneratorParameters();
  // Whether any parameter the training pass's audio depends on trains (posterior encoder, generator,
  // speaker embedding): with none, the reconstruction and adversarial terms can train nothing.
  bool AudioPathTrains();
  std::vector<torch::Tensor> DiscriminatorParameters();

 private:
  torch::Tensor SpeakerCondition(const torch::Tensor& speakers);
};
TORCH_MODULE(Vits);

// The spectra VITS trains on, from waveforms [B, 1, T] (or [B, T]) in the framing above.
class VitsSpectra {
 public:
  explicit VitsSpectra(const AudioConfig& audio);
  torch::Tensor Linear(const torch::Tensor& wave) const;  // [B, n_fft/2 + 1, T / hop]
  torch::Tensor LogMel(const torch::Tensor& wave) const;  // [B, n_mels, T / hop], log(max(mel, log_clamp))

 private:
  AudioConfig audio_;
  torch::Tensor window_, filterbank_t_;  // [n_mels, n_fft/2 + 1]
};

// Slices [B, C, T] at per-item starts [B] (in the last dimension's units) into [B, C, length]; reads
// past an item's end return zeros.
torch::Tensor SliceSegments(const torch::Tensor& x, const torch::Tensor& starts, int64_t length);

// KL(q || p) per latent value of the posterior through the flow against the aligned prior (the paper's
// eq. 7 estimated at the sampled z): summed over channels, averaged over real frames, as the paper.
torch::Tensor VitsKlLoss(const VitsForward& out);

}  // namespace ttsd::core::models
