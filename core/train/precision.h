// Where and in what precision a run computes: the training device, CUDA autocast for bf16/fp16, and the
// dynamic loss scaling fp16 needs (the C++ frontend has no GradScaler). The CPU always trains in fp32.
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace ttsd::core::train {

// "cpu", "cuda" (device 0) or "cuda:N" -> a device this process can use, or an error that says why not.
absl::StatusOr<torch::Device> ResolveDevice(const std::string& spec);

// While alive, CUDA ops run under autocast in `precision` (bf16 or fp16); a no-op for fp32 or the CPU.
class AutocastScope {
 public:
  AutocastScope(const torch::Device& device, const std::string& precision);
  ~AutocastScope();
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

 private:
  bool active_ = false;
};

// Dynamic loss scaling as PyTorch's GradScaler: multiply the loss by `scale` before backward, divide
// the gradients by it after; an overflow (a non-finite gradient) skips the step and halves the scale;
// `growth_interval` good steps in a row double it. Disabled (scale 1, never changes) unless fp16.
struct LossScaler {
  bool enabled = false;
  double scale = 65536.0;
  int64_t good_steps = 0;  // finite steps since the last change
  int64_t growth_interval = 2000;

  torch::Tensor Scale(const torch::Tensor& loss) const { return enabled ? loss * scale : loss; }
  // Divides every gradient by the scale.
  void Unscale(const std::vector<torch::Tensor>& params) const;
  // After a step: `finite` says whether the gradients were finite.
  void Update(bool finite);
};

}  // namespace ttsd::core::train
