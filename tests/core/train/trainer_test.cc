#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <filesystem>
#include <map>

#include "core/audio/mcd.h"
#include "core/audio/mel.h"
#include "core/audio/wav.h"
#include "core/config/config_yaml.h"
#include "core/data/loader.h"
#include "core/inference/synthesizer.h"
#include "core/train/checkpoint.h"
#include "core/train/finetune.h"
#include "core/train/precision.h"
#include "core/common/file_util.h"
#include "core/models/glow_tts/glow_tts.h"
#include "core/text/symbols.h"
#include "core/train/trainer.h"
#include "tests/core/train/recording_sink.h"
#include "core/tensorboard/event_writer.h"
#include "tests/core/tensorboard/event_file_reader.h"
#include "tests/testing/command.h"
#include "tests/testing/temp_dir.h"
#include <nlohmann/json.hpp>

namespace ttsd::core::train {
namespace {

using ::testing::HasSubstr;

class TrainerTest : public ::testing::Test {
 protected:
  void SetUp() override { testing::MakeSmallCorpus(tmp_.Join("data"), 12); }

  TrainConfig Config(int64_t max_steps) {
    auto parsed = ParseConfigYaml("seed: 5\ndata:\n  path: " + tmp_.Join("data") + "\n  cache_dir: " + tmp_.Join("cache") +
                                      "\n  validation:\n    count: 2\ntext:\n  mode: characters\nbatch:\n  size: 1\n"
                                      "model:\n  preset: tiny\ntraining:\n  max_steps: " + std::to_string(max_steps) +
                                      "\n  warmup_steps: 20\n  log_interval: 1\nvalidation:\n  interval_steps: 8\n"
                                      "checkpoint:\n  interval_steps: 5\n  keep_last: 2\n", "t.yaml");
    EXPECT_TRUE(parsed.ok()) << parsed.status();
    return parsed->config;
  }

