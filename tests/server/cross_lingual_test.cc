// A voice fine-tuned for a new language through the daemon, as a user would do it: an English base
// (characters, the built-in table) trains; a Vietnamese corpus (the espeak-ng vi voice, tones and vowel
// marks) gets its own symbol table from `ttsd data symbols` in NFD; the fine-tune starts from the base
// with that table, the decoder frozen, and reports the embedding remap, its frozen parts, its lineage,
// and val/mcd before (the base on the new data, step 0) and after.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <map>

#include "tests/server/daemon_fixture.h"

namespace ttsd {
namespace {

using ::testing::HasSubstr;

TEST_F(DaemonTest, CrossLingualFineTuneOntoVietnameseWithANewSymbolSet) {
  uint64_t base = SubmitOk(Config(30, 10));
  testing::CommandResult corpus = testing::RunCommand(std::string(TTSD_SOURCE_DIR) +
                                                      "/tools/make-corpus --voices vi --language vi --sentences 16 "
                                                      "--seed 3 --out " + tmp_.Join("vi"));
  ASSERT_EQ(corpus.code, 0) << corpus.output;
  const std::string data = "data:\n  path: " + tmp_.Join("vi") + "\n  cache_dir: " + tmp_.Join("vi-cache") +
                           "\n  validation:\n    count: 2\n";
  const std::string text = "text:\n  mode: characters\n  language: vi\n  unicode_form: nfd\n";
  testing::WriteTextFile(tmp_.Join("vi-symbols.yaml"), data + text);
  testing::CommandResult symbols = testing::RunCommand(std::string(TTSD_BINARY) + " data symbols --config " +
                                                       tmp_.Join("vi-symbols.yaml") + " --out " +
                                                       tmp_.Join("vi-symbols.json"));
  ASSERT_EQ(symbols.code, 0) << symbols.output;
  EXPECT_THAT(symbols.output, HasSubstr("U+0302 COMBINING CIRCUMFLEX ACCENT"));
  ASSERT_TRUE(daemon_->WaitForState(base, ttsd::v1::JOB_STATE_SUCCEEDED, 180));

  testing::WriteTextFile(
      tmp_.Join("vi-finetune.yaml"),
      "seed: 5\nthreads: 1\n" + data + text + "  symbols_file: " + tmp_.Join("vi-symbols.json") +
          "\nbatch:\n  size: 2\nmodel:\n  preset: tiny\n"
          "training:\n  max_steps: 10\n  log_interval: 1\n  scheduler: constant\n  learning_rate: 1.0e-4\n"
          "validation:\n  interval_steps: 10\n  samples: 1\ncheckpoint:\n  interval_steps: 10\n"
          "finetune:\n  pretrained_model_path: job:" + std::to_string(base) + "@best\n  freeze: [decoder]\n");
  Job job;
  ASSERT_TRUE(daemon_->Submit(tmp_.Join("vi-finetune.yaml"), &job).ok());
  const uint64_t ft = job.id();
  ASSERT_TRUE(daemon_->WaitForState(ft, ttsd::v1::JOB_STATE_SUCCEEDED, 240, &job)) << job.DebugString();
  EXPECT_EQ(job.parent().job_id(), base);

  testing::CommandResult logs = testing::RunCommand(Ctl("logs " + std::to_string(ft)));
  // The base's letters keep their embeddings; the marks NFD splits off are new rows.
  EXPECT_THAT(logs.output, HasSubstr("shared (embedding rows copied)"));
  EXPECT_THAT(logs.output, HasSubstr("new (initialised): "));
  EXPECT_THAT(logs.output, HasSubstr("\u0300"));  // the grave accent, a tone mark, among them
  EXPECT_THAT(logs.output, HasSubstr("fine-tune: frozen: "));
  EXPECT_THAT(logs.output, HasSubstr("text.language is vi here but en-us in the base model"));

  std::map<int64_t, double> mcd;
  for (const auto& [step, value] : Metric(ft, "val/mcd")) mcd[step] = value;
  ASSERT_TRUE(mcd.count(0) && mcd.count(10)) << "val/mcd before (step 0) and after (step 10) the fine-tune";
  for (const auto& [step, value] : mcd) EXPECT_TRUE(std::isfinite(value) && value > 0) << step << ": " << value;
  std::printf("cross-lingual fine-tune: val/mcd %.3f dB at step 0 (the English base), %.3f dB at step 10\n",
              mcd[0], mcd[10]);
}

}  // namespace
}  // namespace ttsd
