#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/data/manifest.h"
#include "tests/testing/temp_dir.h"

namespace ttsd::core {
namespace {

using ::testing::HasSubstr;

DataConfig Config(const std::string& path, const std::string& format) {
  DataConfig c;
  c.path = path;
  c.format = format;
  return c;
}

TEST(ManifestTest, LjspeechTwoAndThreeColumns) {
  testing::TempDir tmp;
  testing::WriteTextFile(tmp.Join("metadata.csv"),
                         "\xEF\xBB\xBF" "a1|Raw text 1.|normalized one\r\n"
                         "\n"
                         "a2|Only two columns\n"
                         "a3|Third empty|\n");
  auto m = ReadManifest(Config(tmp.path(), "ljspeech"));
  ASSERT_TRUE(m.ok()) << m.status();
  ASSERT_EQ(m->utterances.size(), 3u);
  EXPECT_TRUE(m->problems.empty());
  EXPECT_EQ(m->utterances[0].id, "a1");  // BOM stripped
  EXPECT_EQ(m->utterances[0].text, "normalized one");  // normalized column preferred, \r trimmed
  EXPECT_EQ(m->utterances[0].audio_path, tmp.Join("wavs/a1.wav"));
  EXPECT_EQ(m->utterances[1].text, "Only two columns");
  EXPECT_EQ(m->utterances[1].where, "metadata.csv:3");
  EXPECT_EQ(m->utterances[2].text, "Third empty");
  EXPECT_EQ(m->utterances[0].speaker, "");
}

TEST(ManifestTest, BrokenLinesBecomeProblemsWithLineNumbers) {
  testing::TempDir tmp;
  testing::WriteTextFile(tmp.Join("metadata.csv"),
                         "ok1|fine\n"
                         "just-one-column\n"
                         "a|b|c|d\n"
                         "bad|caf\xe9 latin-1\n"
                         "ok1|duplicate id\n"
                         "|no id\n");
  auto m = ReadManifest(Config(tmp.path(), "ljspeech"));
  ASSERT_TRUE(m.ok());
  ASSERT_EQ(m->utterances.size(), 1u);
  ASSERT_EQ(m->problems.size(), 5u);
  EXPECT_EQ(m->problems[0].ToString(), "metadata.csv:2: bad-line: expected 2 or 3 columns (id|text[|normalized text]), found 1");
  EXPECT_EQ(m->problems[1].where, "metadata.csv:3");
  EXPECT_EQ(m->problems[2].kind, ProblemKind::kBadEncoding);
  EXPECT_EQ(m->problems[2].where, "metadata.csv:4");
  EXPECT_EQ(m->problems[3].kind, ProblemKind::kDuplicateId);
  EXPECT_EQ(m->problems[4].kind, ProblemKind::kBadLine);
}

TEST(ManifestTest, MultispeakerNeedsThreeColumns) {
  testing::TempDir tmp;
  testing::WriteTextFile(tmp.Join("metadata.csv"), "u1|slt|Hello there.\nu2|Missing speaker\n");
  auto m = ReadManifest(Config(tmp.path(), "multispeaker"));
  ASSERT_TRUE(m.ok());
  ASSERT_EQ(m->utterances.size(), 1u);
  EXPECT_EQ(m->utterances[0].speaker, "slt");
  EXPECT_EQ(m->utterances[0].text, "Hello there.");
  ASSERT_EQ(m->problems.size(), 1u);
  EXPECT_THAT(m->problems[0].message, HasSubstr("expected 3 columns (id|speaker|text)"));
}

TEST(ManifestTest, JsonlResolvesPathsAndReportsBadObjects) {
  testing::TempDir tmp;
  testing::WriteTextFile(tmp.Join("manifest.jsonl"),
                         R"({"audio": "clips/x.wav", "text": "Hi.", "speaker": "kal"})" "\n"
                         R"({"audio": "/abs/y.wav", "text": "Yo.", "id": "why"})" "\n"
                         R"({"text": "no audio"})" "\n"
                         "{not json\n"
                         R"({"audio": "z.wav", "text": 5})" "\n");
  auto m = ReadManifest(Config(tmp.path(), "jsonl"));
  ASSERT_TRUE(m.ok());
  ASSERT_EQ(m->utterances.size(), 2u);
  EXPECT_EQ(m->utterances[0].id, "x");
  EXPECT_EQ(m->utterances[0].speaker, "kal");
  EXPECT_EQ(m->utterances[0].audio_path, tmp.Join("clips/x.wav"));
  EXPECT_EQ(m->utterances[1].id, "why");
  EXPECT_EQ(m->utterances[1].audio_path, "/abs/y.wav");
  ASSERT_EQ(m->problems.size(), 3u);
  EXPECT_THAT(m->problems[0].ToString(), HasSubstr("manifest.jsonl:3: bad-line: missing \"audio\""));
  EXPECT_THAT(m->problems[1].message, HasSubstr("not a JSON object"));
  EXPECT_THAT(m->problems[2].message, HasSubstr("missing \"text\""));
}

TEST(ManifestTest, MissingManifestIsAnError) {
  testing::TempDir tmp;
  auto m = ReadManifest(Config(tmp.path(), "ljspeech"));
  EXPECT_EQ(m.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(m.status().message()), HasSubstr("metadata.csv"));
}

}  // namespace
}  // namespace ttsd::core
