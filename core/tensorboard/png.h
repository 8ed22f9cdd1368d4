// Just enough image code for TensorBoard figures: a float matrix drawn as a heat map (row 0 at the
// bottom, as spectrograms are shown) and an 8-bit RGB PNG encoder (zlib for the pixel data).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/audio/matrix.h"

namespace ttsd::core::tensorboard {

struct RgbImage {
  int width = 0;
  int height = 0;
  std::vector<uint8_t> pixels;  // height * width * 3, top row first
};

// Values mapped linearly from [lo, hi] (default: the matrix's own min and max) onto a dark-blue ->
// yellow scale; each matrix cell becomes scale x scale pixels.
RgbImage Heatmap(const FloatMatrix& m, int scale = 1);
RgbImage Heatmap(const FloatMatrix& m, int scale, float lo, float hi);
// Images stacked top to bottom (narrower ones padded with black), separated by a 2-pixel white line.
RgbImage StackVertically(const std::vector<RgbImage>& parts);

std::string EncodePng(const RgbImage& image);

}  // namespace ttsd::core::tensorboard
