// NumPy .npy (format 1.0) for float32 matrices: `ttsd audio mel` output and golden test data.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "core/audio/matrix.h"

namespace ttsd::core {

absl::Status WriteNpy(const std::string& path, const FloatMatrix& m);
// Reads little-endian float32 ('<f4') C-order arrays of 1 or 2 dimensions (1-D comes back as 1 row).
absl::StatusOr<FloatMatrix> ReadNpy(const std::string& path);

}  // namespace ttsd::core