  testing::TempDir tmp_;
};

// The acceptance test of exact resume: 24 steps straight, and 24 steps stopped after step 7 (mid-epoch:
// 10 batches per epoch) and resumed, log bit-identical values (losses, gradient norm, lr) at every step.
TEST_F(TrainerTest, StoppedAndResumedRunIsBitIdentical) {
  TrainConfig c = Config(24);
  RecordingSink straight;
  auto full = RunTrain(c, tmp_.Join("straight"), &straight);
  ASSERT_TRUE(full.ok()) << full.status();
  EXPECT_EQ(full->reason, StopReason::kCompleted);
  ASSERT_EQ(straight.steps.size(), 24u);

  RecordingSink first(/*stop_at=*/7);
  auto stopped = RunTrain(c, tmp_.Join("resumed"), &first);
  ASSERT_TRUE(stopped.ok()) << stopped.status();
  EXPECT_EQ(stopped->reason, StopReason::kStopped);
  EXPECT_EQ(stopped->step, 7);
  auto meta = Checkpointer::ReadMeta(stopped->last_checkpoint);
  ASSERT_TRUE(meta.ok());
  EXPECT_EQ(meta->state.position.epoch, 0);
  EXPECT_EQ(meta->state.position.batch, 7);  // mid-epoch

  RecordingSink second;
  auto resumed = RunTrain(c, tmp_.Join("resumed"), &second, "auto");
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  EXPECT_EQ(resumed->reason, StopReason::kCompleted);
  EXPECT_THAT(second.log, HasSubstr("resumed from"));
  EXPECT_EQ(second.steps.begin()->first, 8);
  for (int64_t step = 1; step <= 24; ++step) {
    const auto& got = step <= 7 ? first.steps.at(step) : second.steps.at(step);
    EXPECT_EQ(got, straight.steps.at(step)) << "step " << step;  // exact, not approximate
  }
}

TEST_F(TrainerTest, OutputFolderAndCheckpointRetention) {
  RecordingSink sink;
  auto r = RunTrain(Config(12), tmp_.Join("run"), &sink);
  ASSERT_TRUE(r.ok()) << r.status();
  for (const char* f : {"config.yaml", "symbols.json", "checkpoints/latest", "checkpoints/best"}) {
    EXPECT_TRUE(std::filesystem::exists(tmp_.Join(std::string("run/") + f))) << f;
  }
  Checkpointer ck(tmp_.Join("run/checkpoints"), Config(12).checkpoint);
  auto all = ck.List();
  // keep_last 2 (steps 12, 10) plus the best (validated at step 8), never more.
  ASSERT_GE(all.size(), 2u);
  ASSERT_LE(all.size(), 3u);
  EXPECT_THAT(all[0], HasSubstr("ckpt-000000012.pt"));
  ASSERT_EQ(sink.validations.size(), 1u);
  EXPECT_TRUE(sink.validations[0].is_best);
  EXPECT_TRUE(std::filesystem::exists(tmp_.Join("run/checkpoints/ckpt-000000008.pt")));
  // A fresh run refuses a folder that has checkpoints instead of silently mixing runs.
  RecordingSink again;
  auto refused = RunTrain(Config(12), tmp_.Join("run"), &again);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(refused.status().message()), HasSubstr("--resume auto"));
}

TEST_F(TrainerTest, CorruptNewestCheckpointFallsBackToThePreviousOne) {
  RecordingSink sink;
  ASSERT_TRUE(RunTrain(Config(10), tmp_.Join("run"), &sink).ok());
  // Damage the newest checkpoint (step 10); resume must use step 5 and say why.
  testing::WriteTextFile(tmp_.Join("run/checkpoints/ckpt-000000010.pt"), "torn write");
  RecordingSink resumed;
  auto r = RunTrain(Config(12), tmp_.Join("run"), &resumed, "auto");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(resumed.log, HasSubstr("skipping checkpoint"));
  EXPECT_THAT(resumed.log, HasSubstr("sha256 mismatch"));
  EXPECT_THAT(resumed.log, HasSubstr("at step 8"));  // the best (validated at step 8) is newest valid
  EXPECT_EQ(resumed.steps.begin()->first, 9);
}

// A checkpoint is a voice: the synthesizer needs nothing but the file.
TEST_F(TrainerTest, SynthesizesFromTheRunFolder) {
  RecordingSink sink;
  ASSERT_TRUE(RunTrain(Config(6), tmp_.Join("run"), &sink).ok());
  std::filesystem::remove_all(tmp_.Join("data"));  // the dataset is not needed any more
  auto synth = inference::Synthesizer::Create(tmp_.Join("run"));
  ASSERT_TRUE(synth.ok()) << synth.status();
  EXPECT_THAT((*synth)->checkpoint_path(), HasSubstr("ckpt-000000006.pt"));
  inference::SynthesisOptions opt;
  opt.griffin_lim_iters = 4;
  auto out = (*synth)->Synthesize("A quiet garden.", opt);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->mel.rows, 80);
  EXPECT_GT(out->mel.cols, 0);
  EXPECT_EQ(out->sample_rate, 22050);
  EXPECT_NEAR(static_cast<double>(out->wave.size()), static_cast<double>(out->mel.cols * 256), 256);
  EXPECT_EQ(out->symbols, "a quiet garden.");
  auto foreign = (*synth)->Synthesize("A quiet gard\u1eb9n.", opt);  // a symbol this voice never learned
  EXPECT_EQ(foreign.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(foreign.status().message()), HasSubstr("U+1EB9 LATIN SMALL LETTER E WITH DOT BELOW"));
  opt.speaker = "nobody";
  EXPECT_EQ((*synth)->Synthesize("Hi.", opt).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(inference::Synthesizer::Create(tmp_.Join("nothing-here")).ok());
}

// Copy-synthesis for Glow-TTS is Griffin-Lim of the recording's own log-mel: a 16 kHz recording comes
// back at the voice's 22.05 kHz, and what Griffin-Lim made sounds like it (its log-mel is nearer the
// recording's than another recording's is).
TEST_F(TrainerTest, ResynthesizesARecordingThroughGriffinLim) {
  RecordingSink sink;
  ASSERT_TRUE(RunTrain(Config(1), tmp_.Join("run"), &sink).ok());
  auto synth = inference::Synthesizer::Create(tmp_.Join("run"));
  ASSERT_TRUE(synth.ok()) << synth.status();
  inference::SynthesisOptions opt;
  opt.griffin_lim_iters = 16;
  auto copy = (*synth)->Resynthesize(testing::TestWav("slt-a.wav"), opt);
  ASSERT_TRUE(copy.ok()) << copy.status();
  EXPECT_EQ(copy->sample_rate, 22050);
  EXPECT_TRUE(copy->symbols.empty());
  EXPECT_NEAR(static_cast<double>(copy->wave.size()), static_cast<double>(copy->mel.cols * 256), 256);
  MelExtractor mel((*synth)->config().audio);
  auto recording = LoadWave(testing::TestWav("slt-a.wav"), (*synth)->config().audio);
  auto other = LoadWave(testing::TestWav("rms-a.wav"), (*synth)->config().audio);
  ASSERT_TRUE(recording.ok() && other.ok());
  const FloatMatrix recording_mel = mel.Compute(*recording), other_mel = mel.Compute(*other);
  auto distance = [&](const FloatMatrix& a) {  // mean |difference| of log-mels, frame by frame
    double sum = 0;
    const int64_t cols = std::min(a.cols, copy->mel.cols);
    for (int64_t r = 0; r < a.rows; ++r) {
      for (int64_t c = 0; c < cols; ++c) sum += std::abs(a.at(r, c) - copy->mel.at(r, c));
    }
    return sum / static_cast<double>(a.rows * cols);
  };
  EXPECT_LT(distance(recording_mel), 0.5 * distance(other_mel));
  // mcd_db is the result against the recording, in the units of val/mcd.
  EXPECT_GT(copy->mcd_db, 0);
  EXPECT_NEAR(copy->mcd_db, MelCepstralDistortion(copy->mel, recording_mel), 1e-9);
  EXPECT_LT(copy->mcd_db, 0.5 * MelCepstralDistortion(copy->mel, other_mel));

  auto missing = (*synth)->Resynthesize(tmp_.Join("missing.wav"), opt);
  EXPECT_FALSE(missing.ok());
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr("missing.wav"));
  ASSERT_TRUE(WriteWav16(tmp_.Join("click.wav"), std::vector<float>(300, 0.1f), 16000).ok());
  auto click = (*synth)->Resynthesize(tmp_.Join("click.wav"), opt);
  EXPECT_EQ(click.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(click.status().message()), HasSubstr("too short"));
}

