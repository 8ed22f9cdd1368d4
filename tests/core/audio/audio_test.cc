#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "core/audio/audio_stats.h"
#include "core/audio/npy.h"
#include "core/audio/resample.h"
#include "core/audio/wav.h"
#include "core/common/file_util.h"
#include "tests/testing/temp_dir.h"

namespace ttsd::core {
namespace {

using ::testing::HasSubstr;

TEST(WavTest, ReadsRealSpeech) {
  auto audio = ReadAudio(testing::TestWav("slt-a.wav"));
  ASSERT_TRUE(audio.ok()) << audio.status();
  EXPECT_EQ(audio->sample_rate, 16000);
  EXPECT_EQ(audio->channels, 1);
  EXPECT_GT(audio->frames(), 8000);
  AudioStats s = ComputeAudioStats(audio->samples);
  EXPECT_GT(s.peak, 0.1f);
  EXPECT_LT(s.peak, 1.0f);
  EXPECT_GT(s.rms_dbfs, -40);
}

TEST(WavTest, WriteReadRoundTripWithin16BitPrecision) {
  testing::TempDir tmp;
  std::vector<float> x(1000);
  for (size_t i = 0; i < x.size(); ++i) x[i] = 0.5f * std::sin(0.05f * i);
  ASSERT_TRUE(WriteWav16(tmp.Join("a.wav"), x, 22050).ok());
  auto back = ReadAudio(tmp.Join("a.wav"));
  ASSERT_TRUE(back.ok());
  ASSERT_EQ(back->samples.size(), x.size());
  EXPECT_EQ(back->sample_rate, 22050);
  for (size_t i = 0; i < x.size(); ++i) EXPECT_NEAR(back->samples[i], x[i], 1.0 / 32767);
}

TEST(WavTest, MissingFileIsNotFound) {
  auto a = ReadAudio("/no/such.wav");
  EXPECT_EQ(a.status().code(), absl::StatusCode::kNotFound);
}

TEST(WavTest, TruncatedFileIsDataLoss) {
  testing::TempDir tmp;
  auto bytes = ReadFileToString(testing::TestWav("slt-a.wav"));
  ASSERT_TRUE(bytes.ok());
  testing::WriteTextFile(tmp.Join("cut.wav"), bytes->substr(0, bytes->size() / 2));
  auto a = ReadAudio(tmp.Join("cut.wav"));
  // libsndfile either rejects the header or reads fewer frames than it promises; both are errors.
  if (a.ok()) FAIL() << "truncated file read as " << a->frames() << " frames";
  EXPECT_EQ(a.status().code(), absl::StatusCode::kDataLoss);
}

TEST(WavTest, GarbageIsDataLossWithPath) {
  testing::TempDir tmp;
  testing::WriteTextFile(tmp.Join("junk.wav"), "RIFF\x10\0\0\0WAVEthis is not audio");
  auto a = ReadAudio(tmp.Join("junk.wav"));
  EXPECT_EQ(a.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(a.status().message()), HasSubstr("junk.wav"));
}

// Found by fuzz/wav_fuzzer: a 4 KB FLAC whose header claims hours of audio made the reader allocate what
// the header said (157 GB). Now it reads what the file holds and reports the lie.
TEST(WavTest, AHeaderClaimingHugeLengthIsAnErrorNotAnAllocation) {
  auto a = ReadAudio(std::string(TTSD_SOURCE_DIR) + "/fuzz/regressions/wav/flac-header-claims-huge-length.flac");
  ASSERT_FALSE(a.ok());
  EXPECT_THAT(std::string(a.status().message()), ::testing::AnyOf(HasSubstr("truncated"), HasSubstr("not read")));
}

TEST(WavTest, ToMonoAverages) {
  Audio a{8000, 2, {1.0f, 0.0f, 0.5f, 0.5f}};
  Audio m = ToMono(a);
  EXPECT_EQ(m.channels, 1);
  EXPECT_THAT(m.samples, ::testing::ElementsAre(0.5f, 0.5f));
}

TEST(ResampleTest, ChangesLengthAndKeepsATone) {
  std::vector<float> x(16000);
  for (size_t i = 0; i < x.size(); ++i) x[i] = std::sin(2 * M_PI * 440.0 * i / 16000.0);
  auto y = Resample(x, 16000, 22050);
  ASSERT_TRUE(y.ok());
  EXPECT_NEAR(static_cast<double>(y->size()), 22050.0, 2.0);
  // Away from the edges the output is the same 440 Hz sine sampled at 22.05 kHz.
  double err = 0;
  for (size_t i = 2000; i < 20000; ++i) err = std::max(err, std::fabs((*y)[i] - std::sin(2 * M_PI * 440.0 * i / 22050.0)));
  EXPECT_LT(err, 0.01);
}

TEST(NpyTest, RoundTripAndRejectsOtherDtypes) {
  testing::TempDir tmp;
  FloatMatrix m{2, 3, {1, 2, 3, 4, 5, 6}};
  ASSERT_TRUE(WriteNpy(tmp.Join("m.npy"), m).ok());
  auto back = ReadNpy(tmp.Join("m.npy"));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->rows, 2);
  EXPECT_EQ(back->cols, 3);
  EXPECT_EQ(back->data, m.data);
  testing::WriteTextFile(tmp.Join("bad.npy"), "not numpy at all");
  EXPECT_EQ(ReadNpy(tmp.Join("bad.npy")).status().code(), absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace ttsd::core
