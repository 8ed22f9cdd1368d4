// Tiny VITS through the run loop (`ttsd train`'s engine) on real speech: every loss term logged and
// finite, validation audio straight from the generator with val/mcd, both optimizers in the
// checkpoint, and a stopped-and-resumed run bit-identical to a straight one.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <filesystem>
#include <map>

#include "core/config/config_yaml.h"
#include "core/data/loader.h"
#include "core/inference/synthesizer.h"
#include "core/models/vits/vits.h"
#include "core/text/symbols.h"
#include "core/train/checkpoint.h"
#include "core/train/trainer.h"
#include "tests/core/train/recording_sink.h"
#include "tests/testing/temp_dir.h"

namespace ttsd::core::train {
namespace {

using ::testing::HasSubstr;

class VitsTrainerTest : public ::testing::Test {
 protected:
  void SetUp() override { testing::MakeSmallCorpus(tmp_.Join("data"), 8); }

  TrainConfig Config(int64_t max_steps) {
    auto parsed = ParseConfigYaml("seed: 7\ndata:\n  path: " + tmp_.Join("data") + "\n  cache_dir: " + tmp_.Join("cache") +
                                      "\n  validation:\n    count: 2\ntext:\n  mode: characters\nbatch:\n  size: 2\n"
                                      "model:\n  type: vits\n  preset: tiny\ntraining:\n  max_steps: " +
                                      std::to_string(max_steps) + "\n  log_interval: 1\nvalidation:\n  interval_steps: 4\n"
                                      "  samples: 1\n  sentences: [\"a quiet fox.\"]\ncheckpoint:\n  interval_steps: 3\n",
                                  "v.yaml");
    EXPECT_TRUE(parsed.ok()) << parsed.status();
    return parsed->config;
  }

