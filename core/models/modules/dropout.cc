#include "core/models/modules/dropout.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>

#include <cmath>
#include <mutex>

namespace ttsd::core::models {
namespace {

uint64_t SplitMix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

uint64_t NextSeed() {
  auto gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  return gen.get<at::CPUGeneratorImpl>()->random64();
}

}  // namespace

torch::Tensor HashDropout(const torch::Tensor& x, double p, bool training) {
  if (!training || p <= 0.0) return x;
  if (!x.device().is_cpu() || x.scalar_type() != torch::kFloat32) return torch::dropout(x, p, /*train=*/true);
  // One hash gives four 16-bit draws; an element is dropped when its draw is below `threshold`.
  const uint32_t threshold = static_cast<uint32_t>(std::lround(p * 65536.0));
  const float scale = threshold >= 65536 ? 0.0f : static_cast<float>(65536.0 / (65536.0 - threshold));
  const uint64_t seed = NextSeed();
  auto mask = torch::empty(x.sizes(), x.options().requires_grad(false));
  float* m = mask.data_ptr<float>();
  const int64_t n = mask.numel(), words = (n + 3) / 4;
  at::parallel_for(0, words, 4096, [&](int64_t begin, int64_t end) {
    for (int64_t w = begin; w < end; ++w) {
      uint64_t h = SplitMix64(seed + static_cast<uint64_t>(w) * 0x9e3779b97f4a7c15ULL);
      const int64_t first = w * 4, last = std::min<int64_t>(first + 4, n);
      for (int64_t i = first; i < last; ++i, h >>= 16) m[i] = (h & 0xffff) < threshold ? 0.0f : scale;
    }
  });
  return x * mask;
}

}  // namespace ttsd::core::models
