// Train/validation split: deterministic for (ids, seed), or an explicit list of validation ids.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/config/train_config.h"

namespace ttsd::core {

struct Split {
  std::vector<size_t> train;        // indices into the ids given, ascending
  std::vector<size_t> validation;   // ascending
  std::vector<std::string> missing; // file_list ids that are not in the dataset
};

// `file_list_ids` (already read from validation.file_list) wins over count, count over fraction.
// At least one utterance stays in training.
Split SplitTrainValidation(const std::vector<std::string>& ids, const ValidationSplitConfig& config,
                           const std::vector<std::string>& file_list_ids, uint64_t seed);

// A small deterministic generator (SplitMix64) and shuffle, identical on every platform and standard
// library, so splits and batch orders are reproducible anywhere.
class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}
  uint64_t Next();
  uint64_t Below(uint64_t n);  // uniform in [0, n)

 private:
  uint64_t state_;
};

template <class T>
void DeterministicShuffle(std::vector<T>* v, SplitMix64* rng) {
  for (size_t i = v->size(); i > 1; --i) std::swap((*v)[i - 1], (*v)[rng->Below(i)]);
}

}  // namespace ttsd::core
