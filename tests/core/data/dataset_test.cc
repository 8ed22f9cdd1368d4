#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/audio/wav.h"
#include "core/common/file_util.h"
#include "core/config/config_yaml.h"
#include "core/data/dataset.h"
#include "core/data/split.h"
#include "tests/testing/temp_dir.h"

namespace ttsd::core {
namespace {

using ::testing::HasSubstr;

// A stereo 16-bit WAV, written by hand (the product only writes mono).
std::string StereoWav(int frames) {
  std::vector<float> interleaved(frames * 2, 0.1f);
  std::string mono = EncodeWav16(interleaved, 22050);  // same bytes, header says mono
  mono[22] = 2;                                         // channels
  uint32_t byte_rate = 22050 * 4;
  std::memcpy(&mono[28], &byte_rate, 4);
  mono[32] = 4;  // block align
  return mono;
}

struct Prepared {
  TrainConfig config;
  PreparedDataset ds;
};

// Prepares `dir` in characters mode; `data_yaml` adds lines under data: (indented two spaces).
Prepared PrepareDir(const std::string& dir, const std::string& data_yaml, bool features) {
  auto parsed = ParseConfigYaml("data:\n  path: " + dir + "\n  cache_dir: " + dir + "/cache\n" + data_yaml + "text:\n  mode: characters\n", "t.yaml");
  EXPECT_TRUE(parsed.ok()) << parsed.status();
  auto tok = Tokenizer::Create(parsed->config.text, SymbolTable::Default(parsed->config.text));
  EXPECT_TRUE(tok.ok());
  PrepareOptions opt;
  opt.compute_features = features;
  opt.show_progress = false;
  auto ds = PrepareDataset(parsed->config, **tok, opt);
  EXPECT_TRUE(ds.ok()) << ds.status();
  return {parsed->config, *std::move(ds)};
}

TEST(DatasetTest, EveryKindOfBrokenEntryIsReportedAndSkipped) {
  testing::TempDir tmp;
  testing::MakeDataset(tmp.path(),
                       {{"good1", "slt-a.wav"}, {"good2", "rms-a.wav"}, {"good3", "espeak-a.wav"},
                        {"unk", "slt-b.wav"}, {"notext", "slt-b.wav"}},
                       "good1|The quick brown fox.\n"
                       "good2|A quiet garden.\n"
                       "good3|Hello world, this is a test.\n"
                       "missing|This file does not exist.\n"
                       "trunc|Truncated file.\n"
                       "empty|Zero samples.\n"
                       "stereo|Two channels.\n"
                       "unk|Seven heavy bøxes.\n"
                       "notext|   \n"
                       "cols|a|b|c\n"
                       "quiet|Nothing but silence.\n");
  auto bytes = ReadFileToString(testing::TestWav("slt-a.wav"));
  testing::WriteTextFile(tmp.Join("wavs/trunc.wav"), bytes->substr(0, 30));
  testing::WriteTextFile(tmp.Join("wavs/empty.wav"), EncodeWav16({}, 22050));
  testing::WriteTextFile(tmp.Join("wavs/stereo.wav"), StereoWav(22050));
  testing::WriteTextFile(tmp.Join("wavs/quiet.wav"), EncodeWav16(std::vector<float>(22050, 0.0002f), 22050));

  Prepared p = PrepareDir(tmp.path(), "  validation:\n    count: 1\n", /*features=*/false);
  const auto& r = p.ds.report;
  EXPECT_EQ(r.entries, 11u);
  ASSERT_EQ(p.ds.utterances.size(), 3u);
  std::vector<std::string> got;
  for (const auto& prob : r.problems) got.push_back(prob.where + " " + ProblemKindName(prob.kind));
  EXPECT_THAT(got, ::testing::ElementsAre("metadata.csv:4 missing-audio", "metadata.csv:5 unreadable-audio",
                                          "metadata.csv:6 empty-audio", "metadata.csv:7 multi-channel",
                                          "metadata.csv:8 unknown-symbols", "metadata.csv:9 empty-text",
                                          "metadata.csv:10 bad-line", "metadata.csv:11 silent"));
  EXPECT_THAT(r.problems[4].message, HasSubstr("'ø'"));
  EXPECT_THAT(r.problems[3].message, HasSubstr("sox in.wav -c 1 out.wav"));

  // The report names the problems and the speakers; the default policy skips, strict fails.
  std::string text = FormatDatasetReport(p.ds, p.config);
  EXPECT_THAT(text, HasSubstr("11 read, 3 usable"));
  EXPECT_THAT(text, HasSubstr("metadata.csv:4: missing-audio: missing:"));
  EXPECT_THAT(text, HasSubstr("16000 Hz: 2 (resampled)"));
  EXPECT_TRUE(EnforceDataPolicy(p.ds, p.config.data).ok());
  p.config.data.strict = true;
  auto st = EnforceDataPolicy(p.ds, p.config.data);
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(st.message()), HasSubstr("8 dataset problems and data.strict is true"));
}

TEST(DatasetTest, DurationAndTextLimits) {
  testing::TempDir tmp;
  testing::MakeDataset(tmp.path(), {{"a", "espeak-a.wav"}, {"b", "slt-a.wav"}, {"c", "slt-b.wav"}},
                       "a|Hello world, this is a test.\nb|The quick brown fox.\nc|Seven heavy boxes and more words.\n");
  Prepared p = PrepareDir(tmp.path(), "  max_audio_seconds: 1.8\n  max_text_length: 25\n", false);
  std::vector<std::string> kinds;
  for (const auto& prob : p.ds.report.problems) kinds.push_back(prob.id + " " + ProblemKindName(prob.kind));
  EXPECT_THAT(kinds, ::testing::UnorderedElementsAre("a too-long", "a text-too-long", "c text-too-long"));
}

// Whatever the files contain, the check reports and never crashes: random bytes behind WAV and RIFF
// headers, random manifest bytes.
TEST(DatasetTest, GarbageFilesNeverCrash) {
  testing::TempDir tmp;
  std::filesystem::create_directories(tmp.Join("wavs"));
  SplitMix64 rng(99);
  std::string meta;
  auto random_bytes = [&](size_t n) {
    std::string b(n, '\0');
    for (auto& c : b) c = static_cast<char>(rng.Next() & 0xff);
    return b;
  };
  for (int i = 0; i < 40; ++i) {
    std::string id = "g" + std::to_string(i);
    std::string bytes = random_bytes(rng.Below(4000));
    if (i % 3 == 0) bytes = "RIFF" + random_bytes(4) + "WAVEfmt " + bytes;
    if (i % 3 == 1) bytes = EncodeWav16(std::vector<float>(100, 0.1f), 22050).substr(0, 44) + bytes;
    testing::WriteTextFile(tmp.Join("wavs/" + id + ".wav"), bytes);
    meta += id + "|" + (i % 5 == 0 ? random_bytes(20) : "Some text.") + "\n";
  }
  meta += random_bytes(300) + "\n";
  testing::WriteTextFile(tmp.Join("metadata.csv"), meta);
  Prepared p = PrepareDir(tmp.path(), "", /*features=*/true);
  EXPECT_GT(p.ds.report.problems.size(), 20u);
  EXPECT_FALSE(FormatDatasetReport(p.ds, p.config).empty());
}

TEST(SplitTest, DeterministicBySeedAndFileListWins) {
  std::vector<std::string> ids;
  for (int i = 0; i < 100; ++i) ids.push_back("u" + std::to_string(i));
  ValidationSplitConfig c;
  c.fraction = 0.1;
  Split a = SplitTrainValidation(ids, c, {}, 7), b = SplitTrainValidation(ids, c, {}, 7);
  Split other = SplitTrainValidation(ids, c, {}, 8);
  EXPECT_EQ(a.validation.size(), 10u);
  EXPECT_EQ(a.train.size(), 90u);
  EXPECT_EQ(a.validation, b.validation);
  EXPECT_NE(a.validation, other.validation);
  c.count = 3;
  EXPECT_EQ(SplitTrainValidation(ids, c, {}, 7).validation.size(), 3u);
  c.file_list = "list.txt";
  Split f = SplitTrainValidation(ids, c, {"u5", "u7", "nope"}, 7);
  EXPECT_THAT(f.validation, ::testing::ElementsAre(5u, 7u));
  EXPECT_THAT(f.missing, ::testing::ElementsAre("nope"));
  // Never everything: one utterance always stays in training.
  ValidationSplitConfig all;
  all.count = 1000;
  EXPECT_EQ(SplitTrainValidation(ids, all, {}, 1).train.size(), 1u);
}

TEST(DatasetTest, ValidationFileListFromConfig) {
  testing::TempDir tmp;
  testing::MakeDataset(tmp.path(), {{"a", "slt-a.wav"}, {"b", "slt-b.wav"}, {"c", "rms-a.wav"}},
                       "a|The quick brown fox.\nb|Seven heavy boxes.\nc|A quiet garden.\n");
  testing::WriteTextFile(tmp.Join("val.txt"), "b\n");
  Prepared p = PrepareDir(tmp.path(), "  validation:\n    file_list: " + tmp.Join("val.txt") + "\n", false);
  const PreparedDataset* ds = &p.ds;
  ASSERT_EQ(ds->validation.size(), 1u);
  EXPECT_EQ(ds->utterances[ds->validation[0]].utt.id, "b");
}

}  // namespace
}  // namespace ttsd::core