// TensorBoard: a run stopped at step 7 and resumed; in between, a crashed attempt (simulated) logged
// steps 8 and 9 past the checkpoint. Our reader checks every record of every file; the real TensorBoard
// package reads the folder and shows each step once, without the crashed attempt's points.
TEST_F(TrainerTest, TensorBoardEventsReadBackAndResumeReplacesAbandonedSteps) {
  TrainConfig c = Config(12);
  const std::string out = tmp_.Join("run");
  RecordingSink first(7);
  ASSERT_TRUE(RunTrain(c, out, &first).ok());
  {
    auto crashed = tensorboard::EventWriter::Create(out + "/events");
    ASSERT_TRUE(crashed.ok());
    ASSERT_TRUE((*crashed)->Scalars(8, {{"train/loss", 999}}).ok());
    ASSERT_TRUE((*crashed)->Scalars(9, {{"train/loss", 999}}).ok());
  }
  RecordingSink second;
  ASSERT_TRUE(RunTrain(c, out, &second, "auto").ok());

  auto files = testing::EventFilesIn(out + "/events");
  ASSERT_EQ(files.size(), 3u);
  std::map<std::string, int> kinds;
  for (const auto& path : files) {
    testing::EventFile f = testing::ReadEventFile(path);
    ASSERT_EQ(f.error, "") << path;
    EXPECT_FALSE(f.truncated_tail);
    ASSERT_FALSE(f.events.empty());
    EXPECT_EQ(f.events[0].file_version(), "brain.Event:2");
    for (const auto& e : f.events) {
      for (const auto& v : e.summary().value()) {
        kinds[v.has_audio() ? "audio" : v.has_image() ? "image" : "scalar"]++;
        if (v.has_audio()) {
          EXPECT_EQ(v.audio().encoded_audio_string().substr(0, 4), "RIFF");
        }
      }
    }
  }
  EXPECT_EQ(kinds["audio"], 4);  // validation at step 8: two held-out utterances and their recordings
  EXPECT_EQ(kinds["image"], 2);  // predicted vs target mel, alignment
  testing::EventFile resumed = testing::ReadEventFile(files[2]);
  ASSERT_GE(resumed.events.size(), 2u);
  EXPECT_EQ(resumed.events[1].session_log().status(), ttsd::tensorboard::SessionLog::START);
  EXPECT_EQ(resumed.events[1].step(), 8);

  auto r = testing::RunCommand("python3 " TTSD_SOURCE_DIR "/tests/core/tensorboard/read_with_tensorboard.py " + out +
                               "/events 2>&1");
  ASSERT_EQ(r.code, 0) << r.output << "\n(the tensorboard package comes from deploy/install-deps.sh)";
  auto tb = nlohmann::json::parse(r.output.substr(r.output.find('{')));
  std::vector<int> all_steps;
  for (int i = 1; i <= 12; ++i) all_steps.push_back(i);
  EXPECT_EQ(tb["scalars"]["train/loss"]["steps"].get<std::vector<int>>(), all_steps);
  for (double v : tb["scalars"]["train/loss"]["values"].get<std::vector<double>>()) EXPECT_LT(v, 999);
  EXPECT_EQ(tb["scalars"]["val/loss"]["steps"].get<std::vector<int>>(), std::vector<int>{8});
  EXPECT_EQ(tb["scalars"]["throughput/frames_per_second"]["steps"].size(), 12u);
  ASSERT_EQ(tb["audio"].size(), 4u);
  for (const auto& [tag, samples] : tb["audio"].items()) {
    EXPECT_EQ(tag.rfind("samples/", 0), 0u);
    EXPECT_EQ(samples[0][0], 8);
    EXPECT_EQ(samples[0][3], "RIFF");
  }
  ASSERT_EQ(tb["images"].size(), 2u);
  for (const auto& [tag, images] : tb["images"].items()) EXPECT_TRUE(images[0][3].get<bool>()) << tag << " is not a valid PNG";
}

