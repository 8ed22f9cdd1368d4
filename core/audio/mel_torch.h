// Tensor-level mel pieces shared by MelExtractor and Griffin-Lim. Includes LibTorch: only .cc files
// that already use torch include this.
#pragma once

#include <torch/torch.h>

#include "core/audio/matrix.h"
#include "core/config/train_config.h"

namespace ttsd::core {

// [n_fft/2 + 1, n_mels] Slaney mel filterbank with Slaney area normalisation (float32).
torch::Tensor SlaneyMelFilterbank(const AudioConfig& config);

// |STFT| (power 1) of a 1-D waveform: [n_fft/2 + 1, frames].
torch::Tensor MagnitudeSpectrogram(const torch::Tensor& wave, const AudioConfig& config,
                                   const torch::Tensor& window);

torch::Tensor ToTensor(const FloatMatrix& m);
FloatMatrix FromTensor(const torch::Tensor& t);  // 2-D

}  // namespace ttsd::core
