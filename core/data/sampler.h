// Length-bucketed batch sampler. Each epoch's batch list is a pure function of (seed, epoch): shuffle,
// group utterances of similar length (bucket_width frames), pack batches under a padded-frame budget
// (batch_size * longest <= max_frames) or a fixed size, shuffle the batch order. A position
// (epoch, batch) therefore pins the exact next batch, which is what mid-epoch resume needs.
// Immutable; thread-safe.
#pragma once

#include <cstdint>
#include <vector>

#include "core/config/train_config.h"

namespace ttsd::core {

struct SamplerPosition {
  int64_t epoch = 0;
  int64_t batch = 0;  // index of the next batch within the epoch
  bool operator==(const SamplerPosition& o) const { return epoch == o.epoch && batch == o.batch; }
};

class BucketSampler {
 public:
  // `frames[i]` is item i's length. shuffle=false (validation): the same length-sorted batches always.
  BucketSampler(std::vector<int64_t> frames, const BatchConfig& config, uint64_t seed, bool shuffle = true);

  std::vector<std::vector<size_t>> EpochBatches(int64_t epoch) const;
  size_t size() const { return frames_.size(); }

 private:
  std::vector<int64_t> frames_;
  BatchConfig config_;
  uint64_t seed_;
  bool shuffle_;
};

}  // namespace ttsd::core