// A plateau: a learning rate too small to change anything leaves val/loss where it was, so after
// `patience` validations without an improvement of min_delta the run ends, naming the best checkpoint.
TEST_F(TrainerTest, EarlyStoppingEndsARunOnAPlateau) {
  TrainConfig c = Config(200);
  c.training.scheduler = "constant";
  c.training.learning_rate = 1e-12;
  c.early_stopping.metric = "val/loss";
  c.early_stopping.patience = 2;
  c.early_stopping.min_delta = 1e-4;
  RecordingSink sink;
  auto r = RunTrain(c, tmp_.Join("run"), &sink);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->reason, StopReason::kEarlyStopped);
  EXPECT_EQ(r->step, 24);  // validations at 8 (the best), 16 and 24 (no improvement): stop
  ASSERT_EQ(sink.validations.size(), 3u);
  EXPECT_TRUE(sink.validations[0].is_best);
  EXPECT_EQ(sink.validations[2].best_step, 8);
  EXPECT_EQ(sink.validations[2].validations_since_best, 2);
  EXPECT_EQ(sink.validations[2].values.at("early_stopping/stale_validations"), 2);
  EXPECT_THAT(r->message, HasSubstr("best checkpoint: step 8"));
  EXPECT_THAT(r->message, HasSubstr("ckpt-000000008.pt"));
  EXPECT_TRUE(std::filesystem::exists(tmp_.Join("run/checkpoints/ckpt-000000024.pt")));
  EXPECT_EQ(sink.checkpoints.back().step, 24);

}

// validation.sentences are spoken at every validation; the held-out recordings are written (and
// transcribed) once; val/mcd is logged. A sentence the symbol table cannot spell is an error before any training.
TEST_F(TrainerTest, ValidationSpeaksConfiguredSentencesAndMeasuresMcd) {
  TrainConfig c = Config(16);
  c.validation.sentences = {"hello there.", "a second one."};
  c.validation.asr = "pocketsphinx";
  RecordingSink sink;
  ASSERT_TRUE(RunTrain(c, tmp_.Join("run"), &sink).ok());
  for (const char* f : {"samples/step_8/sentence_0.wav", "samples/step_16/sentence_1.wav"}) {
    EXPECT_TRUE(std::filesystem::exists(tmp_.Join("run/") + f)) << f;
  }
  int truths = 0;
  for (const auto& e : std::filesystem::directory_iterator(tmp_.Join("run/samples/ground_truth"))) truths += e.is_regular_file();
  EXPECT_EQ(truths, 2);
  ASSERT_EQ(sink.validations.size(), 2u);
  EXPECT_GT(sink.validations[0].values.at("val/mcd"), 0.0);
  // 16 steps make noise, not speech: the recogniser hears next to nothing of the 4 texts.
  EXPECT_GT(sink.validations[0].values.at("val/wer"), 0.5);
  EXPECT_GT(sink.validations[1].values.at("val/cer"), 0.3);
  EXPECT_THAT(sink.log, HasSubstr("heard sentence_1: "));
  // The recordings are transcribed once, with the first validation: the recogniser's floor, well
  // below the untrained model's errors.
  EXPECT_THAT(sink.log, HasSubstr("heard ground_truth-"));
  ASSERT_TRUE(sink.validations[0].values.count("val/cer_recordings"));
  EXPECT_LT(sink.validations[0].values.at("val/cer_recordings"), sink.validations[0].values.at("val/cer") - 0.2);
  EXPECT_LT(sink.validations[0].values.at("val/wer_recordings"), sink.validations[0].values.at("val/wer"));
  EXPECT_FALSE(sink.validations[1].values.count("val/cer_recordings"));

  c.validation.sentences = {"ok", "this has a \u00e6 in it"};
  c.validation.asr = "none";
  RecordingSink bad;
  auto r = RunTrain(c, tmp_.Join("bad"), &bad);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("validation.sentences[1]"));
  EXPECT_TRUE(bad.steps.empty());
}

