#include "core/audio/griffin_lim.h"

#include "core/audio/mel_torch.h"

namespace ttsd::core {

std::vector<float> GriffinLim(const FloatMatrix& log_mel, const AudioConfig& c, int iterations,
                              uint64_t seed) {
  torch::NoGradGuard no_grad;
  auto mel = ToTensor(log_mel).exp();                      // [n_mels, T]
  auto fb = SlaneyMelFilterbank(c);                        // [n_freqs, n_mels]
  auto linear = torch::matmul(torch::pinverse(fb.t()), mel).clamp_min(1e-8);  // [n_freqs, T]
  auto window = torch::hann_window(c.win_length, torch::kFloat32);
  int64_t length = (log_mel.cols - (c.center ? 1 : 0)) * c.hop_length + (c.center ? 0 : c.n_fft);

  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  auto angles = torch::rand(linear.sizes(), gen, torch::kFloat32) * (2 * M_PI);
  auto phase = torch::polar(torch::ones_like(linear), angles);
  auto previous = torch::zeros_like(phase);
  const double momentum = 0.99;
  torch::Tensor wave;
  for (int i = 0; i < iterations; ++i) {
    wave = torch::istft(linear * phase, c.n_fft, c.hop_length, c.win_length, window, c.center,
                        /*normalized=*/false, /*onesided=*/true, length);
    auto rebuilt = torch::stft(wave, c.n_fft, c.hop_length, c.win_length, window, c.center, "reflect",
                               false, true, true);
    rebuilt = rebuilt.narrow(1, 0, std::min(rebuilt.size(1), phase.size(1)));
    auto accelerated = rebuilt - previous * (momentum / (1 + momentum));
    previous = rebuilt;
    phase = accelerated / (accelerated.abs() + 1e-16);
  }
  wave = torch::istft(linear * phase, c.n_fft, c.hop_length, c.win_length, window, c.center, false, true,
                      length);
  auto peak = wave.abs().max().item<float>();
  if (peak > 0.99f) wave = wave * (0.99f / peak);
  wave = wave.contiguous();
  return std::vector<float>(wave.data_ptr<float>(), wave.data_ptr<float>() + wave.numel());
}

}  // namespace ttsd::core
