// `ttsd import` against the sources' own code: each fixture in tests/data/interop is a small VITS that
// piper-tts's training code built, saved as its trainer saves, and ran (fixtures.py). The
// imported checkpoint, spoken by ttsd's Synthesizer on the same phoneme ids with noise 0, must give the
// same waveform: same length, SI-SDR >= 60 dB. Then the refusals: nothing is written for a bad source.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "core/audio/npy.h"
#include "core/common/file_util.h"
#include "core/inference/synthesizer.h"
#include "core/interop/vits_import.h"
#include "core/train/checkpoint.h"
#include "tests/testing/temp_dir.h"

namespace ttsd::core::interop {
namespace {

using ::testing::HasSubstr;

std::string Fixture(const std::string& name) { return testing::TestDataDir() + "/interop/" + name; }

// Scale-invariant signal-to-distortion ratio of `estimate` against `reference`, in dB.
double SiSdr(const std::vector<float>& estimate, const std::vector<float>& reference) {
  double dot = 0, ref_energy = 0;
  for (size_t i = 0; i < reference.size(); ++i) {
    dot += static_cast<double>(estimate[i]) * reference[i];
    ref_energy += static_cast<double>(reference[i]) * reference[i];
  }
  const double a = dot / ref_energy;
  double target = 0, error = 0;
  for (size_t i = 0; i < reference.size(); ++i) {
    const double t = a * reference[i], e = estimate[i] - t;
    target += t * t;
    error += e * e;
  }
  return 10 * std::log10(target / error);
}

class ParityTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ParityTest, ImportedVoiceSpeaksAsTheSourcesOwnInference) {
  testing::TempDir tmp;
  const std::string dir = Fixture(GetParam());
  ImportOptions o;
  o.format = GetParam().substr(0, GetParam().find('-'));  // piper-xlow -> piper
  o.source = dir + (o.format == "vits" ? "/G.pth" : o.format == "coqui" ? "/model.pth" : "/model.ckpt");
  // Piper's and VITS's config.json beside the checkpoint is found; Coqui's checkpoint carries its own.
  o.out = tmp.Join("voice.pt");
  auto report = ImportVoice(o);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_GT(report->mapped + report->folded, 200);
  EXPECT_TRUE(report->unused.empty()) << report->ToString();
  EXPECT_TRUE(std::filesystem::exists(o.out + ".sha256"));
  EXPECT_THAT(report->ToString(), HasSubstr("no discriminator in the source"));

  // Lineage names the source file and its sha256.
  auto meta = train::Checkpointer::ReadMeta(o.out);
  ASSERT_TRUE(meta.ok()) << meta.status();
  auto parent = nlohmann::json::parse(meta->parent_json);
  EXPECT_EQ(parent["imported_from"], o.format);
  EXPECT_EQ(parent["sha256"].get<std::string>().size(), 64u);