// Fine-tuning a tiny multi-speaker base onto a new speaker with a changed symbol set and a frozen
// encoder: the pre-flight report says what happens, the encoder is bit-identical after training (the
// text embedding row by row, through the symbol remap), the run starts at step 0 and its checkpoints
// name their parent.
TEST_F(TrainerTest, FineTuneOntoANewSpeakerWithChangedSymbolsAndAFrozenEncoder) {
  const std::string base_data = tmp_.Join("base_data");
  testing::MakeDataset(base_data, {{"a0", "slt-a.wav"}, {"a1", "slt-b.wav"}, {"a2", "rms-a.wav"}, {"a3", "slt-a.wav"},
                                   {"a4", "rms-a.wav"}, {"a5", "slt-b.wav"}, {"a6", "rms-a.wav"}, {"a7", "slt-a.wav"}},
                       "a0|slt|The quick brown fox.\na1|slt|Seven heavy boxes.\na2|rms|A quiet garden.\n"
                       "a3|slt|The quick brown fox.\na4|rms|A quiet garden.\na5|slt|Seven heavy boxes.\n"
                       "a6|rms|A quiet garden.\na7|slt|The quick brown fox.\n");
  TrainConfig base_cfg = Config(10);
  base_cfg.data.format = "multispeaker";
  base_cfg.data.path = base_data;
  RecordingSink base_sink;
  ASSERT_TRUE(RunTrain(base_cfg, tmp_.Join("base"), &base_sink).ok());

  // The fine-tune's symbols: the default inventory without 'z', with a new 'ß'.
  std::vector<std::string> symbols = SymbolTable::Default(base_cfg.text).symbols();
  symbols.erase(std::find(symbols.begin(), symbols.end(), "z"));
  symbols.push_back("\u00df");
  testing::WriteTextFile(tmp_.Join("symbols.json"), nlohmann::json{{"symbols", symbols}}.dump());
  TrainConfig c = Config(6);  // single-speaker data (the corpus of the fixture)
  c.text.symbols_file = tmp_.Join("symbols.json");
  c.training.scheduler = "constant";
  c.training.learning_rate = 5e-5;
  c.finetune.pretrained_model_path = tmp_.Join("base");
  c.finetune.freeze = {"encoder"};
  c.finetune.reinit = {"speaker_emb"};
  c.finetune.speaker_name = "newvoice";
  RecordingSink sink;
  auto r = RunTrain(c, tmp_.Join("ft"), &sink);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->step, 6);
  EXPECT_EQ(sink.steps.begin()->first, 1);  // a new run: step 0, not the base's 10
  ASSERT_FALSE(sink.validations.empty());
  EXPECT_EQ(sink.validations.front().step, 0);  // the base model measured on the new data first

  auto report = ReadFileToString(tmp_.Join("ft/finetune_report.txt"));
  ASSERT_TRUE(report.ok());
  EXPECT_THAT(*report, HasSubstr("1 new (initialised): \u00df, 1 dropped: z"));
  EXPECT_THAT(*report, HasSubstr("new (initialised): newvoice"));
  EXPECT_THAT(*report, HasSubstr("frozen: "));
  EXPECT_THAT(*report, HasSubstr("re-initialised: speaker_emb.weight"));
  EXPECT_THAT(sink.log, HasSubstr("fine-tune: weights: "));

  // Load both models and compare. A run folder as the base means its best checkpoint.
  auto ft_meta = Checkpointer::ReadMeta(tmp_.Join("ft/checkpoints/ckpt-000000006.pt"));
  ASSERT_TRUE(ft_meta.ok());
  auto parent = nlohmann::json::parse(ft_meta->parent_json);
  const std::string base_path = tmp_.Join("base/checkpoints/ckpt-000000008.pt");  // validation at 8: best
  EXPECT_EQ(parent["path"], base_path);
  EXPECT_EQ(parent["step"], 8);
  EXPECT_EQ(parent["sha256"].get<std::string>().size(), 64u);
  auto base_meta = Checkpointer::ReadMeta(base_path);
  ASSERT_TRUE(base_meta.ok());
  auto base_symbols = SymbolTable::FromJson(base_meta->symbols_json);
  auto ft_symbols = SymbolTable::FromJson(ft_meta->symbols_json);
  ASSERT_TRUE(base_symbols.ok() && ft_symbols.ok());
  auto ft_speakers = nlohmann::json::parse(ft_meta->speakers_json).get<std::vector<std::string>>();
  EXPECT_EQ(ft_speakers, (std::vector<std::string>{"rms", "slt", "newvoice"}));
  models::GlowTts base(base_cfg.model, base_symbols->size(), 80, 2), ft(c.model, ft_symbols->size(), 80, 3);
  CheckpointMeta unused;
  ASSERT_TRUE(Checkpointer::Load(base_path, *base, {}, &unused).ok());
  ASSERT_TRUE(Checkpointer::Load(tmp_.Join("ft/checkpoints/ckpt-000000006.pt"), *ft, {}, &unused).ok());
  std::map<std::string, torch::Tensor> before;
  for (const auto& p : base->named_parameters()) before[p.key()] = p.value();
  int frozen = 0, trained_changed = 0;
  for (const auto& p : ft->named_parameters()) {
    const std::string& name = p.key();
    if (name == "encoder.emb.weight") {
      for (int id = 0; id < ft_symbols->size(); ++id) {
        const int from = base_symbols->Id(ft_symbols->Symbol(id));
        if (from < 0) continue;
        EXPECT_TRUE(torch::equal(p.value()[id], before[name][from])) << ft_symbols->Symbol(id);
      }
      ++frozen;
    } else if (name.rfind("encoder.", 0) == 0) {
      EXPECT_TRUE(torch::equal(p.value(), before.at(name))) << name << " changed although frozen";
      ++frozen;
    } else if (name.rfind("decoder.", 0) == 0 && !torch::equal(p.value(), before.at(name))) {
      ++trained_changed;
    }
  }
  EXPECT_GT(frozen, 10);
  EXPECT_GT(trained_changed, 10);  // the decoder did train
  // speaker_emb was re-initialised, not copied: the base's "rms" row is not in the fine-tuned model.
  auto ft_params = ft->named_parameters();
  EXPECT_FALSE(torch::allclose(ft_params["speaker_emb.weight"][0], before.at("speaker_emb.weight")[0]));

  // Risky but possible: a high learning rate, little data and nothing frozen are warnings.
  TrainConfig risky = c;
  risky.training.scheduler = "noam";
  risky.training.learning_rate = 1.0;
  risky.finetune.freeze.clear();
  RecordingSink warned;
  ASSERT_TRUE(RunTrain(risky, tmp_.Join("risky"), &warned).ok());
  EXPECT_THAT(warned.log, HasSubstr("fine-tune warning: the learning rate peaks at"));
  EXPECT_THAT(warned.log, HasSubstr("fine-tune warning: only 0 min"));

  // Pre-flight: a model of another size cannot take these weights; nothing trains, the field is named.
  TrainConfig wrong = c;
  wrong.model.hidden_channels = 48;
  RecordingSink refused;
  auto e = RunTrain(wrong, tmp_.Join("wrong"), &refused);
  ASSERT_FALSE(e.ok());
  EXPECT_THAT(std::string(e.status().message()), HasSubstr("model.hidden_channels is 48 here but"));
  EXPECT_THAT(std::string(e.status().message()), HasSubstr("set model.hidden_channels: "));
  EXPECT_TRUE(refused.steps.empty());
}

