// Monotonic Alignment Search (Glow-TTS): the most likely monotonic, surjective alignment of text
// tokens to mel frames by dynamic programming over log-likelihoods. Runs outside autograd, in C++,
// one batch item per thread.
#pragma once

#include <torch/torch.h>

namespace ttsd::core::models {

// log_p: [B, T_text, T_mel] (float), text_lengths / mel_lengths: [B] int64.
// Returns a {0, 1} float path [B, T_text, T_mel]: each frame belongs to exactly one token, tokens
// appear in order, and every token gets at least one frame (needs mel_length >= text_length).
torch::Tensor MonotonicAlignmentSearch(const torch::Tensor& log_p, const torch::Tensor& text_lengths,
                                       const torch::Tensor& mel_lengths);

}  // namespace ttsd::core::models
