// A Piper voice fine-tuned through the daemon, as the README's "Fine-tune a Piper voice" does it: a
// three-speaker Piper checkpoint (made by piper-tts's own code, tests/data/interop) is imported with
// `ttsd import piper --finetune-config`, the config it writes gets a dataset, and `ttsctl submit` trains it
// onto a new speaker with ttsd's own phoneme table (a changed symbol set, rows remapped by symbol). The
// job trains, measures val/mcd, keeps Piper's speakers and adds the new one, and its lineage reaches
// back through the import to the Piper file.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "tests/server/daemon_fixture.h"

namespace ttsd {
namespace {

using ::testing::HasSubstr;

// Replaces the one occurrence of `from` in `text`; a test failure when it is not there exactly once.
void ReplaceOnce(std::string* text, const std::string& from, const std::string& to) {
  const size_t at = text->find(from);
  ASSERT_NE(at, std::string::npos) << from;
  ASSERT_EQ(text->find(from, at + 1), std::string::npos) << from;
  text->replace(at, from.size(), to);
}

TEST_F(DaemonTest, ImportedPiperVoiceFineTunesOntoANewSpeakerThroughTheDaemon) {
  const std::string piper = std::string(TTSD_SOURCE_DIR) + "/tests/data/interop/piper-multispeaker/model.ckpt";
  const std::string voice = tmp_.Join("piper.pt"), config = tmp_.Join("finetune.yaml");
  testing::CommandResult imported = testing::RunCommand(std::string(TTSD_BINARY) + " import piper " + piper +
                                                        " --out " + voice + " --finetune-config " + config);
  ASSERT_EQ(imported.code, 0) << imported.output;
  EXPECT_THAT(imported.output, HasSubstr("3 speakers"));

  std::string yaml;
  {
    std::ifstream in(config);
    yaml.assign(std::istreambuf_iterator<char>(in), {});
  }
  EXPECT_THAT(yaml, HasSubstr("pretrained_model_path: \"" + voice + "\""));
  ReplaceOnce(&yaml, "threads: 0", "threads: 1");
  ReplaceOnce(&yaml, "  path: \"\"", "  path: \"" + tmp_.Join("data") + "\"");
  ReplaceOnce(&yaml, "    count: 0", "    count: 2");
  ReplaceOnce(&yaml, "  size: 0", "  size: 2");
  ReplaceOnce(&yaml, "  max_steps: 2000", "  max_steps: 4");
  ReplaceOnce(&yaml, "  log_interval: 10", "  log_interval: 1");
  ReplaceOnce(&yaml, "  interval_steps: 200\n  max_batches", "  interval_steps: 4\n  max_batches");
  ReplaceOnce(&yaml, "  speaker_name: \"\"", "  speaker_name: \"newvoice\"");
  testing::WriteTextFile(config, yaml);

  uint64_t job_id = SubmitOk(config);
  Job job;
  ASSERT_TRUE(daemon_->WaitForState(job_id, ttsd::v1::JOB_STATE_SUCCEEDED, 300, &job)) << job.DebugString();
  EXPECT_EQ(job.parent().path(), voice);
  EXPECT_EQ(job.parent().imported_from(), "piper");
  EXPECT_EQ(job.parent().source_path(), piper);
  EXPECT_EQ(job.parent().source_sha256().size(), 64u);
  testing::CommandResult logs = testing::RunCommand(Ctl("logs " + std::to_string(job_id)));
  EXPECT_THAT(logs.output, HasSubstr("4 speaker(s)"));  // Piper's three and the new one
  EXPECT_THAT(logs.output, HasSubstr("shared (embedding rows copied)"));
  testing::CommandResult status = testing::RunCommand(Ctl("status " + std::to_string(job_id)));
  EXPECT_THAT(status.output, HasSubstr("imported from piper " + piper));
  EXPECT_EQ(LossSteps(job_id).size(), 4u);
  EXPECT_FALSE(Metric(job_id, "val/mcd").empty());
}

}  // namespace
}  // namespace ttsd