// Each freeze pattern is checked on its own: a misspelt one beside a good one is named, not hidden by it.
TEST(FreezeTest, FreezesByPrefixOrGlobAndNamesEachPatternThatMatchesNothing) {
  TrainConfig c;
  models::GlowTts model(c.model, 40, c.audio.n_mels, 1);
  c.finetune.freeze = {"encoder", "decoder.*", "encodr"};
  FinetuneReport report;
  const int frozen = Freeze(c, *model, &report);
  EXPECT_GT(frozen, 10);
  for (const auto& p : model->named_parameters()) {
    const bool selected = p.key().rfind("encoder.", 0) == 0 || p.key().rfind("decoder.", 0) == 0;
    EXPECT_EQ(p.value().requires_grad(), !selected) << p.key();
  }
  ASSERT_EQ(report.warnings.size(), 1u);
  EXPECT_THAT(report.warnings[0], HasSubstr("'encodr' matches no parameter"));
}

TEST(ImprovesTest, ModesDeltasAndTheFirstValue) {
  EXPECT_TRUE(Improves(5.0, std::numeric_limits<double>::infinity(), "min", 0));
  EXPECT_TRUE(Improves(-5.0, std::numeric_limits<double>::infinity(), "max", 0));  // non-finite best: none yet
  EXPECT_TRUE(Improves(0.9, 1.0, "min", 0.05));
  EXPECT_FALSE(Improves(0.97, 1.0, "min", 0.05));
  EXPECT_TRUE(Improves(1.1, 1.0, "max", 0.05));
  EXPECT_FALSE(Improves(1.0, 1.0, "max", 0));
  EXPECT_FALSE(Improves(std::nan(""), 1.0, "min", 0));
}

