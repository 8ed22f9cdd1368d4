#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/config/config_yaml.h"
#include "core/config/validate.h"
#include "tests/testing/temp_dir.h"

namespace ttsd::core {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

TEST(ConfigYamlTest, ParsesFieldsAndKeepsDefaults) {
  auto parsed = ParseConfigYaml("name: v1\ndata:\n  path: /x\n  validation:\n    count: 3\naudio:\n  hop_length: 200\n", "c.yaml");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->config.name, "v1");
  EXPECT_EQ(parsed->config.data.path, "/x");
  EXPECT_EQ(parsed->config.data.validation.count, 3);
  EXPECT_EQ(parsed->config.audio.hop_length, 200);
  EXPECT_EQ(parsed->config.audio.n_fft, 1024);  // default kept
  EXPECT_EQ(parsed->marks.at("audio.hop_length").line, 7);
  EXPECT_EQ(parsed->marks.at("audio.hop_length").column, 15);
}

TEST(ConfigYamlTest, ReportsEveryErrorWithLineColumnAndPath) {
  const std::string yaml =
      "name: v1\n"
      "data:\n"
      "  path: /x\n"
      "  max_audio_secs: 10\n"   // unknown key
      "audio:\n"
      "  hop_length: fast\n"     // wrong type
      "  n_mels: [80]\n"         // list where a scalar belongs
      "batchy: 3\n";             // unknown top-level key
  auto parsed = ParseConfigYaml(yaml, "my.yaml");
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
  std::string msg(parsed.status().message());
  EXPECT_THAT(msg, HasSubstr("4 errors in my.yaml"));
  EXPECT_THAT(msg, HasSubstr("my.yaml:4:3: data.max_audio_secs: unknown key 'max_audio_secs'"));
  EXPECT_THAT(msg, HasSubstr("max_audio_seconds"));  // the known keys are listed
  EXPECT_THAT(msg, HasSubstr("my.yaml:6:15: audio.hop_length: expected an integer, got 'fast'"));
  EXPECT_THAT(msg, HasSubstr("my.yaml:7:11: audio.n_mels: expected an integer, got a list"));
  EXPECT_THAT(msg, HasSubstr("my.yaml:8:1: batchy: unknown key"));
}

TEST(ConfigYamlTest, SyntaxErrorHasLineColumn) {
  auto parsed = ParseConfigYaml("name: v1\ndata: [unclosed\n", "bad.yaml");
  ASSERT_FALSE(parsed.ok());
  EXPECT_THAT(std::string(parsed.status().message()), AllOf(HasSubstr("bad.yaml:"), HasSubstr("YAML syntax error")));
}

TEST(ConfigYamlTest, NotAMappingIsAnError) {
  auto parsed = ParseConfigYaml("- a\n- b\n", "list.yaml");
  ASSERT_FALSE(parsed.ok());
  EXPECT_THAT(std::string(parsed.status().message()), HasSubstr("must be a YAML mapping"));
}

TEST(ConfigValidateTest, RangeErrorsPointAtTheirLines) {
  testing::TempDir tmp;
  auto parsed = ParseConfigYaml(
      "data:\n  path: " + tmp.path() + "\n  format: csv\naudio:\n  n_fft: 1000\n  fmax: 20000\n", "v.yaml");
  ASSERT_TRUE(parsed.ok());
  auto st = ValidateConfig(parsed->config, parsed->marks, "v.yaml");
  ASSERT_FALSE(st.ok());
  std::string msg(st.message());
  EXPECT_THAT(msg, HasSubstr("v.yaml:3:11: data.format: 'csv' is not one of: ljspeech, multispeaker, jsonl"));
  EXPECT_THAT(msg, HasSubstr("v.yaml:5:10: audio.n_fft: must be a power of two"));
  EXPECT_THAT(msg, HasSubstr("v.yaml:6:9: audio.fmax: must be > fmin and <= sample_rate/2"));
}

