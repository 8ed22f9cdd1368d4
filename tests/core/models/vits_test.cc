// VITS pieces against their definitions (spline and flows invert exactly, shapes follow the framing),
// then tiny VITS trained for a few steps on real flite speech: every loss term present and finite,
// both networks updated, and the mel reconstruction improving.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "core/audio/resample.h"
#include "core/audio/wav.h"
#include "core/config/train_config.h"
#include "core/models/vits/spline.h"
#include "core/models/vits/vits.h"
#include "core/train/vits_step.h"

namespace ttsd::core::models {
namespace {

ModelConfig TinyVits() {
  ModelConfig c;
  EXPECT_TRUE(ModelPreset("vits", "tiny", &c));
  return c;
}

TEST(VitsPresetTest, BaseIsThePapersModel) {
  ModelConfig c;
  ASSERT_TRUE(ModelPreset("vits", "base", &c));
  EXPECT_EQ(c.hidden_channels, 192);
  EXPECT_EQ(c.filter_channels, 768);
  EXPECT_EQ(c.n_heads, 2);
  EXPECT_EQ(c.n_layers, 6);
  EXPECT_EQ(c.vits.posterior_layers, 16);
  EXPECT_EQ(c.vits.flows, 4);
  EXPECT_EQ(c.vits.upsample_rates, (std::vector<int>{8, 8, 2, 2}));
  EXPECT_EQ(c.vits.upsample_kernels, (std::vector<int>{16, 16, 4, 4}));
  EXPECT_EQ(c.vits.upsample_initial_channels, 512);
  EXPECT_EQ(c.vits.resblock_kernels, (std::vector<int>{3, 7, 11}));
  EXPECT_EQ(c.vits.segment_size, 8192);
  EXPECT_FALSE(ModelPreset("vits", "huge", &c));
}

TEST(SplineTest, InverseUndoesForwardAndLogDetMatchesFiniteDifference) {
  torch::manual_seed(0);
  const int64_t k = 10;
  auto x = torch::linspace(-6, 6, 241, torch::kFloat64);  // through both tails
  // One spline (the same parameters at every x), so monotonicity can be read off the outputs.
  auto w = torch::randn({1, k}, torch::kFloat64).expand({241, k}).contiguous();
  auto h = torch::randn({1, k}, torch::kFloat64).expand({241, k}).contiguous();
  auto d = torch::randn({1, k - 1}, torch::kFloat64).expand({241, k - 1}).contiguous();
  auto f = RationalQuadraticSpline(x, w, h, d, /*inverse=*/false, 5.0);
  auto back = RationalQuadraticSpline(f.y, w, h, d, /*inverse=*/true, 5.0);
  EXPECT_LT((back.y - x).abs().max().item<double>(), 1e-9);
  EXPECT_LT((back.logabsdet + f.logabsdet).abs().max().item<double>(), 1e-9);
  const double eps = 1e-6;
  auto slope = (RationalQuadraticSpline(x + eps, w, h, d, false, 5.0).y - RationalQuadraticSpline(x - eps, w, h, d, false, 5.0).y) /
               (2 * eps);
  auto inner = x.abs() < 4.99;
  EXPECT_LT((torch::log(slope) - f.logabsdet).masked_select(inner).abs().max().item<double>(), 1e-5);
  // Monotonic, and the identity outside the bound.
  EXPECT_TRUE((f.y.slice(0, 1) > f.y.slice(0, 0, -1)).all().item<bool>());
  auto outside = x.abs() > 5.0;
  EXPECT_TRUE(torch::equal(f.y.masked_select(outside), x.masked_select(outside)));
}

TEST(VitsFlowTest, ReverseInvertsForward) {
  torch::manual_seed(1);
  auto c = TinyVits();
  VitsFlow flow(c, 0);
  // Non-zero output convs, or every coupling would be the identity and the test would prove nothing.
  for (auto& p : flow->parameters()) p.data().normal_(0, 0.1);
  auto x = torch::randn({2, c.vits.inter_channels, 17});
  auto mask = SequenceMask(torch::tensor({17, 11}), 17);
  auto z = flow(x * mask, mask, torch::Tensor(), false);
  EXPECT_GT((z - x * mask).abs().max().item<double>(), 1e-3);
  auto back = flow(z, mask, torch::Tensor(), true);
  EXPECT_LT((back - x * mask).abs().max().item<double>(), 1e-5);
}

TEST(StochasticDurationTest, BoundIsFiniteAndTrainsAndSamplingHasTheTextsShape) {
  torch::manual_seed(2);
  StochasticDurationPredictor sdp(8, 8, 3, 0.0, 2, 0);
  for (auto& p : sdp->parameters()) p.data().add_(torch::randn_like(p) * 0.05);
  auto x = torch::randn({2, 8, 6});
  auto mask = SequenceMask(torch::tensor({6, 4}), 6);
  auto w = torch::tensor({3.f, 1.f, 7.f, 2.f, 4.f, 1.f, 2.f, 5.f, 1.f, 9.f, 0.f, 0.f}).view({2, 1, 6}) * mask;
  torch::optim::Adam opt(sdp->parameters(), torch::optim::AdamOptions(1e-2));
  double first = 0, last = 0;
  for (int i = 0; i < 60; ++i) {
    torch::manual_seed(100 + i % 4);
    auto nll = sdp->Nll(x, mask, w, torch::Tensor()).sum() / mask.sum();
    ASSERT_TRUE(std::isfinite(nll.item<double>()));
    if (i < 4) first += nll.item<double>();
    if (i >= 56) last += nll.item<double>();
    opt.zero_grad();
    nll.backward();
    opt.step();
  }
  EXPECT_LT(last, first - 0.5) << "the duration bound should fall when fitting fixed durations";
  torch::NoGradGuard no_grad;
  auto logw = sdp->SampleLogDurations(x, mask, torch::Tensor(), 0.8);
  EXPECT_EQ(logw.sizes(), (std::vector<int64_t>{2, 1, 6}));
  EXPECT_TRUE(torch::isfinite(logw).all().item<bool>());
}

TEST(HifiGanTest, GeneratorUpsamplesByTheHopAndDiscriminatorsJudgeEveryPeriod) {
  auto c = TinyVits();
  HifiGanGenerator gen(c.vits, c.vits.inter_channels, 0);
  auto audio = gen(torch::randn({2, c.vits.inter_channels, 9}), torch::Tensor());
  EXPECT_EQ(audio.sizes(), (std::vector<int64_t>{2, 1, 9 * 256}));
  EXPECT_LE(audio.abs().max().item<double>(), 1.0);
  VitsDiscriminator disc(c.vits);
  auto judged = disc(audio);
  ASSERT_EQ(judged.size(), 1 + c.vits.discriminator_periods.size());
  for (size_t i = 0; i < judged.size(); ++i) {
    EXPECT_EQ(judged[i].score.size(0), 2);
    // Every hidden layer and the output: 6 + 1 for the scale discriminator, 5 + 1 per period one.
    EXPECT_EQ(judged[i].features.size(), i == 0 ? 7u : 6u);
  }
}

// Piper's x_low / low / medium generator: ResBlock2 (one conv per dilation), a dilation list per kernel,
// rates 8, 8, 4 with kernels 16, 16, 8; each block's convs carry their own dilation.
TEST(HifiGanTest, ResBlock2WithDilationsPerKernelUpsamplesByTheHop) {
  auto c = TinyVits();
  c.vits.upsample_rates = {8, 8, 4};
  c.vits.upsample_kernels = {16, 16, 8};
  c.vits.resblock_kernels = {3, 5, 7};
  c.vits.resblock_dilations_per_kernel = {{1, 2}, {2, 6}, {3, 12}};
  c.vits.resblock_type = 2;
  HifiGanGenerator gen(c.vits, c.vits.inter_channels, 0);
  std::vector<std::string> names;
  for (const auto& p : gen->named_parameters()) names.push_back(p.key());
  EXPECT_NE(std::find(names.begin(), names.end(), "resblocks.2.convs.1.weight_v"), names.end());
  EXPECT_EQ(std::find(names.begin(), names.end(), "resblocks.0.convs1.0.weight_v"), names.end());
  EXPECT_EQ(gen->resblocks[2]->as<ResBlock>()->convs[1]->as<WnConv1d>()->dilation, 12);
  EXPECT_EQ(gen->resblocks[4]->as<ResBlock>()->convs[0]->as<WnConv1d>()->dilation, 2);
  auto audio = gen(torch::randn({1, c.vits.inter_channels, 7}), torch::Tensor());
  EXPECT_EQ(audio.sizes(), (std::vector<int64_t>{1, 1, 7 * 256}));
}

TEST(VitsSpectraTest, FramesFollowTheHopAndSlicesLineUp) {
  AudioConfig a;
  VitsSpectra spectra(a);
  auto wave = torch::randn({2, 1, 256 * 20}) * 0.1;
  EXPECT_EQ(spectra.Linear(wave).sizes(), (std::vector<int64_t>{2, 513, 20}));
  EXPECT_EQ(spectra.LogMel(wave).sizes(), (std::vector<int64_t>{2, 80, 20}));
  auto x = torch::arange(10).view({1, 1, 10}).repeat({2, 3, 1});
  auto s = SliceSegments(x, torch::tensor({2, 7}), 4);
  EXPECT_TRUE(torch::equal(s[0][1], torch::tensor({2, 3, 4, 5})));
  EXPECT_TRUE(torch::equal(s[1][2], torch::tensor({7, 8, 9, 0})));  // past the end: zeros
}

// Three real utterances (two flite speakers) resampled to 22.05 kHz, in characters mode.
train::VitsBatch RealBatch(const AudioConfig& a) {
  struct Item {
    const char* wav;
    const char* text;
    int speaker;
  };
  const Item items[] = {{"slt-a.wav", "the quick brown fox.", 0}, {"slt-b.wav", "seven heavy boxes.", 0},
                        {"rms-a.wav", "a quiet garden.", 1}};
  std::vector<torch::Tensor> waves, ids;
  std::vector<int64_t> wave_lengths, id_lengths, speakers;
  for (const auto& it : items) {
    auto audio = ReadAudio(std::string(TTSD_TEST_DATA_DIR) + "/wavs/" + it.wav);
    EXPECT_TRUE(audio.ok()) << audio.status();
    auto mono = Resample(audio->samples, audio->sample_rate, a.sample_rate);
    EXPECT_TRUE(mono.ok());
    const int64_t n = static_cast<int64_t>(mono->size()) / a.hop_length * a.hop_length;
    waves.push_back(torch::from_blob(mono->data(), {n}, torch::kFloat32).clone());
    wave_lengths.push_back(n);
    std::vector<int64_t> t;
    for (const char* p = it.text; *p; ++p) t.push_back(1 + (*p - ' '));  // a blank-free character table
    ids.push_back(torch::tensor(t));
    id_lengths.push_back(static_cast<int64_t>(t.size()));
    speakers.push_back(it.speaker);
  }
  train::VitsBatch b;
  const int64_t t_max = *std::max_element(wave_lengths.begin(), wave_lengths.end());
  const int64_t i_max = *std::max_element(id_lengths.begin(), id_lengths.end());
  b.wave = torch::zeros({3, 1, t_max});
  b.ids = torch::zeros({3, i_max}, torch::kLong);
  for (int i = 0; i < 3; ++i) {
    b.wave[i][0].narrow(0, 0, wave_lengths[i]).copy_(waves[i]);
    b.ids[i].narrow(0, 0, id_lengths[i]).copy_(ids[i]);
  }
  b.wave_lengths = torch::tensor(wave_lengths);
  b.id_lengths = torch::tensor(id_lengths);
  b.speakers = torch::tensor(speakers);
  return b;
}

TEST(VitsTrainingTest, TinyVitsTrainsOnRealSpeechWithEveryLossTermFinite) {
  torch::manual_seed(3);
  TrainConfig cfg;
  cfg.model = TinyVits();
  cfg.training.grad_clip = 0;
  auto batch = RealBatch(cfg.audio);
  Vits gen(cfg.model, cfg.audio, /*n_symbols=*/100, /*n_speakers=*/2);
  auto opts = torch::optim::AdamWOptions(2e-3).betas(std::make_tuple(0.8, 0.99)).eps(1e-9).weight_decay(0.01);
  torch::optim::AdamW gen_opt(gen->GeneratorParameters(), opts), disc_opt(gen->DiscriminatorParameters(), opts);
  EXPECT_EQ(gen->GeneratorParameters().size() + gen->DiscriminatorParameters().size(), gen->parameters().size());
  train::VitsStepper stepper(gen, gen_opt, disc_opt, cfg);
  auto before_gen = gen->decoder->conv_post->weight.clone();
  auto before_disc = gen->discriminator->parameters()[0].clone();
  std::vector<double> mel;
  for (int step = 0; step < 12; ++step) {
    auto r = stepper.Step(batch);
    ASSERT_TRUE(r.finite) << "step " << step;
    for (const char* key : {"train/loss", "train/mel_loss", "train/kl_loss", "train/duration_loss", "train/gen_loss",
                            "train/fm_loss", "train/disc_loss", "train/disc_loss_scale", "train/disc_loss_period_2",
                            "train/disc_loss_period_3", "grad_norm", "grad_norm_disc"}) {
      ASSERT_TRUE(r.values.count(key)) << key;
      EXPECT_TRUE(std::isfinite(r.values[key])) << key << " at step " << step;
    }
    mel.push_back(r.values["train/mel_loss"]);
  }
  EXPECT_FALSE(torch::equal(before_gen, gen->decoder->conv_post->weight));
  EXPECT_FALSE(torch::equal(before_disc, gen->discriminator->parameters()[0]));
  auto val = stepper.EvalLosses(batch);
  for (const char* key : {"val/loss", "val/mel_loss", "val/kl_loss", "val/duration_loss"}) {
    ASSERT_TRUE(val.count(key)) << key;
    EXPECT_TRUE(std::isfinite(val[key])) << key;
  }
  double head = (mel[0] + mel[1] + mel[2]) / 3, tail = (mel[9] + mel[10] + mel[11]) / 3;
  EXPECT_LT(tail, head) << "mel L1 should fall over 12 steps on one batch";
  // Synthesis straight from text: audio of the predicted length, for both speakers.
  auto [audio, lengths] = gen->Infer(batch.ids, batch.id_lengths, batch.speakers, 0.667, 1.0, 0.8);
  EXPECT_EQ(audio.size(0), 3);
  EXPECT_EQ(audio.size(2), lengths.max().item<int64_t>());
  EXPECT_TRUE(torch::isfinite(audio).all().item<bool>());
  // A cap on the frames decoded holds whatever the durations say.
  auto [capped, capped_lengths] = gen->Infer(batch.ids, batch.id_lengths, batch.speakers, 0.667, 50.0, 0.8, 40);
  EXPECT_EQ(capped.size(2), 40 * 256);
  EXPECT_LE(capped_lengths.max().item<int64_t>(), 40 * 256);
}

}  // namespace
}  // namespace ttsd::core::models