TEST(LearningRateTest, NoamWarmsUpThenDecays) {
  TrainingConfig t;
  t.warmup_steps = 100;
  double peak = LearningRate(t, 192, 100);
  EXPECT_NEAR(peak, std::pow(192.0, -0.5) * std::pow(100.0, -0.5), 1e-12);
  EXPECT_LT(LearningRate(t, 192, 50), peak);
  EXPECT_LT(LearningRate(t, 192, 400), peak);
  EXPECT_NEAR(LearningRate(t, 192, 400), peak / 2, 1e-12);
  t.scheduler = "constant";
  t.learning_rate = 3e-4;
  EXPECT_EQ(LearningRate(t, 192, 7), 3e-4);
}

TEST(LossScalerTest, BacksOffOnOverflowGrowsAfterAnIntervalAndUnscales) {
  LossScaler s;
  s.enabled = true;
  s.scale = 1024;
  s.growth_interval = 3;
  s.Update(false);
  EXPECT_EQ(s.scale, 512);
  s.Update(true);
  s.Update(true);
  EXPECT_EQ(s.scale, 512);
  s.Update(true);
  EXPECT_EQ(s.scale, 1024);  // three good steps in a row
  EXPECT_EQ(s.good_steps, 0);
  auto p = torch::ones({3}, torch::requires_grad());
  s.Scale((p * 2).sum()).backward();
  EXPECT_TRUE(torch::allclose(p.grad(), torch::full({3}, 2048.0)));
  s.Unscale({p});
  EXPECT_TRUE(torch::allclose(p.grad(), torch::full({3}, 2.0)));
  LossScaler off;  // fp32 / bf16: no scaling at all
  off.Update(false);
  EXPECT_EQ(off.Scale(torch::ones({})).item<float>(), 1.0f);
  EXPECT_EQ(off.scale, 65536.0);
}

TEST(ResolveDeviceTest, CpuAlwaysAndCudaOnlyWhenPresent) {
  EXPECT_TRUE(ResolveDevice("cpu")->is_cpu());
  EXPECT_EQ(ResolveDevice("gpu0").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ResolveDevice("cuda:x").status().code(), absl::StatusCode::kInvalidArgument);
  auto far = ResolveDevice("cuda:99");
  ASSERT_FALSE(far.ok());
  EXPECT_THAT(std::string(far.status().message()), ::testing::HasSubstr("cuda:99"));
  if (torch::cuda::is_available()) {
    EXPECT_TRUE(ResolveDevice("cuda:0")->is_cuda());
  } else {
    EXPECT_THAT(std::string(ResolveDevice("cuda").status().message()), ::testing::HasSubstr("--device cpu"));
  }
}

}  // namespace
}  // namespace ttsd::core::train