TEST(ConfigValidateTest, DistributedSettingsAreChecked) {
  testing::TempDir tmp;
  auto check = [&](const std::string& extra) {
    auto parsed = ParseConfigYaml("data:\n  path: " + tmp.path() + "\n" + extra, "d.yaml");
    EXPECT_TRUE(parsed.ok()) << parsed.status();
    return std::string(ValidateConfig(parsed->config, parsed->marks, "d.yaml").message());
  };
  EXPECT_EQ(check("distributed:\n  world_size: 2\n"), "");
  EXPECT_THAT(check("distributed:\n  world_size: 0\n  backend: mpi\n  timeout_s: 1\n"),
              AllOf(HasSubstr("distributed.world_size: must be in [1, 4096]"), HasSubstr("unknown backend \"mpi\""),
                    HasSubstr("distributed.timeout_s: must be >= 10")));
  EXPECT_THAT(check("distributed:\n  backend: nccl\n"), HasSubstr("nccl needs training.device: cuda"));
  EXPECT_THAT(check("batch:\n  size: 2\ndistributed:\n  world_size: 4\n"),
              HasSubstr("batch.size: is smaller than distributed.world_size (4)"));
  EXPECT_EQ(check("model:\n  type: vits\ndistributed:\n  world_size: 2\n"), "");
}

TEST(ConfigVitsTest, PresetListsRoundTripAndGeneratorMustMatchTheHop) {
  ttsd::testing::TempDir dir;
  const std::string ok = "model:\n  type: vits\n  preset: small\n  vits:\n    upsample_rates: [8, 8, 4]\n"
                         "    upsample_kernels: [16, 16, 8]\ndata:\n  path: " + dir.path() + "\n";
  auto parsed = LoadConfigText(ok, "v.yaml", dir.path());
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->config.model.vits.upsample_rates, (std::vector<int>{8, 8, 4}));
  EXPECT_EQ(parsed->config.model.vits.upsample_initial_channels, 128);  // from the small preset
  EXPECT_EQ(parsed->config.model.hidden_channels, 96);
  // The resolved config prints lists on one line and parses back to the same values.
  std::string emitted = EmitConfigYaml(parsed->config);
  EXPECT_THAT(emitted, HasSubstr("upsample_rates: [8, 8, 4]"));
  auto again = ParseConfigYaml(emitted, "resolved.yaml");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->config.model.vits.upsample_kernels, (std::vector<int>{16, 16, 8}));
  EXPECT_EQ(again->config.model.vits.discriminator_width, 0.125);

  const std::string bad = "model:\n  type: vits\n  vits:\n    upsample_rates: [8, 8, 2]\n"
                          "    upsample_kernels: [16, 16]\n    segment_size: 1000\n    duration_predictor: magic\n"
                          "    resblock_kernels: [3, x]\ndata:\n  path: " + dir.path() + "\n";
  auto st = LoadConfigText(bad, "b.yaml", dir.path()).status();
  std::string msg(st.message());
  EXPECT_THAT(msg, HasSubstr("b.yaml:8:27: model.vits.resblock_kernels: expected an integer, got 'x'"));
  auto st2 = LoadConfigText(bad.substr(0, bad.find("    resblock")) + "data:\n  path: " + dir.path() + "\n", "b.yaml",
                            dir.path()).status();
  msg = std::string(st2.message());
  EXPECT_THAT(msg, HasSubstr("model.vits.upsample_rates: multiply to 128 but audio.hop_length is 256"));
  EXPECT_THAT(msg, HasSubstr("model.vits.upsample_kernels: must have one kernel per upsample rate (3 rates, 2 kernels)"));
  EXPECT_THAT(msg, HasSubstr("model.vits.segment_size: must be a positive multiple of audio.hop_length (256)"));
  EXPECT_THAT(msg, HasSubstr("model.vits.duration_predictor: 'magic' is not one of: stochastic, deterministic"));
  // Hostile sizes are refused before any arithmetic on them could overflow.
  std::string many = "model:\n  type: vits\n  vits:\n    upsample_rates: [64";
  for (int i = 0; i < 20; ++i) many += ", 64";
  many += "]\ndata:\n  path: " + dir.path() + "\n";
  EXPECT_THAT(std::string(LoadConfigText(many, "m.yaml", dir.path()).status().message()),
              HasSubstr("model.vits.upsample_rates: at most 16 levels"));
}

