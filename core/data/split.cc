#include "core/data/split.h"

#include <algorithm>
#include <cmath>
#include <unordered_map>

namespace ttsd::core {

uint64_t SplitMix64::Next() {
  uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

uint64_t SplitMix64::Below(uint64_t n) {
  // Rejection sampling removes modulo bias.
  uint64_t limit = UINT64_MAX - UINT64_MAX % n;
  uint64_t x;
  do {
    x = Next();
  } while (x >= limit);
  return x % n;
}

Split SplitTrainValidation(const std::vector<std::string>& ids, const ValidationSplitConfig& config,
                           const std::vector<std::string>& file_list_ids, uint64_t seed) {
  Split s;
  std::vector<bool> is_val(ids.size(), false);
  if (!config.file_list.empty()) {
    std::unordered_map<std::string, size_t> index;
    for (size_t i = 0; i < ids.size(); ++i) index[ids[i]] = i;
    for (const auto& id : file_list_ids) {
      auto it = index.find(id);
      if (it == index.end()) {
        s.missing.push_back(id);
      } else {
        is_val[it->second] = true;
      }
    }
  } else {
    size_t n = config.count > 0 ? static_cast<size_t>(config.count)
                                : static_cast<size_t>(std::lround(config.fraction * ids.size()));
    n = std::min(n, ids.empty() ? 0 : ids.size() - 1);
    std::vector<size_t> order(ids.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    SplitMix64 rng(seed ^ 0x5eed5011u);
    DeterministicShuffle(&order, &rng);
    for (size_t i = 0; i < n; ++i) is_val[order[i]] = true;
  }
  for (size_t i = 0; i < ids.size(); ++i) (is_val[i] ? s.validation : s.train).push_back(i);
  return s;
}

}  // namespace ttsd::core
