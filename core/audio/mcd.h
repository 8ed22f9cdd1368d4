// Mel-cepstral distortion (MCD, in dB) between a synthesized and a recorded utterance, on their log-mel
// spectrograms. Each frame's cepstrum is the DCT-II of its log-mel, scaled as a cepstrum (c_k = 1/M sum_i
// log S_i cos(pi k (i + 0.5) / M)); c0 (loudness) is left out and c1..c_n compared. The two frame sequences are aligned with dynamic time warping (the model's
// timing is not the speaker's), and MCD = 10/ln(10) * sqrt(2 * sum_d (c_d - c'_d)^2), averaged over the
// warping path. Lower is closer; identical spectrograms give 0.
#pragma once

#include "core/audio/matrix.h"

namespace ttsd::core {

constexpr int kMcdCoefficients = 24;

// a, b: [n_mels, frames] natural-log mel spectrograms with the same n_mels (frames may differ).
double MelCepstralDistortion(const FloatMatrix& a, const FloatMatrix& b, int n_coefficients = kMcdCoefficients);

}  // namespace ttsd::core