// Piper's generators: a dilation list per resblock kernel (a list of lists in YAML) and ResBlock2.
TEST(ConfigVitsTest, DilationsPerKernelAreAListOfListsCheckedAgainstTheKernels) {
  ttsd::testing::TempDir dir;
  const std::string head = "model:\n  type: vits\n  vits:\n    upsample_rates: [8, 8, 4]\n"
                           "    upsample_kernels: [16, 16, 8]\n    resblock_kernels: [3, 5, 7]\n";
  const std::string tail = "data:\n  path: " + dir.path() + "\n";
  auto parsed = LoadConfigText(head + "    resblock_dilations_per_kernel: [[1, 2], [2, 6], [3, 12]]\n"
                                      "    resblock_type: 2\n" + tail, "p.yaml", dir.path());
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  const VitsConfig& v = parsed->config.model.vits;
  EXPECT_EQ(v.DilationsOf(1), (std::vector<int>{2, 6}));
  EXPECT_EQ(v.resblock_type, 2);
  std::string emitted = EmitConfigYaml(parsed->config);
  EXPECT_THAT(emitted, HasSubstr("resblock_dilations_per_kernel: [[1, 2], [2, 6], [3, 12]]"));
  auto again = ParseConfigYaml(emitted, "resolved.yaml");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->config.model.vits.resblock_dilations_per_kernel, v.resblock_dilations_per_kernel);
  // Without the list, every kernel uses resblock_dilations.
  EXPECT_EQ(VitsConfig{}.DilationsOf(2), (std::vector<int>{1, 3, 5}));

  auto msg = [&](const std::string& vits) {
    return std::string(LoadConfigText(head + vits + tail, "b.yaml", dir.path()).status().message());
  };
  EXPECT_THAT(msg("    resblock_dilations_per_kernel: [[1, 2], [2, 6]]\n"),
              HasSubstr("must have one list per resblock kernel (3 kernels, 2 lists)"));
  EXPECT_THAT(msg("    resblock_dilations_per_kernel: [[1, x], [2], [3]]\n"),
              HasSubstr("model.vits.resblock_dilations_per_kernel: expected an integer in this inner list"));
  EXPECT_THAT(msg("    resblock_dilations_per_kernel: [1, 2, 3]\n"), HasSubstr("expected a list of lists of integers"));
  EXPECT_THAT(msg("    resblock_dilations_per_kernel: [[1], [0], [3]]\n"), HasSubstr("every dilation must be >= 1"));
  EXPECT_THAT(msg("    resblock_type: 3\n"), HasSubstr("model.vits.resblock_type: must be 1"));
  EXPECT_THAT(msg("    sdp_channels: -1\n    dp_norm_eps: 0\n"),
              AllOf(HasSubstr("model.vits.sdp_channels: must be >= 0"), HasSubstr("model.vits.dp_norm_eps: must be in (0, 1)")));
}

TEST(ConfigVitsTest, VitsSettingsOnAnotherModelAreAnErrorAndVitsBringsItsTrainingDefaults) {
  ttsd::testing::TempDir dir;
  auto st = LoadConfigText("model:\n  vits:\n    flows: 2\ndata:\n  path: " + dir.path() + "\n", "g.yaml", dir.path()).status();
  EXPECT_THAT(std::string(st.message()), HasSubstr("g.yaml:3:5: model.vits: applies to model.type: vits only (this config trains glow_tts): remove"));
  // A resolved Glow-TTS config (which prints the section with its defaults) loads again.
  auto glow = LoadConfigText("data:\n  path: " + dir.path() + "\n", "g.yaml", dir.path());
  ASSERT_TRUE(glow.ok()) << glow.status();
  auto resolved = LoadConfigText(EmitConfigYaml(glow->config), "resolved.yaml", dir.path());
  EXPECT_TRUE(resolved.ok()) << resolved.status();
  // model.type: vits brings the paper's training defaults; a key the file sets still wins.
  auto vits = LoadConfigText("model:\n  type: vits\ntraining:\n  adam_beta1: 0.7\ndata:\n  path: " + dir.path() + "\n",
                             "v.yaml", dir.path());
  ASSERT_TRUE(vits.ok()) << vits.status();
  EXPECT_EQ(vits->config.training.optimizer, "adamw");
  EXPECT_EQ(vits->config.training.scheduler, "exponential");
  EXPECT_DOUBLE_EQ(vits->config.training.learning_rate, 2e-4);
  EXPECT_DOUBLE_EQ(vits->config.training.adam_beta2, 0.99);
  EXPECT_DOUBLE_EQ(vits->config.training.adam_beta1, 0.7);
}