  testing::TempDir tmp_;
};

TEST_F(VitsTrainerTest, TrainsWithEveryLossTermAndSpeaksFromTheGenerator) {
  RecordingSink sink;
  auto r = RunTrain(Config(8), tmp_.Join("run"), &sink);
  ASSERT_TRUE(r.ok()) << r.status() << "\n" << sink.log;
  EXPECT_EQ(r->reason, StopReason::kCompleted);
  EXPECT_THAT(sink.log, HasSubstr("model vits (preset tiny)"));
  ASSERT_EQ(sink.steps.size(), 8u);
  for (const auto& [step, values] : sink.steps) {
    for (const char* key : {"train/loss", "train/mel_loss", "train/kl_loss", "train/duration_loss", "train/gen_loss",
                            "train/fm_loss", "train/disc_loss", "train/disc_loss_scale", "train/disc_loss_period_2",
                            "grad_norm", "grad_norm_disc", "lr"}) {
      ASSERT_TRUE(values.count(key)) << key << " at step " << step;
      EXPECT_TRUE(std::isfinite(values.at(key))) << key << " at step " << step;
    }
  }
  // The paper's schedule: lr 2e-4, decayed once per epoch (3 batches of 2 in the 6 training utterances).
  EXPECT_DOUBLE_EQ(sink.steps.at(1).at("lr"), 2e-4);
  EXPECT_DOUBLE_EQ(sink.steps.at(4).at("lr"), 2e-4 * 0.999875);
  ASSERT_EQ(sink.validations.size(), 2u);
  for (const char* key : {"val/loss", "val/mel_loss", "val/kl_loss", "val/duration_loss", "val/mcd"}) {
    ASSERT_TRUE(sink.validations[0].values.count(key)) << key;
    EXPECT_TRUE(std::isfinite(sink.validations[0].values.at(key))) << key;
  }
  // Audio straight from the generator: a held-out utterance and the sentence, at every validation.
  int spoken = 0;
  for (const auto& s : sink.samples) {
    if (s.tag.rfind("ground_truth", 0) == 0) continue;
    EXPECT_TRUE(std::filesystem::exists(s.path)) << s.path;
    EXPECT_GT(s.duration_seconds, 0.0);
    ++spoken;
  }
  EXPECT_EQ(spoken, 4);
  // Both optimizers are in the checkpoint, next to the model (generator and discriminators).
  Checkpointer ck(tmp_.Join("run/checkpoints"), Config(8).checkpoint);
  ASSERT_FALSE(ck.List().empty());
  auto meta = Checkpointer::ReadMeta(ck.List().front());
  ASSERT_TRUE(meta.ok());
  EXPECT_EQ(meta->state.step, 8);
  torch::serialize::InputArchive archive, part;
  archive.load_from(ck.List().front());
  EXPECT_TRUE(archive.try_read("optimizer", part));
  EXPECT_TRUE(archive.try_read("optimizer_1", part));
  EXPECT_TRUE(archive.try_read("model", part));
  torch::serialize::InputArchive discriminators;
  EXPECT_TRUE(part.try_read("discriminator", discriminators));

  // The synthesizer's noise knobs: with both at 0 the seed changes nothing; duration noise alone
  // (noise_scale_w, the stochastic duration predictor's) changes the rhythm from seed to seed.
  auto synth = inference::Synthesizer::Create(tmp_.Join("run"));
  ASSERT_TRUE(synth.ok()) << synth.status();
  auto speak = [&](double noise_scale_w, uint64_t seed) {
    inference::SynthesisOptions opt;
    opt.noise_scale = 0;
    opt.noise_scale_w = noise_scale_w;
    opt.seed = seed;
    auto out = (*synth)->Synthesize("a quiet fox.", opt);
    EXPECT_TRUE(out.ok()) << out.status();
    return out.ok() ? out->wave : std::vector<float>();
  };
  EXPECT_EQ(speak(0, 1), speak(0, 2));
  EXPECT_NE(speak(1, 1), speak(1, 2));
  EXPECT_EQ(speak(1, 3), speak(1, 3));

  // Copy-synthesis through the posterior encoder (its mean) and the generator: a 16 kHz recording
  // comes back at the voice's rate, sample for sample as long as the recording at that rate (whole
  // hops), the same every time, and different recordings differently.
  const std::string slt = testing::TestWav("slt-a.wav");
  auto resynthesize = [&](const std::string& path) {
    auto out = (*synth)->Resynthesize(path, {});
    EXPECT_TRUE(out.ok()) << out.status();
    return out.ok() ? out->wave : std::vector<float>();
  };
  const std::vector<float> copy = resynthesize(slt);
  auto expected = LoadWave(slt, Config(8).audio);
  ASSERT_TRUE(expected.ok());
  EXPECT_EQ(copy.size(), expected->size());
  double energy = 0;
  for (float x : copy) {
    ASSERT_TRUE(std::isfinite(x));
    energy += x * x;
  }
  EXPECT_GT(energy, 0);
  auto measured = (*synth)->Resynthesize(slt, {});
  ASSERT_TRUE(measured.ok());
  EXPECT_EQ(measured->wave, copy);
  EXPECT_GT(measured->mcd_db, 0);
  EXPECT_TRUE(std::isfinite(measured->mcd_db));
  EXPECT_FALSE(resynthesize(testing::TestWav("rms-a.wav")).empty());
  EXPECT_NE(resynthesize(testing::TestWav("slt-b.wav")), copy);
}

// Exact resume for VITS: 9 steps straight, and stopped after step 4 (mid-epoch) then resumed, log
// identical values for every term at every step (both networks, both optimizers, the RNG and the data
// position restored).
TEST_F(VitsTrainerTest, StoppedAndResumedRunIsBitIdentical) {
  TrainConfig c = Config(9);
  RecordingSink straight;
  auto full = RunTrain(c, tmp_.Join("straight"), &straight);
  ASSERT_TRUE(full.ok()) << full.status();
  RecordingSink first(/*stop_at=*/4);
  auto stopped = RunTrain(c, tmp_.Join("resumed"), &first);
  ASSERT_TRUE(stopped.ok()) << stopped.status();
  EXPECT_EQ(stopped->reason, StopReason::kStopped);
  RecordingSink second;
  auto resumed = RunTrain(c, tmp_.Join("resumed"), &second, "auto");
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  EXPECT_EQ(second.steps.begin()->first, 5);
  for (int64_t step = 1; step <= 9; ++step) {
    const auto& got = step <= 4 ? first.steps.at(step) : second.steps.at(step);
    for (const auto& [key, value] : straight.steps.at(step)) {
      EXPECT_EQ(got.at(key), value) << key << " at step " << step;  // exact, not approximate
    }
  }
}

// A text-side fine-tune: with the posterior encoder, generator and discriminators frozen, the steps
// train the text encoder, flow and duration predictor on the KL and duration terms alone (no generator
// or discriminator pass, so no reconstruction or adversarial terms), the frozen networks stay
// bit-identical, and validation still speaks through the generator.
TEST_F(VitsTrainerTest, FrozenAudioPathTrainsTheTextSideAlone) {
  RecordingSink base_sink;
  ASSERT_TRUE(RunTrain(Config(3), tmp_.Join("base"), &base_sink).ok()) << base_sink.log;
  EXPECT_THAT(base_sink.log, ::testing::Not(HasSubstr("steps train the text side")));
  TrainConfig c = Config(4);
  c.finetune.pretrained_model_path = tmp_.Join("base/checkpoints/ckpt-000000003.pt");
  c.finetune.freeze = {"posterior", "decoder", "discriminator"};
  RecordingSink sink;
  auto r = RunTrain(c, tmp_.Join("text"), &sink);
  ASSERT_TRUE(r.ok()) << r.status() << "\n" << sink.log;
  EXPECT_THAT(sink.log, HasSubstr("steps train the text side (text encoder, flow, duration predictor)"));
  ASSERT_EQ(sink.steps.size(), 4u);
  for (const auto& [step, values] : sink.steps) {
    for (const char* key : {"train/loss", "train/kl_loss", "train/duration_loss", "grad_norm"}) {
      ASSERT_TRUE(values.count(key)) << key << " at step " << step;
      EXPECT_TRUE(std::isfinite(values.at(key))) << key << " at step " << step;
    }
    for (const char* key : {"train/mel_loss", "train/gen_loss", "train/fm_loss", "train/disc_loss"}) {
      EXPECT_FALSE(values.count(key)) << key << " at step " << step;
    }
    const double terms = values.at("train/kl_loss") + values.at("train/duration_loss");
    EXPECT_NEAR(values.at("train/loss"), terms, 1e-5 * std::abs(terms));  // summed in float32
  }
  ASSERT_FALSE(sink.validations.empty());
  EXPECT_TRUE(std::isfinite(sink.validations.back().values.at("val/mel_loss")));

  auto meta = Checkpointer::ReadMeta(c.finetune.pretrained_model_path);
  ASSERT_TRUE(meta.ok());
  auto symbols = SymbolTable::FromJson(meta->symbols_json);
  ASSERT_TRUE(symbols.ok());
  models::Vits base(c.model, c.audio, symbols->size(), 1), tuned(c.model, c.audio, symbols->size(), 1);
  CheckpointMeta unused;
  ASSERT_TRUE(Checkpointer::Load(c.finetune.pretrained_model_path, *base, {}, &unused).ok());
  ASSERT_TRUE(Checkpointer::Load(tmp_.Join("text/checkpoints/ckpt-000000004.pt"), *tuned, {}, &unused).ok());
  auto before = base->named_parameters();
  std::map<std::string, int> changed, kept;
  for (const auto& p : tuned->named_parameters()) {
    const std::string top = p.key().substr(0, p.key().find('.'));
    (torch::equal(p.value(), before[p.key()]) ? kept : changed)[top]++;
  }
  for (const char* frozen : {"posterior", "decoder", "discriminator"}) {
    EXPECT_EQ(changed[frozen], 0) << frozen;
    EXPECT_GT(kept[frozen], 0) << frozen;
  }
  for (const char* trained : {"encoder", "flow", "sdp"}) EXPECT_GT(changed[trained], 0) << trained;
}

}  // namespace
}  // namespace ttsd::core::train
