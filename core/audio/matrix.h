// A row-major float matrix: the torch-free currency between audio code and the rest (mels are
// [n_mels, frames]).
#pragma once

#include <cstdint>
#include <vector>

namespace ttsd::core {

struct FloatMatrix {
  int64_t rows = 0;
  int64_t cols = 0;
  std::vector<float> data;  // rows * cols, row-major

  float at(int64_t r, int64_t c) const { return data[r * cols + c]; }
};

}  // namespace ttsd::core
