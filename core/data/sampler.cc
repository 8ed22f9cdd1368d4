#include "core/data/sampler.h"

#include <algorithm>

#include "core/data/split.h"

namespace ttsd::core {

BucketSampler::BucketSampler(std::vector<int64_t> frames, const BatchConfig& config, uint64_t seed, bool shuffle)
    : frames_(std::move(frames)), config_(config), seed_(seed), shuffle_(shuffle) {}

std::vector<std::vector<size_t>> BucketSampler::EpochBatches(int64_t epoch) const {
  std::vector<size_t> order(frames_.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  SplitMix64 rng(seed_ * 0x9e3779b97f4a7c15ULL + static_cast<uint64_t>(epoch) + 1);
  if (shuffle_) DeterministicShuffle(&order, &rng);
  // Shuffled first, then stably grouped by bucket: similar lengths together, random within a bucket.
  const int64_t width = std::max(1, config_.bucket_width);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return frames_[a] / width < frames_[b] / width; });

  std::vector<std::vector<size_t>> batches;
  std::vector<size_t> current;
  int64_t longest = 0;
  for (size_t idx : order) {
    int64_t len = std::max<int64_t>(frames_[idx], 1);
    bool full = config_.size > 0
                    ? static_cast<int>(current.size()) >= config_.size
                    : !current.empty() && static_cast<int64_t>(current.size() + 1) * std::max(longest, len) > config_.max_frames;
    if (full) {
      batches.push_back(std::move(current));
      current.clear();
      longest = 0;
    }
    current.push_back(idx);
    longest = std::max(longest, len);
  }
  bool partial = config_.size > 0 && static_cast<int>(current.size()) < config_.size;
  if (!current.empty() && !(config_.drop_last && partial)) batches.push_back(std::move(current));
  if (shuffle_) DeterministicShuffle(&batches, &rng);
  return batches;
}

}  // namespace ttsd::core
