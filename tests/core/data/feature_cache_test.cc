#include <gtest/gtest.h>

#include <filesystem>

#include "core/audio/mel.h"
#include "core/audio/resample.h"
#include "core/audio/wav.h"
#include "core/config/config_yaml.h"
#include "core/data/dataset.h"
#include "core/data/feature_cache.h"
#include "tests/testing/temp_dir.h"

namespace ttsd::core {
namespace {

class FeatureCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::MakeDataset(tmp_.path(), {{"a", "slt-a.wav"}, {"b", "slt-b.wav"}, {"c", "rms-a.wav"}},
                         "a|The quick brown fox.\nb|Seven heavy boxes.\nc|A quiet garden.\n");
  }

  PreparedDataset Prepare(const std::string& audio_yaml = "", int shard_rank = 0, int shard_count = 1) {
    auto parsed = ParseConfigYaml("data:\n  path: " + tmp_.path() + "\n  cache_dir: " + tmp_.Join("cache") +
                                      "\ntext:\n  mode: characters\n" + audio_yaml, "t.yaml");
    EXPECT_TRUE(parsed.ok()) << parsed.status();
    config_ = parsed->config;
    auto tok = Tokenizer::Create(config_.text, SymbolTable::Default(config_.text));
    PrepareOptions opt;
    opt.show_progress = false;
    opt.shard_rank = shard_rank;
    opt.shard_count = shard_count;
    auto ds = PrepareDataset(config_, **tok, opt);
    EXPECT_TRUE(ds.ok()) << ds.status();
    return *std::move(ds);
  }

  testing::TempDir tmp_;
  TrainConfig config_;
};

// Data-parallel ranks fill a cold cache in shares (lines 0 and 2, then line 1), and the whole pass after
// them computes nothing.
TEST_F(FeatureCacheTest, ShardsFillTheCacheInSharesAndTheWholePassFindsItWarm) {
  PreparedDataset rank0 = Prepare("", 0, 2), rank1 = Prepare("", 1, 2);
  ASSERT_EQ(rank0.utterances.size(), 2u);
  EXPECT_EQ(rank0.utterances[0].utt.id, "a");
  EXPECT_EQ(rank0.utterances[1].utt.id, "c");
  ASSERT_EQ(rank1.utterances.size(), 1u);
  EXPECT_EQ(rank1.utterances[0].utt.id, "b");
  EXPECT_EQ(rank0.report.cache_misses + rank1.report.cache_misses, 3u);
  PreparedDataset whole = Prepare();
  EXPECT_EQ(whole.report.cache_hits, 3u);
  EXPECT_EQ(whole.report.cache_misses, 0u);
}

TEST_F(FeatureCacheTest, SecondRunIsAllHits) {
  PreparedDataset first = Prepare();
  EXPECT_EQ(first.report.cache_misses, 3u);
  EXPECT_EQ(first.report.cache_hits, 0u);
  PreparedDataset second = Prepare();
  EXPECT_EQ(second.report.cache_hits, 3u);
  EXPECT_EQ(second.report.cache_misses, 0u);
  ASSERT_EQ(second.utterances.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(second.utterances[i].feature_path, first.utterances[i].feature_path);
    EXPECT_EQ(second.utterances[i].frames, first.utterances[i].frames);
    EXPECT_DOUBLE_EQ(second.utterances[i].seconds, first.utterances[i].seconds);
  }
}

TEST_F(FeatureCacheTest, EntryHoldsTheMelOfTheResampledAudio) {
  PreparedDataset ds = Prepare();
  auto f = ReadFeatureFile(ds.utterances[0].feature_path);
  ASSERT_TRUE(f.ok()) << f.status();
  auto audio = ReadAudio(testing::TestWav("slt-a.wav"));
  auto resampled = Resample(audio->samples, 16000, 22050);
  FloatMatrix want = MelExtractor(config_.audio).Compute(*resampled);
  EXPECT_EQ(f->mel.rows, 80);
  EXPECT_EQ(f->mel.cols, want.cols);
  EXPECT_EQ(f->mel.data, want.data);
  EXPECT_EQ(f->source_sample_rate, 16000);
  EXPECT_FALSE(f->ids.empty());
}

TEST_F(FeatureCacheTest, ChangingHopLengthInvalidates) {
  Prepare();
  PreparedDataset changed = Prepare("audio:\n  hop_length: 200\n");
  EXPECT_EQ(changed.report.cache_hits, 0u);
  EXPECT_EQ(changed.report.cache_misses, 3u);
  auto f = ReadFeatureFile(changed.utterances[0].feature_path);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->mel.cols, MelExtractor(config_.audio).NumFrames(static_cast<int64_t>(changed.utterances[0].seconds * 22050 + 0.5)));
  // The old settings are still cached side by side.
  EXPECT_EQ(Prepare().report.cache_hits, 3u);
}

TEST_F(FeatureCacheTest, EditedTranscriptOrAudioMisses) {
  Prepare();
  testing::WriteTextFile(tmp_.Join("metadata.csv"), "a|The quick brown fox!\nb|Seven heavy boxes.\nc|A quiet garden.\n");
  std::filesystem::copy_file(testing::TestWav("slt-a.wav"), tmp_.Join("wavs/b.wav"),
                             std::filesystem::copy_options::overwrite_existing);
  PreparedDataset ds = Prepare();
  EXPECT_EQ(ds.report.cache_hits, 1u);    // c
  EXPECT_EQ(ds.report.cache_misses, 2u);  // a (text), b (audio)
}

TEST_F(FeatureCacheTest, CorruptEntryIsRecomputed) {
  PreparedDataset ds = Prepare();
  testing::WriteTextFile(ds.utterances[1].feature_path, "TTSDFEAT garbage");
  PreparedDataset again = Prepare();
  EXPECT_EQ(again.report.cache_hits, 2u);
  EXPECT_EQ(again.report.cache_misses, 1u);
  EXPECT_TRUE(ReadFeatureFile(again.utterances[1].feature_path).ok());
}

}  // namespace
}  // namespace ttsd::core
