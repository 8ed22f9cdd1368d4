#include "core/train/precision.h"

#include <ATen/autocast_mode.h>
#include <torch/version.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace ttsd::core::train {
namespace {

// The autocast switches were renamed in LibTorch 2.4 (per device type); the old names are deprecated.
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
void SetCudaAutocast(bool on, at::ScalarType dtype) {
  at::autocast::set_autocast_enabled(at::kCUDA, on);
  if (on) at::autocast::set_autocast_dtype(at::kCUDA, dtype);
}
#else
void SetCudaAutocast(bool on, at::ScalarType dtype) {
  at::autocast::set_enabled(on);
  if (on) at::autocast::set_autocast_gpu_dtype(dtype);
}
#endif

}  // namespace

absl::StatusOr<torch::Device> ResolveDevice(const std::string& spec) {
  if (spec == "cpu") return torch::Device(torch::kCPU);
  int index = 0;
  if (spec != "cuda" && !(spec.rfind("cuda:", 0) == 0 && absl::SimpleAtoi(spec.substr(5), &index) && index >= 0)) {
    return absl::InvalidArgumentError(absl::StrCat("device ", spec, ": must be cpu, cuda or cuda:N"));
  }
  if (!torch::cuda::is_available()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "device ", spec, ": no CUDA device is usable (this LibTorch was built without CUDA, or no GPU/driver is "
        "visible); train with --device cpu, or run a CUDA build of ttsd on a GPU machine"));
  }
  const int count = static_cast<int>(torch::cuda::device_count());
  if (index >= count) {
    return absl::FailedPreconditionError(
        absl::StrCat("device ", spec, ": only ", count, " CUDA device(s) visible (cuda:0..cuda:", count - 1, ")"));
  }
  return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(index));
}

AutocastScope::AutocastScope(const torch::Device& device, const std::string& precision) {
  if (!device.is_cuda() || precision == "fp32") return;
  SetCudaAutocast(true, precision == "bf16" ? at::kBFloat16 : at::kHalf);
  active_ = true;
}

AutocastScope::~AutocastScope() {
  if (!active_) return;
  SetCudaAutocast(false, at::kFloat);
  at::autocast::clear_cache();
}

void LossScaler::Unscale(const std::vector<torch::Tensor>& params) const {
  if (!enabled) return;
  torch::NoGradGuard no_grad;
  for (const auto& p : params) {
    if (p.grad().defined()) p.grad().mul_(1.0 / scale);
  }
}

void LossScaler::Update(bool finite) {
  if (!enabled) return;
  if (!finite) {
    scale = std::max(scale * 0.5, 1.0);
    good_steps = 0;
  } else if (++good_steps >= growth_interval) {
    scale *= 2.0;
    good_steps = 0;
  }
}

}  // namespace ttsd::core::train
