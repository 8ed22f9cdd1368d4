#include "core/models/glow_tts/glow_tts.h"

#include <cmath>

#include "core/models/monotonic_align.h"

namespace F = torch::nn::functional;

namespace ttsd::core::models {
namespace {

constexpr double kLog2Pi = 1.8378770664093453;  // log(2 pi)

// [B, C, T] -> [B, C * n, T / n] (time steps folded into channels), and the mask subsampled.
std::pair<torch::Tensor, torch::Tensor> Squeeze(const torch::Tensor& x, const torch::Tensor& mask, int64_t n) {
  const int64_t b = x.size(0), c = x.size(1), t = (x.size(2) / n) * n;
  auto y = x.narrow(2, 0, t).reshape({b, c, t / n, n}).permute({0, 3, 1, 2}).reshape({b, c * n, t / n});
  auto m = mask.narrow(2, n - 1, t - n + 1).slice(2, 0, c10::nullopt, n);
  return {y * m, m};
}

std::pair<torch::Tensor, torch::Tensor> Unsqueeze(const torch::Tensor& x, const torch::Tensor& mask, int64_t n) {
  const int64_t b = x.size(0), c = x.size(1), t = x.size(2);
  auto y = x.reshape({b, n, c / n, t}).permute({0, 2, 3, 1}).reshape({b, c / n, t * n});
  auto m = mask.unsqueeze(-1).repeat({1, 1, 1, n}).reshape({b, 1, t * n});
  return {y * m, m};
}

}  // namespace

TextEncoderImpl::TextEncoderImpl(const ModelConfig& c, int64_t n_symbols, int64_t out_channels,
                                 int64_t gin_channels)
    : hidden(c.hidden_channels) {
  emb = register_module("emb", torch::nn::Embedding(n_symbols, hidden));
  {
    torch::NoGradGuard no_grad;
    emb->weight.normal_(0.0, std::pow(static_cast<double>(hidden), -0.5));
  }
  if (c.prenet_layers > 0) {
    prenet = register_module("prenet", ConvReluNorm(hidden, /*kernel=*/5, c.prenet_layers, /*dropout=*/0.5));
  }
  AddTransformerLayers(c.n_layers, hidden, c.filter_channels, c.n_heads, c.kernel_size, c.window_size, c.p_dropout,
                       attention, norm1, ffn, norm2);
  register_module("attention", attention);
  register_module("norm1", norm1);
  register_module("ffn", ffn);
  register_module("norm2", norm2);
  drop = register_module("drop", Dropout(c.p_dropout));
  proj_mean = register_module("proj_mean", torch::nn::Conv1d(torch::nn::Conv1dOptions(hidden, out_channels, 1)));
  duration = register_module("duration", DurationPredictor(hidden, c.filter_channels_dp, 3, c.p_dropout, gin_channels));
}

EncoderOutput TextEncoderImpl::forward(const torch::Tensor& ids, const torch::Tensor& lengths,
                                       const torch::Tensor& g) {
  auto x = emb(ids) * std::sqrt(static_cast<double>(hidden));  // [B, T, H]
  x = x.transpose(1, 2);                                         // [B, H, T]
  auto mask = SequenceMask(lengths, ids.size(1));
  if (prenet) x = prenet(x, mask);
  x = TransformerLayers(x, mask, attention, norm1, ffn, norm2, drop);
  EncoderOutput out;
  out.mean = proj_mean(x) * mask;
  // Durations are learned from detached encoder states, so their loss does not shape the prior.
  out.logw = duration(x.detach(), mask, g.defined() ? g.detach() : g);
  out.mask = mask;
  return out;
}

FlowDecoderImpl::FlowDecoderImpl(const ModelConfig& c, int64_t channels, int64_t gin_channels) : n_sqz(c.n_sqz) {
  const int64_t ch = channels * c.n_sqz;
  for (int i = 0; i < c.decoder_blocks; ++i) {
    flows->push_back(ActNorm(ch));
    flows->push_back(InvConvNear(ch, c.n_split));
    flows->push_back(AffineCoupling(ch, c.decoder_hidden, c.decoder_kernel, c.decoder_dilation_rate,
                                    c.decoder_block_layers, gin_channels, c.decoder_dropout));
  }
  register_module("flows", flows);
}

FlowOutput FlowDecoderImpl::forward(const torch::Tensor& y, const torch::Tensor& mask_in, const torch::Tensor& g,
                                    bool reverse) {
  auto [x, mask] = Squeeze(y, mask_in, n_sqz);
  torch::Tensor logdet = torch::zeros({y.size(0)}, y.options());
  const int64_t n = static_cast<int64_t>(flows->size());
  for (int64_t k = 0; k < n; ++k) {
    int64_t i = reverse ? n - 1 - k : k;
    FlowOutput o;
    if (auto* a = flows[i]->as<ActNorm>()) {
      o = a->forward(x, mask, reverse);
    } else if (auto* inv = flows[i]->as<InvConvNear>()) {
      o = inv->forward(x, mask, reverse);
    } else {
      o = flows[i]->as<AffineCoupling>()->forward(x, mask, g, reverse);
    }
    x = o.z;
    if (!reverse) logdet = logdet + o.logdet;
  }
  auto [out, out_mask] = Unsqueeze(x, mask, n_sqz);
  return {out, reverse ? torch::Tensor() : logdet};
}

GlowTtsImpl::GlowTtsImpl(const ModelConfig& c, int64_t n_symbols, int64_t n_mels_, int64_t n_speakers_)
    : config(c), n_mels(n_mels_), n_speakers(n_speakers_) {
  const int64_t gin = n_speakers > 1 ? c.speaker_channels : 0;
  encoder = register_module("encoder", TextEncoder(c, n_symbols, n_mels, gin));
  decoder = register_module("decoder", FlowDecoder(c, n_mels, gin));
  if (n_speakers > 1) {
    speaker_emb = register_module("speaker_emb", torch::nn::Embedding(n_speakers, c.speaker_channels));
    torch::NoGradGuard no_grad;
    speaker_emb->weight.normal_(0.0, std::pow(static_cast<double>(c.speaker_channels), -0.5));
  }
}

torch::Tensor GlowTtsImpl::SpeakerCondition(const torch::Tensor& speakers) {
  if (!speaker_emb) return torch::Tensor();
  return F::normalize(speaker_emb(speakers), F::NormalizeFuncOptions().dim(-1)).unsqueeze(-1);  // [B, gin, 1]
}

GlowTtsForward GlowTtsImpl::forward(const torch::Tensor& ids, const torch::Tensor& id_lengths,
                                    const torch::Tensor& mels, const torch::Tensor& mel_lengths_in,
                                    const torch::Tensor& speakers) {
  auto g = SpeakerCondition(speakers);
  EncoderOutput enc = encoder(ids, id_lengths, g);
  const int64_t sq = config.n_sqz;
  const int64_t t_max = (mels.size(2) / sq) * sq;
  auto y = mels.narrow(2, 0, t_max);
  auto mel_lengths = torch::div(mel_lengths_in, sq, "floor") * sq;
  auto y_mask = SequenceMask(mel_lengths, t_max);
  FlowOutput dec = decoder(y, y_mask, g, /*reverse=*/false);

  GlowTtsForward out;
  {
    // log N(z_j; mean_i, 1) for every (symbol i, frame j), as matrix products.
    torch::NoGradGuard no_grad;
    auto mean = enc.mean;                                                    // [B, C, Tx]
    auto lp_const = -0.5 * kLog2Pi * n_mels;
    auto lp_zz = (-0.5 * dec.z * dec.z).sum(1).unsqueeze(1);              // [B, 1, Ty]
    auto lp_mz = torch::matmul(mean.transpose(1, 2), dec.z);              // [B, Tx, Ty]
    auto lp_mm = (-0.5 * mean * mean).sum(1).unsqueeze(-1);               // [B, Tx, 1]
    auto log_p = lp_const + lp_zz + lp_mz + lp_mm;
    out.alignment = MonotonicAlignmentSearch(log_p, id_lengths, mel_lengths);
  }
  out.z = dec.z;
  out.logdet = dec.logdet;
  out.z_mask = y_mask;
  // Each frame takes the mean of the one token the path gives it: a gather, not a [C, Tx] x [Tx, Ty]
  // product with a 0/1 matrix (same values, a fraction of the work forward and backward).
  auto token_of_frame = out.alignment.argmax(1).unsqueeze(1).expand({-1, enc.mean.size(1), -1});  // [B, C, Ty]
  out.z_mean = enc.mean.gather(2, token_of_frame) * y_mask;
  out.logw = enc.logw;
  out.logw_target = torch::log(1e-8 + out.alignment.sum(2)).unsqueeze(1) * enc.mask;
  out.x_mask = enc.mask;
  return out;
}

GlowTtsLosses GlowTtsImpl::Losses(const GlowTtsForward& o) const {
  GlowTtsLosses l;
  auto f32 = [](const torch::Tensor& t) { return t.to(torch::kFloat32); };  // under autocast, parts are 16-bit
  auto frames = o.z_mask.sum() * n_mels;
  auto sq = ((f32(o.z) - f32(o.z_mean)) * o.z_mask).pow(2).sum();
  l.mle = 0.5 * kLog2Pi + (0.5 * sq - f32(o.logdet).sum()) / frames;
  l.duration = (f32(o.logw) - f32(o.logw_target)).pow(2).sum() / o.x_mask.sum();
  l.frames = frames.detach();
  l.symbols = o.x_mask.sum().detach();
  return l;
}

torch::Tensor PathFromDurations(const torch::Tensor& durations, const torch::Tensor& mask) {
  // mask: [B, T_text, T_mel]; token i owns frames [cum[i-1], cum[i]).
  const int64_t b = mask.size(0), tx = mask.size(1), ty = mask.size(2);
  auto cum = torch::cumsum(durations, 1);  // [B, Tx]
  auto frames = torch::arange(ty, durations.options()).view({1, 1, ty});
  auto upto = (frames < cum.unsqueeze(-1)).to(torch::kFloat32);  // [B, Tx, Ty]
  auto before = F::pad(upto, F::PadFuncOptions({0, 0, 1, 0})).narrow(1, 0, tx);
  (void)b;
  return (upto - before) * mask;
}

std::pair<torch::Tensor, torch::Tensor> GlowTtsImpl::Infer(const torch::Tensor& ids, const torch::Tensor& id_lengths,
                                                           const torch::Tensor& speakers, double noise_scale,
                                                           double length_scale) {
  torch::NoGradGuard no_grad;
  auto g = SpeakerCondition(speakers);
  EncoderOutput enc = encoder(ids, id_lengths, g);
  auto w = torch::ceil(torch::exp(enc.logw) * enc.mask * length_scale);  // [B, 1, Tx]
  const int64_t sq = config.n_sqz;
  auto mel_lengths = torch::clamp_min(w.sum(at::IntArrayRef{1, 2}), 1).to(torch::kInt64);
  mel_lengths = torch::div(mel_lengths + sq - 1, sq, "floor") * sq;
  const int64_t t_max = mel_lengths.max().item<int64_t>();
  auto y_mask = SequenceMask(mel_lengths, t_max);
  auto path = PathFromDurations(w.squeeze(1), enc.mask.transpose(1, 2) * y_mask);  // [B, Tx, Ty]
  auto z_mean = torch::matmul(enc.mean, path);
  auto z = (z_mean + torch::randn_like(z_mean) * noise_scale) * y_mask;
  FlowOutput dec = decoder(z, y_mask, g, /*reverse=*/true);
  return {dec.z * y_mask, mel_lengths};
}

}  // namespace ttsd::core::models
