#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

#include "core/config/config_yaml.h"
#include "core/data/loader.h"
#include "core/data/sampler.h"
#include "tests/testing/temp_dir.h"

namespace ttsd::core {
namespace {

std::vector<int64_t> Lengths(int n) {
  std::vector<int64_t> v;
  for (int i = 0; i < n; ++i) v.push_back(50 + (i * 37) % 400);
  return v;
}

TEST(BucketSamplerTest, DeterministicPerSeedAndEpoch) {
  BatchConfig c;
  c.max_frames = 2000;
  BucketSampler a(Lengths(200), c, 42), b(Lengths(200), c, 42), other(Lengths(200), c, 43);
  EXPECT_EQ(a.EpochBatches(0), b.EpochBatches(0));
  EXPECT_EQ(a.EpochBatches(5), b.EpochBatches(5));
  EXPECT_NE(a.EpochBatches(0), a.EpochBatches(1));
  EXPECT_NE(a.EpochBatches(0), other.EpochBatches(0));
}

TEST(BucketSamplerTest, EveryItemOnceAndTheFrameBudgetHolds) {
  BatchConfig c;
  c.max_frames = 2000;
  auto lengths = Lengths(300);
  BucketSampler s(lengths, c, 1);
  std::multiset<size_t> seen;
  for (const auto& batch : s.EpochBatches(3)) {
    int64_t longest = 0;
    for (size_t i : batch) {
      seen.insert(i);
      longest = std::max(longest, lengths[i]);
    }
    EXPECT_LE(longest * static_cast<int64_t>(batch.size()), c.max_frames);
  }
  EXPECT_EQ(seen.size(), 300u);
  EXPECT_EQ(std::set<size_t>(seen.begin(), seen.end()).size(), 300u);
}

TEST(BucketSamplerTest, FixedSizeAndDropLast) {
  BatchConfig c;
  c.size = 8;
  c.drop_last = true;
  BucketSampler s(Lengths(30), c, 1);
  auto batches = s.EpochBatches(0);
  EXPECT_EQ(batches.size(), 3u);
  for (const auto& b : batches) EXPECT_EQ(b.size(), 8u);
  c.drop_last = false;
  EXPECT_EQ(BucketSampler(Lengths(30), c, 1).EpochBatches(0).size(), 4u);
}

TEST(BucketSamplerTest, UnshuffledIsStableAcrossEpochs) {
  BatchConfig c;
  c.size = 4;
  BucketSampler s(Lengths(20), c, 1, /*shuffle=*/false);
  EXPECT_EQ(s.EpochBatches(0), s.EpochBatches(7));
}

// The loader over real cached features: padding, and that a saved position resumes the exact stream.
class LoaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::MakeSmallCorpus(tmp_.path(), 12);
    auto parsed = ParseConfigYaml("data:\n  path: " + tmp_.path() + "\n  cache_dir: " + tmp_.Join("cache") + "\n  validation:\n    count: 2\ntext:\n  mode: characters\nbatch:\n  size: 3\n  prefetch: 2\n", "t.yaml");
    ASSERT_TRUE(parsed.ok());
    config_ = parsed->config;
    auto tok = Tokenizer::Create(config_.text, SymbolTable::Default(config_.text));
    PrepareOptions opt;
    opt.show_progress = false;
    auto ds = PrepareDataset(config_, **tok, opt);
    ASSERT_TRUE(ds.ok()) << ds.status();
    ds_ = *std::move(ds);
  }

  std::vector<std::vector<size_t>> Drain(DataLoader& loader, int max = 1000) {
    std::vector<std::vector<size_t>> out;
    while (static_cast<int>(out.size()) < max) {
      auto b = loader.Next();
      EXPECT_TRUE(b.ok()) << b.status();
      if (!b.ok() || !b->has_value()) break;
      out.push_back((*b)->items);
    }
    return out;
  }

  testing::TempDir tmp_;
  TrainConfig config_;
  PreparedDataset ds_;
};