  auto ref = nlohmann::json::parse(*ReadFileToString(dir + "/reference.json"));
  auto wave = ReadNpy(dir + "/reference.npy");
  ASSERT_TRUE(wave.ok()) << wave.status();
  auto synth = inference::Synthesizer::Create(o.out);
  ASSERT_TRUE(synth.ok()) << synth.status();
  inference::SynthesisOptions so;
  so.noise_scale = 0;
  so.noise_scale_w = 0;
  so.length_scale = 1;
  if (!ref["speaker_id"].is_null()) {  // Coqui's names come from its speakers.pth, the others' are numbered
    so.speaker = ref.value("speaker_name", nlohmann::json()).is_string()
                     ? ref["speaker_name"].get<std::string>()
                     : "speaker_" + std::to_string(ref["speaker_id"].get<int>());
  }
  auto out = (*synth)->SynthesizeIds(ref["ids"].get<std::vector<int64_t>>(), so);
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_EQ(out->wave.size(), wave->data.size());
  // An id past the voice's table is an error, not a read past the embedding.
  auto outside = (*synth)->SynthesizeIds({1, 0, 100000, 0, 2}, so);
  EXPECT_TRUE(absl::IsInvalidArgument(outside.status())) << outside.status();
  const double sdr = SiSdr(out->wave, wave->data);
  EXPECT_GE(sdr, 60.0) << GetParam();
  RecordProperty("si_sdr_db", std::to_string(sdr));
}

INSTANTIATE_TEST_SUITE_P(Sources, ParityTest,
                         ::testing::Values("piper-xlow", "piper-high", "piper-multispeaker", "piper-deterministic",
                                           "vits-ljs", "vits-vctk", "coqui-vits", "coqui-multispeaker"),
                         [](const auto& info) {
                           std::string n = info.param;
                           n.replace(n.find('-'), 1, "_");
                           return n;
                         });

TEST(VitsImportTest, RefusesWhatIsNotAPiperVoiceAndWritesNothing) {
  testing::TempDir tmp;
  ImportOptions o;
  o.format = "piper";
  o.out = tmp.Join("out.pt");
  // Not a checkpoint at all.
  testing::WriteTextFile(tmp.Join("notes.txt"), "hello\n");
  o.source = tmp.Join("notes.txt");
  auto r = ImportVoice(o);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("not a PyTorch checkpoint"));
  // A torch.save file that is not a Lightning checkpoint.
  o.source = Fixture("oddities.pt");
  r = ImportVoice(o);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("not a Piper (Lightning) checkpoint"));
  // A Piper checkpoint with no voice config anywhere near it.
  std::filesystem::copy_file(Fixture("piper-xlow/model.ckpt"), tmp.Join("lonely.ckpt"));
  o.source = tmp.Join("lonely.ckpt");
  r = ImportVoice(o);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("pass --config"));
  // The wrong voice config: its phoneme map does not fit the embedding.
  testing::WriteTextFile(tmp.Join("small.json"), R"({"phoneme_id_map": {"_": [0], "a": [300]}})");
  o.config = tmp.Join("small.json");
  r = ImportVoice(o);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("id 300"));
  EXPECT_FALSE(std::filesystem::exists(o.out));
  EXPECT_FALSE(std::filesystem::exists(o.out + ".sha256"));
}

// What ttsd's VITS cannot hold is refused with what is wrong, before anything is written: a multilingual
// Coqui voice (a language embedding), a config whose dilations do not fit the generator's tensors.
TEST(VitsImportTest, RefusesALayoutTtsdCannotExpressAndWritesNothing) {
  testing::TempDir tmp;
  ImportOptions o;
  o.out = tmp.Join("out.pt");
  o.format = "coqui";
  o.source = Fixture("coqui-vits/model.pth");
  {
    std::string text = *ReadFileToString(Fixture("coqui-vits/config.json"));
    const std::string key = "\"use_language_embedding\": false";
    ASSERT_NE(text.find(key), std::string::npos);
    text.replace(text.find(key), key.size(), "\"use_language_embedding\": true");
    testing::WriteTextFile(tmp.Join("multilingual.json"), text);
  }
  o.config = tmp.Join("multilingual.json");
  auto r = ImportVoice(o);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(r.status())) << r.status();
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("no language embedding"));

  o.format = "vits";
  o.source = Fixture("vits-ljs/G.pth");
  auto config = nlohmann::json::parse(*ReadFileToString(Fixture("vits-ljs/config.json")));
  config["model"]["resblock_dilation_sizes"] = {{1, 3}, {1, 3, 5}, {1, 3, 5}};
  testing::WriteTextFile(tmp.Join("dilations.json"), config.dump());
  o.config = tmp.Join("dilations.json");
  r = ImportVoice(o);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(std::string(r.status().message()),
              HasSubstr("resblock_dilation_sizes[0] has 2 dilations but the tensors have 3 convolutions"));
  EXPECT_FALSE(std::filesystem::exists(o.out));
}

}  // namespace
}  // namespace ttsd::core::interop
