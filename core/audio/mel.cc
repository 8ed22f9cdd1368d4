#include "core/audio/mel.h"

#include <cmath>

#include "core/audio/mel_torch.h"

namespace ttsd::core {
namespace {

// Slaney's auditory-toolbox mel scale: linear below 1 kHz, logarithmic above.
constexpr double kMinLogHz = 1000.0;
constexpr double kLinearSlope = 200.0 / 3.0;  // Hz per mel below 1 kHz
constexpr double kMinLogMel = kMinLogHz / kLinearSlope;
const double kLogStep = std::log(6.4) / 27.0;

double HzToMel(double hz) {
  return hz < kMinLogHz ? hz / kLinearSlope : kMinLogMel + std::log(hz / kMinLogHz) / kLogStep;
}
double MelToHz(double mel) {
  return mel < kMinLogMel ? mel * kLinearSlope : kMinLogHz * std::exp(kLogStep * (mel - kMinLogMel));
}

}  // namespace

torch::Tensor SlaneyMelFilterbank(const AudioConfig& c) {
  const int64_t n_freqs = c.n_fft / 2 + 1;
  // Computed in double and rounded once, so the filterbank is the same on every platform.
  auto all_freqs = torch::linspace(0, c.sample_rate / 2, n_freqs, torch::kFloat64);
  double m_min = HzToMel(c.fmin), m_max = HzToMel(c.fmax);
  std::vector<double> f_pts(c.n_mels + 2);
  for (int i = 0; i < c.n_mels + 2; ++i) f_pts[i] = MelToHz(m_min + (m_max - m_min) * i / (c.n_mels + 1));
  auto fb = torch::zeros({n_freqs, c.n_mels}, torch::kFloat64);
  auto freqs = all_freqs.accessor<double, 1>();
  auto out = fb.accessor<double, 2>();
  for (int m = 0; m < c.n_mels; ++m) {
    double lo = f_pts[m], mid = f_pts[m + 1], hi = f_pts[m + 2];
    double enorm = 2.0 / (hi - lo);  // Slaney: each triangle has unit area
    for (int64_t f = 0; f < n_freqs; ++f) {
      double down = (freqs[f] - lo) / (mid - lo);
      double up = (hi - freqs[f]) / (hi - mid);
      out[f][m] = std::max(0.0, std::min(down, up)) * enorm;
    }
  }
  return fb.to(torch::kFloat32);
}

torch::Tensor MagnitudeSpectrogram(const torch::Tensor& wave, const AudioConfig& c,
                                   const torch::Tensor& window) {
  auto spec = torch::stft(wave, c.n_fft, c.hop_length, c.win_length, window, c.center, "reflect",
                          /*normalized=*/false, /*onesided=*/true, /*return_complex=*/true);
  return spec.abs();
}

torch::Tensor ToTensor(const FloatMatrix& m) {
  return torch::from_blob(const_cast<float*>(m.data.data()), {m.rows, m.cols}, torch::kFloat32).clone();
}

FloatMatrix FromTensor(const torch::Tensor& t) {
  auto c = t.to(torch::kFloat32).contiguous().cpu();
  FloatMatrix m;
  m.rows = c.size(0);
  m.cols = c.size(1);
  m.data.assign(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
  return m;
}

struct MelExtractor::Impl {
  torch::Tensor window;   // periodic Hann of win_length
  torch::Tensor fb_t;     // [n_mels, n_freqs], contiguous for the matmul
};

MelExtractor::MelExtractor(const AudioConfig& config) : config_(config), impl_(std::make_unique<Impl>()) {
  torch::NoGradGuard no_grad;
  impl_->window = torch::hann_window(config.win_length, torch::TensorOptions().dtype(torch::kFloat32));
  impl_->fb_t = SlaneyMelFilterbank(config).t().contiguous();
}

MelExtractor::~MelExtractor() = default;

int64_t MelExtractor::NumFrames(int64_t n) const {
  if (config_.center) return 1 + n / config_.hop_length;
  return n < config_.n_fft ? 0 : 1 + (n - config_.n_fft) / config_.hop_length;
}

FloatMatrix MelExtractor::Compute(const std::vector<float>& mono) const {
  torch::NoGradGuard no_grad;
  int64_t n = static_cast<int64_t>(mono.size());
  // Reflect padding needs more samples than the pad; very short clips are zero-padded first.
  std::vector<float> padded;
  const std::vector<float>* src = &mono;
  if (config_.center && n <= config_.n_fft / 2) {
    padded = mono;
    padded.resize(config_.n_fft / 2 + 1, 0.0f);
    src = &padded;
  } else if (!config_.center && n < config_.n_fft) {
    padded = mono;
    padded.resize(config_.n_fft, 0.0f);
    src = &padded;
  }
  auto wave = torch::from_blob(const_cast<float*>(src->data()), {static_cast<int64_t>(src->size())},
                               torch::kFloat32);
  auto mag = MagnitudeSpectrogram(wave, config_, impl_->window);
  auto mel = torch::matmul(impl_->fb_t, mag).clamp_min(config_.log_clamp).log_();
  int64_t frames = std::max<int64_t>(NumFrames(n), 1);
  return FromTensor(mel.narrow(1, 0, std::min(frames, mel.size(1))));
}

FloatMatrix MelExtractor::Filterbank() const { return FromTensor(impl_->fb_t.t()); }

}  // namespace ttsd::core