TEST_F(LoaderTest, BatchesArePaddedTensors) {
  DataLoader loader(ds_, ds_.train, config_.batch, std::log(config_.audio.log_clamp), 1);
  loader.Start({0, 0});
  auto b = loader.Next();
  ASSERT_TRUE(b.ok() && b->has_value());
  const Batch& batch = **b;
  EXPECT_EQ(batch.ids.dim(), 2);
  EXPECT_EQ(batch.mels.size(0), 3);
  EXPECT_EQ(batch.mels.size(1), 80);
  EXPECT_EQ(batch.mels.size(2), batch.mel_lengths.max().item<int64_t>());
  EXPECT_EQ(batch.ids.size(1), batch.id_lengths.max().item<int64_t>());
  for (int64_t i = 0; i < 3; ++i) {
    int64_t len = batch.mel_lengths[i].item<int64_t>();
    if (len < batch.mels.size(2)) {
      EXPECT_FLOAT_EQ(batch.mels[i][0][len].item<float>(), std::log(1e-5f));  // padding
    }
    EXPECT_EQ(ds_.utterances[batch.items[i]].frames, len);
  }
  EXPECT_EQ(batch.next, (SamplerPosition{0, 1}));
}

TEST_F(LoaderTest, ResumeFromSavedPositionContinuesTheSameStream) {
  DataLoader full(ds_, ds_.train, config_.batch, -11.5, 9);
  full.Start({1, 0});
  auto all = Drain(full);
  ASSERT_EQ(all.size(), 4u);  // 10 train utterances, batches of 3

  // A "run" that stops after two batches of epoch 1, saves the position, and a new loader resumes.
  DataLoader first(ds_, ds_.train, config_.batch, -11.5, 9);
  first.Start({1, 0});
  SamplerPosition saved;
  for (int i = 0; i < 2; ++i) {
    auto b = first.Next();
    ASSERT_TRUE(b.ok() && b->has_value());
    saved = (*b)->next;
  }
  EXPECT_EQ(saved, (SamplerPosition{1, 2}));
  DataLoader resumed(ds_, ds_.train, config_.batch, -11.5, 9);
  resumed.Start(saved);
  auto rest = Drain(resumed);
  ASSERT_EQ(rest.size(), 2u);
  EXPECT_EQ(rest[0], all[2]);
  EXPECT_EQ(rest[1], all[3]);
}

TEST_F(LoaderTest, ShardsSplitEachGlobalBatchAcrossRanksInLockstep) {
  DataLoader whole(ds_, ds_.train, config_.batch, -11.5, 9);
  whole.Start({0, 0});
  auto global = Drain(whole);  // batches of 3, the last of 1 (10 train utterances)
  ASSERT_EQ(global.size(), 4u);
  std::vector<std::vector<std::vector<size_t>>> ranks;
  for (int r = 0; r < 2; ++r) {
    DataLoader shard(ds_, ds_.train, config_.batch, -11.5, 9, true, nullptr, {r, 2});
    shard.Start({0, 0});
    ranks.push_back(Drain(shard));
    ASSERT_EQ(ranks[r].size(), global.size()) << "every rank steps through every global batch";
  }
  for (size_t b = 0; b < global.size(); ++b) {
    std::multiset<size_t> joined(ranks[0][b].begin(), ranks[0][b].end());
    joined.insert(ranks[1][b].begin(), ranks[1][b].end());
    if (global[b].size() >= 2) {
      EXPECT_EQ(joined, std::multiset<size_t>(global[b].begin(), global[b].end())) << "batch " << b;
    } else {
      EXPECT_EQ(ranks[0][b], global[b]) << "a one-item batch: each rank gets that item";
      EXPECT_EQ(ranks[1][b], global[b]);
    }
  }
  // Batches of 3 (and a last one of 1) split evenly over 2 or 3 ranks; 4 ranks would repeat items
  // within each batch of 3.
  for (int count : {2, 3}) {
    EXPECT_EQ(DataLoader(ds_, ds_.train, config_.batch, -11.5, 9, true, nullptr, {0, count}).UnevenBatchesInEpoch(0), 0u);
  }
  EXPECT_EQ(DataLoader(ds_, ds_.train, config_.batch, -11.5, 9, true, nullptr, {0, 4}).UnevenBatchesInEpoch(0), 3u);
}

TEST_F(LoaderTest, UnreadableFeatureFileIsAClearError) {
  testing::WriteTextFile(ds_.utterances[ds_.train[0]].feature_path, "broken");
  BatchConfig one = config_.batch;
  one.size = 100;
  DataLoader loader(ds_, ds_.train, one, -11.5, 1);
  loader.Start({0, 0});
  auto b = loader.Next();
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(b.status().message()), ::testing::HasSubstr("delete it and rerun"));
}

}  // namespace
}  // namespace ttsd::core
