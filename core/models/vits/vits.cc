#include "core/models/vits/vits.h"

#include <cmath>

#include "core/audio/mel_torch.h"
#include "core/models/glow_tts/glow_tts.h"  // PathFromDurations
#include "core/models/monotonic_align.h"

namespace F = torch::nn::functional;

namespace ttsd::core::models {
namespace {

constexpr double kLog2Pi = 1.8378770664093453;

torch::nn::Conv1d Pointwise(int64_t in, int64_t out) { return torch::nn::Conv1d(torch::nn::Conv1dOptions(in, out, 1)); }

// Log-likelihood of each frame's z_p under each symbol's prior: [B, T_text, T_frames], for the
// alignment search (the Gaussian log-density expanded so it is four matrix products, not a loop).
torch::Tensor AlignmentLogLikelihood(const torch::Tensor& z_p, const torch::Tensor& m_p, const torch::Tensor& logs_p) {
  auto inv_var = torch::exp(-2 * logs_p);                                          // [B, C, Tx]
  auto a = (-0.5 * kLog2Pi - logs_p).sum(1).unsqueeze(-1);                         // [B, Tx, 1]
  auto b = torch::matmul(inv_var.transpose(1, 2), -0.5 * z_p * z_p);               // [B, Tx, Ty]
  auto c = torch::matmul((m_p * inv_var).transpose(1, 2), z_p);                    // [B, Tx, Ty]
  auto d = (-0.5 * m_p * m_p * inv_var).sum(1).unsqueeze(-1);                      // [B, Tx, 1]
  return a + b + c + d;
}

}  // namespace

VitsTextEncoderImpl::VitsTextEncoderImpl(const ModelConfig& c, int64_t n_symbols)
    : hidden_channels(c.hidden_channels), inter_channels(c.vits.inter_channels) {
  emb = register_module("emb", torch::nn::Embedding(n_symbols, hidden_channels));
  {
    torch::NoGradGuard no_grad;
    emb->weight.normal_(0.0, std::pow(static_cast<double>(hidden_channels), -0.5));
  }
  AddTransformerLayers(c.n_layers, hidden_channels, c.filter_channels, c.n_heads, c.kernel_size, c.window_size,
                       c.p_dropout, attention, norm1, ffn, norm2);
  register_module("attention", attention);
  register_module("norm1", norm1);
  register_module("ffn", ffn);
  register_module("norm2", norm2);
  drop = register_module("drop", Dropout(c.p_dropout));
  proj = register_module("proj", Pointwise(hidden_channels, 2 * inter_channels));
}

VitsTextEncoderImpl::Output VitsTextEncoderImpl::forward(const torch::Tensor& ids, const torch::Tensor& lengths) {
  auto x = (emb(ids) * std::sqrt(static_cast<double>(hidden_channels))).transpose(1, 2);  // [B, H, T]
  Output o;
  o.mask = SequenceMask(lengths, ids.size(1));
  o.hidden = TransformerLayers(x, o.mask, attention, norm1, ffn, norm2, drop);
  auto stats = (proj(o.hidden) * o.mask).split(inter_channels, 1);
  o.m_p = stats[0];
  o.logs_p = stats[1];
  return o;
}

PosteriorEncoderImpl::PosteriorEncoderImpl(const ModelConfig& c, int64_t spec_channels, int64_t gin_channels) {
  const auto& v = c.vits;
  pre = register_module("pre", Pointwise(spec_channels, c.hidden_channels));
  wn = register_module("wn", WaveNet(c.hidden_channels, v.posterior_kernel, 1, v.posterior_layers, gin_channels, 0.0));
  proj = register_module("proj", Pointwise(c.hidden_channels, 2 * v.inter_channels));
}

PosteriorEncoderImpl::Output PosteriorEncoderImpl::forward(const torch::Tensor& spec, const torch::Tensor& mask,
                                                           const torch::Tensor& g) {
  auto h = wn(pre(spec) * mask, mask, g);
  auto stats = (proj(h) * mask).split(proj->options.out_channels() / 2, 1);
  Output o;
  o.m_q = stats[0];
  o.logs_q = stats[1];
  o.z = (o.m_q + torch::randn_like(o.m_q) * torch::exp(o.logs_q)) * mask;
  return o;
}

MeanCouplingImpl::MeanCouplingImpl(int64_t channels, int64_t hidden, int64_t kernel, int64_t layers, int64_t gin_channels) {
  pre = register_module("pre", Pointwise(channels / 2, hidden));
  wn = register_module("wn", WaveNet(hidden, kernel, 1, layers, gin_channels, 0.0));
  post = register_module("post", Pointwise(hidden, channels / 2));
  torch::NoGradGuard no_grad;
  post->weight.zero_();
  post->bias.zero_();
}

torch::Tensor MeanCouplingImpl::forward(const torch::Tensor& x, const torch::Tensor& mask, const torch::Tensor& g,
                                        bool reverse) {
  auto halves = x.split(x.size(1) / 2, 1);
  auto m = post(wn(pre(halves[0]) * mask, mask, g)) * mask;
  auto x1 = reverse ? (halves[1] - m) * mask : (halves[1] + m) * mask;
  return torch::cat({halves[0], x1}, 1);
}

VitsFlowImpl::VitsFlowImpl(const ModelConfig& c, int64_t gin_channels) {
  const auto& v = c.vits;
  for (int i = 0; i < v.flows; ++i) {
    couplings->push_back(MeanCoupling(v.inter_channels, c.hidden_channels, v.flow_kernel, v.flow_layers, gin_channels));
  }
  register_module("couplings", couplings);
}

torch::Tensor VitsFlowImpl::forward(torch::Tensor x, const torch::Tensor& mask, const torch::Tensor& g, bool reverse) {
  const int64_t n = static_cast<int64_t>(couplings->size());
  for (int64_t k = 0; k < n; ++k) {
    auto* coupling = couplings[reverse ? n - 1 - k : k]->as<MeanCoupling>();
    if (reverse) x = x.flip(1);
    x = coupling->forward(x, mask, g, reverse);
    if (!reverse) x = x.flip(1);
  }
  return x;
}

VitsImpl::VitsImpl(const ModelConfig& c, const AudioConfig& a, int64_t n_symbols, int64_t n_speakers_)
    : config(c), audio(a), n_speakers(n_speakers_) {
  const auto& v = c.vits;
  const int64_t gin = n_speakers > 1 ? c.speaker_channels : 0;
  encoder = register_module("encoder", VitsTextEncoder(c, n_symbols));
  posterior = register_module("posterior", PosteriorEncoder(c, a.n_fft / 2 + 1, gin));
  flow = register_module("flow", VitsFlow(c, gin));
  if (v.duration_predictor == "deterministic") {
    dp = register_module("dp", DurationPredictor(c.hidden_channels, c.filter_channels_dp, 3, v.sdp_dropout, gin, v.dp_norm_eps));
  } else {
    const int64_t width = v.sdp_channels > 0 ? v.sdp_channels : c.hidden_channels;
    sdp = register_module("sdp", StochasticDurationPredictor(c.hidden_channels, width, 3, v.sdp_dropout, v.sdp_flows, gin));
  }
  decoder = register_module("decoder", HifiGanGenerator(v, v.inter_channels, gin));
  if (n_speakers > 1) speaker_emb = register_module("speaker_emb", torch::nn::Embedding(n_speakers, c.speaker_channels));
  discriminator = register_module("discriminator", VitsDiscriminator(v));
}

std::vector<torch::Tensor> VitsImpl::GeneratorParameters() {
  std::vector<torch::Tensor> out;
  for (const auto& p : named_parameters()) {
    if (p.key().rfind("discriminator.", 0) != 0) out.push_back(p.value());
  }
  return out;
}

bool VitsImpl::AudioPathTrains() {
  std::vector<torch::Tensor> audio_path = posterior->parameters();
  for (const auto& p : decoder->parameters()) audio_path.push_back(p);
  if (speaker_emb) audio_path.push_back(speaker_emb->weight);
  for (const auto& p : audio_path) {
    if (p.requires_grad()) return true;
  }
  return false;
}

std::vector<torch::Tensor> VitsImpl::DiscriminatorParameters() { return discriminator->parameters(); }

torch::Tensor VitsImpl::SpeakerCondition(const torch::Tensor& speakers) {
  if (!speaker_emb) return torch::Tensor();
  return speaker_emb(speakers).unsqueeze(-1);  // [B, gin, 1]
}

VitsForward VitsImpl::forward(const torch::Tensor& ids, const torch::Tensor& id_lengths, const torch::Tensor& spec,
                              const torch::Tensor& spec_lengths, const torch::Tensor& speakers, bool decode) {
  auto g = SpeakerCondition(speakers);
  auto text = encoder(ids, id_lengths);
  VitsForward out;
  out.spec_mask = SequenceMask(spec_lengths, spec.size(2));
  auto post = posterior(spec, out.spec_mask, g);
  out.z_p = flow(post.z, out.spec_mask, g, /*reverse=*/false);
  out.logs_q = post.logs_q;
  {
    torch::NoGradGuard no_grad;
    auto log_p = AlignmentLogLikelihood(out.z_p, text.m_p, text.logs_p);
    out.alignment = MonotonicAlignmentSearch(log_p.to(torch::kCPU, torch::kFloat32), id_lengths.cpu(), spec_lengths.cpu())
                        .to(spec.device());
  }
  auto w = out.alignment.sum(2).unsqueeze(1);  // [B, 1, T_text] frames per symbol
  auto symbols = text.mask.sum();
  if (sdp) {
    out.duration_loss = sdp->Nll(text.hidden, text.mask, w, g).sum() / symbols;
  } else {
    auto target = torch::log(w + 1e-6) * text.mask;
    auto logw = dp(text.hidden.detach(), text.mask, g.defined() ? g.detach() : g);
    out.duration_loss = torch::sum(torch::square(logw - target)) / symbols;
  }
  // The prior of each frame is its symbol's: [B, C, T_text] x [B, T_text, T] -> [B, C, T].
  out.m_p = torch::matmul(text.m_p, out.alignment);
  out.logs_p = torch::matmul(text.logs_p, out.alignment);
  if (!decode) return out;
  // A random window of each utterance is decoded to audio (the paper's windowed generator training).
  const int64_t seg = SegmentFrames();
  auto room = torch::clamp_min(spec_lengths - seg + 1, 1).to(torch::kFloat32);
  out.segment_starts = (torch::rand({spec.size(0)}, spec.options().dtype(torch::kFloat32)) * room.to(spec.device()))
                           .to(torch::kLong);
  out.audio = decoder(SliceSegments(post.z, out.segment_starts, seg), g);
  return out;
}

std::pair<torch::Tensor, torch::Tensor> VitsImpl::Infer(const torch::Tensor& ids, const torch::Tensor& id_lengths,
                                                        const torch::Tensor& speakers, double noise_scale,
                                                        double length_scale, double noise_scale_w, int64_t max_frames) {
  torch::NoGradGuard no_grad;
  auto g = SpeakerCondition(speakers);
  auto text = encoder(ids, id_lengths);
  torch::Tensor logw = sdp ? sdp->SampleLogDurations(text.hidden, text.mask, g, noise_scale_w)
                           : dp(text.hidden, text.mask, g);
  auto durations = torch::ceil(torch::exp(logw) * text.mask * length_scale).squeeze(1);  // [B, T_text]
  auto frames = torch::clamp_min(durations.sum(1), 1).to(torch::kLong);
  if (max_frames > 0) frames = torch::clamp_max(frames, max_frames);  // the path below ends at the cap
  auto frame_mask = SequenceMask(frames, frames.max().item<int64_t>());
  auto path = PathFromDurations(durations, text.mask.squeeze(1).unsqueeze(-1) * frame_mask);  // [B, T_text, T]
  auto m_p = torch::matmul(text.m_p, path), logs_p = torch::matmul(text.logs_p, path);
  auto z_p = (m_p + torch::randn_like(m_p) * torch::exp(logs_p) * noise_scale) * frame_mask;
  auto z = flow(z_p, frame_mask, g, /*reverse=*/true);
  auto audio_out = decoder(z * frame_mask, g);
  return {audio_out, frames * audio.hop_length};
}

torch::Tensor VitsImpl::Resynthesize(const torch::Tensor& wave, const torch::Tensor& speakers) {
  torch::NoGradGuard no_grad;
  auto g = SpeakerCondition(speakers);
  auto spec = VitsSpectra(audio).Linear(wave.to(torch::kFloat32));
  auto mask = torch::ones({spec.size(0), 1, spec.size(2)}, spec.options());
  return decoder(posterior(spec, mask, g).m_q, g);
}

VitsSpectra::VitsSpectra(const AudioConfig& audio) : audio_(audio) {
  window_ = torch::hann_window(audio.win_length);
  filterbank_t_ = SlaneyMelFilterbank(audio).t().contiguous();
}

torch::Tensor VitsSpectra::Linear(const torch::Tensor& wave_in) const {
  auto wave = wave_in.dim() == 3 ? wave_in.squeeze(1) : wave_in;  // [B, T]
  const int64_t pad = (audio_.n_fft - audio_.hop_length) / 2;
  wave = F::pad(wave.unsqueeze(1), F::PadFuncOptions({pad, pad}).mode(torch::kReflect)).squeeze(1);
  auto spec = torch::stft(wave, audio_.n_fft, audio_.hop_length, audio_.win_length, window_.to(wave.device()),
                          /*center=*/false, "reflect", /*normalized=*/false, /*onesided=*/true, /*return_complex=*/true);
  // |X| with a small floor inside the root so its gradient stays finite at silence.
  return torch::sqrt(torch::real(spec * spec.conj()) + 1e-6);
}

torch::Tensor VitsSpectra::LogMel(const torch::Tensor& wave) const {
  auto mel = torch::matmul(filterbank_t_.to(wave.device()), Linear(wave));
  return torch::log(torch::clamp_min(mel, audio_.log_clamp));
}

torch::Tensor SliceSegments(const torch::Tensor& x, const torch::Tensor& starts, int64_t length) {
  auto padded = F::pad(x, F::PadFuncOptions({0, length}));
  auto index = (starts.to(x.device()).view({-1, 1, 1}) + torch::arange(length, starts.options().device(x.device())).view({1, 1, -1}))
                   .expand({x.size(0), x.size(1), length});
  return padded.gather(2, index);
}

torch::Tensor VitsKlLoss(const VitsForward& o) {
  auto kl = o.logs_p - o.logs_q - 0.5 + 0.5 * torch::square(o.z_p - o.m_p) * torch::exp(-2 * o.logs_p);
  return torch::sum(kl * o.spec_mask) / torch::sum(o.spec_mask);
}

}  // namespace ttsd::core::models
