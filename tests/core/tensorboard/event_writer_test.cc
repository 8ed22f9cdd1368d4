#include "core/tensorboard/event_writer.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/tensorboard/crc32c.h"
#include "tests/core/tensorboard/event_file_reader.h"
#include "tests/testing/temp_dir.h"

namespace ttsd::core::tensorboard {
namespace {

TEST(Crc32cTest, KnownValues) {
  EXPECT_EQ(Crc32c("123456789", 9), 0xE3069283u);  // the CRC-32C check value
  EXPECT_EQ(Crc32c("", 0), 0u);
  EXPECT_NE(MaskCrc(0xE3069283u), 0xE3069283u);
}

TEST(PngTest, HeatmapHasTheMatrixShapeTimesScaleAndLowRowsAtTheBottom) {
  FloatMatrix m{2, 3, {0, 0, 0, 1, 1, 1}};  // row 1 (the higher one) is bright
  RgbImage img = Heatmap(m, 2);
  EXPECT_EQ(img.width, 6);
  EXPECT_EQ(img.height, 4);
  EXPECT_GT(img.pixels[1], img.pixels[(3 * 6) * 3 + 1]);  // top-left greener (brighter) than bottom-left
  RgbImage both = StackVertically({img, Heatmap(FloatMatrix{1, 1, {0}}, 1)});
  EXPECT_EQ(both.width, 6);
  EXPECT_EQ(both.height, 4 + 2 + 1);
  std::string png = EncodePng(both);
  ASSERT_GT(png.size(), 33u);
  EXPECT_EQ(png.substr(1, 3), "PNG");
  EXPECT_EQ(png.substr(12, 4), "IHDR");
}

class EventWriterTest : public ::testing::Test {
 protected:
  std::string WriteSome() {
    auto w = EventWriter::Create(tmp_.Join("events"));
    EXPECT_TRUE(w.ok()) << w.status();
    EXPECT_TRUE((*w)->Scalars(5, {{"train/loss", 1.5}, {"lr", 1e-4}}).ok());
    EXPECT_TRUE((*w)->Audio(6, "samples/a", std::string("RIFF....WAVE"), 22050, 3).ok());
    EXPECT_TRUE((*w)->Image(7, "mel/a", Heatmap(FloatMatrix{2, 2, {0, 1, 2, 3}}, 1)).ok());
    EXPECT_TRUE((*w)->SessionStart(8).ok());
    return (*w)->path();
  }
  testing::TempDir tmp_;
};

TEST_F(EventWriterTest, EveryRecordReadsBackIntact) {
  const std::string path = WriteSome();
  EXPECT_NE(path.find("/events/events.out.tfevents."), std::string::npos);
  testing::EventFile f = testing::ReadEventFile(path);
  ASSERT_EQ(f.error, "");
  EXPECT_FALSE(f.truncated_tail);
  ASSERT_EQ(f.events.size(), 5u);
  EXPECT_EQ(f.events[0].file_version(), "brain.Event:2");
  EXPECT_GT(f.events[0].wall_time(), 1.7e9);
  const auto& scalars = f.events[1].summary();
  EXPECT_EQ(f.events[1].step(), 5);
  ASSERT_EQ(scalars.value_size(), 2);
  EXPECT_EQ(scalars.value(0).tag(), "lr");
  EXPECT_FLOAT_EQ(scalars.value(1).simple_value(), 1.5f);
  const auto& audio = f.events[2].summary().value(0).audio();
  EXPECT_EQ(audio.sample_rate(), 22050.0f);
  EXPECT_EQ(audio.content_type(), "audio/wav");
  EXPECT_EQ(audio.encoded_audio_string(), "RIFF....WAVE");
  const auto& image = f.events[3].summary().value(0).image();
  EXPECT_EQ(image.width(), 2);
  EXPECT_EQ(image.colorspace(), 3);
  EXPECT_EQ(f.events[4].session_log().status(), ttsd::tensorboard::SessionLog::START);
  EXPECT_EQ(f.events[4].step(), 8);
}

TEST_F(EventWriterTest, TwoWritersInOneSecondGetTwoFiles) {
  const std::string a = WriteSome(), b = WriteSome();
  EXPECT_NE(a, b);
  EXPECT_EQ(testing::EventFilesIn(tmp_.Join("events")), (std::vector<std::string>{a, b}));
}

// A crash mid-write leaves a partial last record: the reader keeps every complete one. A flipped byte
// inside a record is an error, not a silent skip.
TEST_F(EventWriterTest, TruncatedTailIsToleratedCorruptionIsNot) {
  const std::string path = WriteSome();
  const auto size = std::filesystem::file_size(path);
  for (uintmax_t cut : {1, 5, 13}) {
    std::filesystem::copy_file(path, path + ".cut", std::filesystem::copy_options::overwrite_existing);
    std::filesystem::resize_file(path + ".cut", size - cut);
    testing::EventFile f = testing::ReadEventFile(path + ".cut");
    EXPECT_EQ(f.error, "") << cut;
    EXPECT_TRUE(f.truncated_tail) << cut;
    EXPECT_EQ(f.events.size(), 4u) << cut;
  }
  {
    std::fstream io(path, std::ios::in | std::ios::out | std::ios::binary);
    io.seekp(40);
    io.put('\x7f');
  }
  EXPECT_NE(testing::ReadEventFile(path).error, "");
}

}  // namespace
}  // namespace ttsd::core::tensorboard