TEST(ConfigValidateTest, MissingDatasetIsReported) {
  auto parsed = ParseConfigYaml("data:\n  path: /no/such/dataset\n", "m.yaml");
  ASSERT_TRUE(parsed.ok());
  auto st = ValidateConfig(parsed->config, parsed->marks, "m.yaml");
  EXPECT_THAT(std::string(st.message()), HasSubstr("m.yaml:2:9: data.path: dataset folder /no/such/dataset does not exist"));
}

TEST(ConfigValidateTest, BestMetricAndEarlyStoppingNameRealValidationMetrics) {
  testing::TempDir tmp;
  auto parsed = ParseConfigYaml("data:\n  path: " + tmp.path() +
                                    "\nvalidation:\n  samples: 0\ncheckpoint:\n  best_metric: val/bleu\n  best_mode: lowest\n"
                                    "early_stopping:\n  metric: val/mcd\n  patience: 0\n",
                                "e.yaml");
  ASSERT_TRUE(parsed.ok());
  std::string msg(ValidateConfig(parsed->config, parsed->marks, "e.yaml").message());
  EXPECT_THAT(msg, HasSubstr("checkpoint.best_metric: 'val/bleu' is not a metric a validation can judge by: val/loss, val/mle"));
  EXPECT_THAT(msg, HasSubstr("checkpoint.best_mode: 'lowest' is not one of: min, max"));
  EXPECT_THAT(msg, HasSubstr("early_stopping.metric: val/mcd is measured on the validation samples: set validation.samples >= 1"));
  EXPECT_THAT(msg, HasSubstr("early_stopping.patience: must be >= 1"));

  auto wer = ParseConfigYaml("data:\n  path: " + tmp.path() + "\ncheckpoint:\n  best_metric: val/wer\n", "w.yaml");
  ASSERT_TRUE(wer.ok());
  EXPECT_THAT(std::string(ValidateConfig(wer->config, wer->marks, "w.yaml").message()),
              HasSubstr("val/wer comes from speech recognition: set validation.asr: pocketsphinx"));
  auto yoruba = ParseConfigYaml("data:\n  path: " + tmp.path() + "\ntext:\n  language: yo\nvalidation:\n  asr: pocketsphinx\n",
                                "y.yaml");
  ASSERT_TRUE(yoruba.ok());
  EXPECT_THAT(std::string(ValidateConfig(yoruba->config, yoruba->marks, "y.yaml").message()),
              HasSubstr("y.yaml:6:8: validation.asr: pocketsphinx recognises English only; text.language is 'yo'"));
}

TEST(ConfigYamlTest, SentencesAreAListOfStrings) {
  auto parsed = ParseConfigYaml("validation:\n  sentences:\n    - \"Hello there.\"\n    - Good night, moon.\n", "s.yaml");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->config.validation.sentences, (std::vector<std::string>{"Hello there.", "Good night, moon."}));
  auto again = ParseConfigYaml(EmitConfigYaml(parsed->config), "emitted");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->config.validation.sentences, parsed->config.validation.sentences);
  auto wrong = ParseConfigYaml("validation:\n  sentences: Hello\n", "w.yaml");
  ASSERT_FALSE(wrong.ok());
  EXPECT_THAT(std::string(wrong.status().message()), HasSubstr("w.yaml:2:14: validation.sentences: expected a list of strings"));
}

