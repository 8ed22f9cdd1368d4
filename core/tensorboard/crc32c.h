// CRC-32C (Castagnoli), and the "masked" form TFRecord files store: a CRC of data that itself holds
// CRCs is easy to confuse with a real one, so TensorFlow rotates it and adds a constant.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ttsd::core::tensorboard {

uint32_t Crc32c(const void* data, size_t n);
uint32_t MaskCrc(uint32_t crc);

}  // namespace ttsd::core::tensorboard
