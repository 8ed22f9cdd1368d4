// Dropout whose CPU mask is a counter-based hash, filled in parallel.
//
// Why: LibTorch's CPU dropout draws its mask with a serial bernoulli_, which cost more than 5% of a
// base Glow-TTS training step on 2 cores while the other core waited (bench/BENCHMARKS.md). Here each
// call takes one 64-bit seed from the default CPU generator, so the mask is still a pure function of
// the generator state saved in checkpoints (exact resume holds) and does not depend on the thread count.
// Other devices use torch::dropout.
#pragma once

#include <torch/torch.h>

namespace ttsd::core::models {

// Zeroes each element with probability p (quantised to 1/65536) and scales the rest by 1/(1 - p).
torch::Tensor HashDropout(const torch::Tensor& x, double p, bool training);

struct DropoutImpl : torch::nn::Module {
  explicit DropoutImpl(double p_) : p(p_) {}
  torch::Tensor forward(const torch::Tensor& x) { return HashDropout(x, p, is_training()); }
  double p;
};
TORCH_MODULE(Dropout);

}  // namespace ttsd::core::models