// text.cleaners is a list of mappings: each rule's fields are checked where they stand (the pattern
// compiled, the replacement's groups counted), and the list survives the resolved config.
TEST(ConfigYamlTest, CleanerRulesAreMappingsCheckedWhereTheyStand) {
  testing::TempDir tmp;
  const std::string head = "data:\n  path: " + tmp.path() + "\ntext:\n  cleaners:\n";
  auto parsed = ParseConfigYaml(head +
                                    "    - match: '\\bDr\\.'\n"
                                    "      replace: Doctor\n"
                                    "    - {match: '(\\d+)%', replace: '$1 percent'}\n"
                                    "    - transliterate: Any-Latin; Latin-ASCII\n",
                                "c.yaml");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  ASSERT_EQ(parsed->config.text.cleaners.size(), 3u);
  EXPECT_EQ(parsed->config.text.cleaners[0].match, "\\bDr\\.");
  EXPECT_EQ(parsed->config.text.cleaners[1].replace, "$1 percent");
  EXPECT_EQ(parsed->config.text.cleaners[2].transliterate, "Any-Latin; Latin-ASCII");
  EXPECT_TRUE(ValidateConfig(parsed->config, parsed->marks, "c.yaml").ok());
  auto again = ParseConfigYaml(EmitConfigYaml(parsed->config), "emitted");
  ASSERT_TRUE(again.ok()) << again.status() << "\n" << EmitConfigYaml(parsed->config);
  ASSERT_EQ(again->config.text.cleaners.size(), 3u);
  EXPECT_EQ(again->config.text.cleaners[1].replace, "$1 percent");
  EXPECT_EQ(EmitConfigYaml(again->config), EmitConfigYaml(parsed->config));

  auto bad = ParseConfigYaml(head +
                                 "    - match: '(\\d+'\n"
                                 "      replace: x\n"
                                 "    - match: a\n"
                                 "      replace: $2\n",
                             "b.yaml");
  ASSERT_TRUE(bad.ok()) << bad.status();
  auto st = ValidateConfig(bad->config, bad->marks, "b.yaml");
  ASSERT_FALSE(st.ok());
  EXPECT_THAT(std::string(st.message()), HasSubstr("b.yaml:5:14: text.cleaners[0].match: '(\\d+' is not a regular expression"));
  EXPECT_THAT(std::string(st.message()), HasSubstr("b.yaml:8:16: text.cleaners[1].replace: '$2' refers to group $2"));

  auto shape = ParseConfigYaml(head + "    - just a string\n    - {match: a, with: b}\n", "s.yaml");
  ASSERT_FALSE(shape.ok());
  EXPECT_THAT(std::string(shape.status().message()), HasSubstr("s.yaml:5:7: text.cleaners[0]: expected a mapping"));
  EXPECT_THAT(std::string(shape.status().message()), HasSubstr("text.cleaners[1].with: unknown key 'with'"));
}

TEST(ConfigYamlTest, ResolvedConfigRoundTrips) {
  testing::TempDir tmp;
  auto parsed = ParseConfigYaml("name: \"x: y\"\ndata:\n  path: " + tmp.path() + "\ntext:\n  mode: characters\n", "r.yaml");
  ASSERT_TRUE(parsed.ok());
  std::string emitted = EmitConfigYaml(parsed->config);
  auto again = ParseConfigYaml(emitted, "emitted");
  ASSERT_TRUE(again.ok()) << again.status() << "\n" << emitted;
  EXPECT_EQ(again->config.name, "x: y");
  EXPECT_EQ(again->config.text.mode, "characters");
  EXPECT_EQ(EmitConfigYaml(again->config), emitted);
}

TEST(ConfigFileTest, RelativePathsResolveAgainstTheConfigFolder) {
  testing::TempDir tmp;
  std::filesystem::create_directories(tmp.Join("corpus"));
  std::string path = testing::WriteConfig(tmp.path(), "data:\n  path: corpus\n");
  auto parsed = LoadConfigFile(path);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->config.data.path, tmp.Join("corpus"));
}

TEST(ConfigFileTest, MissingFileIsNotFound) {
  auto parsed = LoadConfigFile("/no/such/config.yaml");
  EXPECT_EQ(parsed.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(parsed.status().message()), HasSubstr("/no/such/config.yaml"));
}

}  // namespace
}  // namespace ttsd::core
