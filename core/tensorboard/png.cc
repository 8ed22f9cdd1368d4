#include "core/tensorboard/png.h"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cmath>

namespace ttsd::core::tensorboard {
namespace {

// A few points of a perceptually ordered scale (close to viridis), interpolated linearly.
constexpr std::array<std::array<float, 3>, 5> kScale = {{
    {68, 1, 84}, {59, 82, 139}, {33, 145, 140}, {94, 201, 98}, {253, 231, 37},
}};

void Colour(float t, uint8_t* out) {
  t = std::clamp(t, 0.0f, 1.0f) * static_cast<float>(kScale.size() - 1);
  const size_t i = std::min(static_cast<size_t>(t), kScale.size() - 2);
  const float f = t - static_cast<float>(i);
  for (int c = 0; c < 3; ++c) {
    out[c] = static_cast<uint8_t>(std::lround(kScale[i][c] * (1 - f) + kScale[i + 1][c] * f));
  }
}

void PutU32(std::string* s, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) s->push_back(static_cast<char>((v >> shift) & 0xFF));
}

void Chunk(std::string* png, const char type[4], const std::string& data) {
  PutU32(png, static_cast<uint32_t>(data.size()));
  std::string body(type, 4);
  body += data;
  png->append(body);
  PutU32(png, static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(body.data()), static_cast<uInt>(body.size()))));
}

}  // namespace

RgbImage Heatmap(const FloatMatrix& m, int scale) {
  if (m.data.empty()) return {};
  auto [lo, hi] = std::minmax_element(m.data.begin(), m.data.end());
  return Heatmap(m, scale, *lo, *hi);
}

RgbImage Heatmap(const FloatMatrix& m, int scale, float lo, float hi) {
  RgbImage img;
  if (m.rows == 0 || m.cols == 0) return img;
  scale = std::max(scale, 1);
  img.width = static_cast<int>(m.cols) * scale;
  img.height = static_cast<int>(m.rows) * scale;
  img.pixels.resize(static_cast<size_t>(img.width) * img.height * 3);
  const float range = hi - lo > 1e-12f ? hi - lo : 1.0f;
  for (int y = 0; y < img.height; ++y) {
    const int64_t row = m.rows - 1 - y / scale;  // row 0 (lowest frequency, first symbol) at the bottom
    for (int x = 0; x < img.width; ++x) {
      Colour((m.at(row, x / scale) - lo) / range, &img.pixels[(static_cast<size_t>(y) * img.width + x) * 3]);
    }
  }
  return img;
}

RgbImage StackVertically(const std::vector<RgbImage>& parts) {
  constexpr int kGap = 2;
  RgbImage out;
  for (const auto& p : parts) {
    out.width = std::max(out.width, p.width);
    out.height += p.height;
  }
  if (parts.size() > 1) out.height += kGap * static_cast<int>(parts.size() - 1);
  out.pixels.assign(static_cast<size_t>(out.width) * out.height * 3, 0);
  int y0 = 0;
  for (size_t i = 0; i < parts.size(); ++i) {
    const RgbImage& p = parts[i];
    for (int y = 0; y < p.height; ++y) {
      std::copy_n(&p.pixels[static_cast<size_t>(y) * p.width * 3], static_cast<size_t>(p.width) * 3,
                  &out.pixels[(static_cast<size_t>(y0 + y) * out.width) * 3]);
    }
    y0 += p.height;
    if (i + 1 < parts.size()) {
      std::fill_n(&out.pixels[static_cast<size_t>(y0) * out.width * 3], static_cast<size_t>(kGap) * out.width * 3, 255);
      y0 += kGap;
    }
  }
  return out;
}

std::string EncodePng(const RgbImage& image) {
  // Scanlines, each prefixed with filter type 0 (none), deflated as one zlib stream.
  std::string raw;
  raw.reserve(static_cast<size_t>(image.height) * (image.width * 3 + 1));
  for (int y = 0; y < image.height; ++y) {
    raw.push_back('\0');
    raw.append(reinterpret_cast<const char*>(&image.pixels[static_cast<size_t>(y) * image.width * 3]),
               static_cast<size_t>(image.width) * 3);
  }
  uLongf packed_size = compressBound(static_cast<uLong>(raw.size()));
  std::string packed(packed_size, '\0');
  compress2(reinterpret_cast<Bytef*>(packed.data()), &packed_size, reinterpret_cast<const Bytef*>(raw.data()),
            static_cast<uLong>(raw.size()), 6);
  packed.resize(packed_size);

  std::string png("\x89PNG\r\n\x1a\n", 8);
  std::string header;
  PutU32(&header, static_cast<uint32_t>(image.width));
  PutU32(&header, static_cast<uint32_t>(image.height));
  header += std::string("\x08\x02\x00\x00\x00", 5);  // 8-bit depth, RGB, deflate, adaptive filters, no interlace
  Chunk(&png, "IHDR", header);
  Chunk(&png, "IDAT", packed);
  Chunk(&png, "IEND", "");
  return png;
}

}  // namespace ttsd::core::tensorboard
