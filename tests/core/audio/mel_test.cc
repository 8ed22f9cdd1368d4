#include <gtest/gtest.h>

#include <cmath>

#include "core/audio/griffin_lim.h"
#include "core/audio/mcd.h"
#include "core/audio/mel.h"
#include "core/audio/npy.h"
#include "core/audio/wav.h"
#include "tests/testing/temp_dir.h"

namespace ttsd::core {
namespace {

// tests/data/golden_mel_espeak-a.npy was made by tests/data/golden_mel.py with torchaudio 0.13
// (Debian python3-torchaudio): MelSpectrogram(22050 Hz, n_fft 1024, hop 256, win 1024, 80 mels,
// fmin 0, fmax 8000, power=1, norm="slaney", mel_scale="slaney"), then log(clamp(x, 1e-5)), on
// tests/data/wavs/espeak-a.wav (see tests/data/make_test_data.sh).
TEST(MelTest, MatchesTorchaudioGolden) {
  auto audio = ReadAudio(testing::TestWav("espeak-a.wav"));
  ASSERT_TRUE(audio.ok());
  ASSERT_EQ(audio->sample_rate, 22050);
  auto golden = ReadNpy(testing::TestDataDir() + "/golden_mel_espeak-a.npy");
  ASSERT_TRUE(golden.ok()) << golden.status();

  MelExtractor mel(AudioConfig{});
  FloatMatrix m = mel.Compute(audio->samples);
  ASSERT_EQ(m.rows, golden->rows);
  ASSERT_EQ(m.cols, golden->cols);
  EXPECT_EQ(m.cols, mel.NumFrames(static_cast<int64_t>(audio->samples.size())));
  double max_err = 0;
  for (size_t i = 0; i < m.data.size(); ++i) max_err = std::max(max_err, std::fabs(double(m.data[i]) - golden->data[i]));
  EXPECT_LT(max_err, 1e-4);
}

TEST(MelTest, FilterbankTrianglesHaveUnitArea) {
  AudioConfig c;
  MelExtractor mel(c);
  FloatMatrix fb = mel.Filterbank();
  ASSERT_EQ(fb.rows, c.n_fft / 2 + 1);
  ASSERT_EQ(fb.cols, c.n_mels);
  // Slaney normalisation: each filter's area over Hz is ~1 (sum * bin width).
  double bin_hz = c.sample_rate / 2.0 / (fb.rows - 1);
  for (int m = 5; m < c.n_mels; ++m) {  // the narrowest low filters are undersampled by the FFT grid
    double area = 0;
    for (int64_t f = 0; f < fb.rows; ++f) area += fb.at(f, m) * bin_hz;
    EXPECT_NEAR(area, 1.0, 0.1) << "filter " << m;
  }
}

TEST(MelTest, ShortAndSilentInputsDoNotCrash) {
  MelExtractor mel(AudioConfig{});
  FloatMatrix a = mel.Compute(std::vector<float>(10, 0.0f));
  EXPECT_EQ(a.rows, 80);
  EXPECT_GE(a.cols, 1);
  for (float v : a.data) EXPECT_FLOAT_EQ(v, std::log(1e-5f));
}

TEST(GriffinLimTest, ReconstructionHasTheSameMel) {
  auto audio = ReadAudio(testing::TestWav("espeak-a.wav"));
  ASSERT_TRUE(audio.ok());
  AudioConfig c;
  MelExtractor mel(c);
  FloatMatrix m = mel.Compute(audio->samples);
  std::vector<float> wave = GriffinLim(m, c, 32);
  EXPECT_NEAR(static_cast<double>(wave.size()), static_cast<double>(audio->samples.size()), c.hop_length);
  FloatMatrix back = mel.Compute(wave);
  ASSERT_EQ(back.rows, m.rows);
  // Compare on frames with speech: mean absolute log-mel error well under that of silence vs speech.
  double err = 0, spread = 0;
  int64_t n = 0, cols = std::min(back.cols, m.cols);
  for (int64_t r = 0; r < m.rows; ++r) {
    for (int64_t t = 0; t < cols; ++t) {
      if (m.at(r, t) < -6) continue;
      err += std::fabs(back.at(r, t) - m.at(r, t));
      spread += std::fabs(m.at(r, t) - std::log(1e-5));
      ++n;
    }
  }
  ASSERT_GT(n, 1000);
  EXPECT_LT(err / n, 0.15 * spread / n);
}

// MCD: zero for the same spectrogram, also slowed down (DTW absorbs timing) or louder (c0 is left out);
// different speech is several dB away.
TEST(MelCepstralDistortionTest, IgnoresTimingAndLoudnessMeasuresSpectralShape) {
  AudioConfig c;
  MelExtractor mel(c);
  auto mel_of = [&](const char* wav) {
    auto audio = ReadAudio(testing::TestWav(wav));
    EXPECT_TRUE(audio.ok()) << wav;
    return mel.Compute(audio->samples);
  };
  FloatMatrix a = mel_of("espeak-a.wav");
  EXPECT_NEAR(MelCepstralDistortion(a, a), 0.0, 1e-9);
  FloatMatrix slow{a.rows, a.cols * 2, std::vector<float>(a.data.size() * 2)};
  FloatMatrix loud = a;
  for (int64_t r = 0; r < a.rows; ++r) {
    for (int64_t t = 0; t < a.cols; ++t) {
      slow.data[r * slow.cols + 2 * t] = slow.data[r * slow.cols + 2 * t + 1] = a.at(r, t);
      loud.data[r * a.cols + t] += 1.5f;
    }
  }
  EXPECT_NEAR(MelCepstralDistortion(a, slow), 0.0, 1e-9);
  EXPECT_NEAR(MelCepstralDistortion(a, loud), 0.0, 1e-4);
  const double other = MelCepstralDistortion(a, mel_of("slt-a.wav"));
  EXPECT_GT(other, 1.0);
  EXPECT_LT(other, 40.0);
  EXPECT_TRUE(std::isnan(MelCepstralDistortion(a, FloatMatrix{})));
}

}  // namespace
}  // namespace ttsd::core
