#include <gtest/gtest.h>

#include <functional>

#include "core/config/train_config.h"
#include "core/models/glow_tts/glow_tts.h"
#include "core/models/modules/attention.h"
#include "core/models/monotonic_align.h"

namespace ttsd::core::models {
namespace {

ModelConfig Tiny() {
  ModelConfig c;
  EXPECT_TRUE(ModelPreset("tiny", &c));
  return c;
}

TEST(RelativeAttentionTest, SkewMatchesBruteForce) {
  torch::manual_seed(0);
  const int64_t l = 5;
  auto rel = torch::randn({2, 3, l, 2 * l - 1});
  auto abs = RelativeToAbsolute(rel);
  ASSERT_EQ(abs.sizes(), (std::vector<int64_t>{2, 3, l, l}));
  for (int64_t i = 0; i < l; ++i) {
    for (int64_t j = 0; j < l; ++j) {
      // Key j seen from query i is at relative distance j - i, stored at index (j - i) + (l - 1).
      EXPECT_FLOAT_EQ(abs[1][2][i][j].item<float>(), rel[1][2][i][j - i + l - 1].item<float>());
    }
  }
  auto back = AbsoluteToRelative(abs);
  for (int64_t i = 0; i < l; ++i) {
    for (int64_t j = 0; j < l; ++j) {
      EXPECT_FLOAT_EQ(back[0][1][i][j - i + l - 1].item<float>(), abs[0][1][i][j].item<float>());
    }
  }
}

// The best monotonic alignment by enumerating every path of a small problem.
double BestPathScore(const torch::Tensor& lp, int64_t tx, int64_t ty) {
  std::function<double(int64_t, int64_t)> best = [&](int64_t i, int64_t j) -> double {
    double here = lp[i][j].item<double>();
    if (j == 0) return i == 0 ? here : -1e30;
    double stay = i <= j - 1 ? best(i, j - 1) : -1e30;
    double adv = i > 0 ? best(i - 1, j - 1) : -1e30;
    return std::max(stay, adv) + here;
  };
  return best(tx - 1, ty - 1);
}

TEST(MonotonicAlignmentTest, FindsTheBestPathAndIsValid) {
  torch::manual_seed(1);
  for (int trial = 0; trial < 5; ++trial) {
    const int64_t tx = 3 + trial % 2, ty = 7;
    auto lp = torch::randn({2, tx + 1, ty + 2});  // padded beyond the lengths
    auto path = MonotonicAlignmentSearch(lp, torch::tensor({tx, tx - 1}), torch::tensor({ty, ty - 1}));
    for (int64_t k = 0; k < 2; ++k) {
      int64_t x = k == 0 ? tx : tx - 1, y = k == 0 ? ty : ty - 1;
      auto p = path[k];
      EXPECT_TRUE(torch::allclose(p.narrow(0, 0, x).narrow(1, 0, y).sum(0), torch::ones({y})));  // a token per frame
      EXPECT_EQ(p.sum().item<float>(), static_cast<float>(y));                                      // nothing in padding
      EXPECT_TRUE((p.narrow(0, 0, x).narrow(1, 0, y).sum(1) >= 1).all().item<bool>());               // every token used
      double score = (p * lp[k]).sum().item<double>();
      EXPECT_NEAR(score, BestPathScore(lp[k], x, y), 1e-4);
    }
  }
}

TEST(FlowDecoderTest, ReverseInvertsForward) {
  torch::manual_seed(2);
  ModelConfig c = Tiny();
  FlowDecoder dec(c, /*channels=*/8, /*gin_channels=*/0);
  auto y = torch::randn({2, 8, 12});
  auto mask = torch::ones({2, 1, 12});
  mask[1].narrow(1, 8, 4).zero_();
  y = y * mask;
  dec->train();
  dec(y, mask, torch::Tensor(), false);  // data-dependent ActNorm init
  dec->eval();
  // Make the couplings non-trivial (they start as the identity).
  for (auto& p : dec->parameters()) p.data().add_(0.05 * torch::randn_like(p));
  FlowOutput fwd = dec(y, mask, torch::Tensor(), false);
  FlowOutput back = dec(fwd.z, mask, torch::Tensor(), true);
  EXPECT_TRUE(torch::allclose(back.z, y, 1e-4, 1e-4)) << (back.z - y).abs().max();
}

TEST(FlowDecoderTest, LogDeterminantMatchesTheJacobian) {
  torch::manual_seed(3);
  ModelConfig c = Tiny();
  c.decoder_blocks = 2;
  FlowDecoder dec(c, /*channels=*/4, 0);
  auto mask = torch::ones({1, 1, 4});
  dec->train();
  dec(torch::randn({1, 4, 4}), mask, torch::Tensor(), false);
  dec->eval();
  for (auto& p : dec->parameters()) p.data().add_(0.1 * torch::randn_like(p));
  auto y = torch::randn({1, 4, 4});
  FlowOutput fwd = dec(y, mask, torch::Tensor(), false);
  // Full 16x16 Jacobian by autograd, one output at a time.
  auto x = y.clone().requires_grad_(true);
  auto z = dec(x, mask, torch::Tensor(), false).z.reshape({-1});
  auto jac = torch::zeros({16, 16});
  for (int64_t i = 0; i < 16; ++i) {
    auto g = torch::autograd::grad({z[i]}, {x}, {}, /*retain_graph=*/true)[0];
    jac[i] = g.reshape({-1});
  }
  double expect = std::get<1>(torch::linalg::slogdet(jac)).item<double>();
  EXPECT_NEAR(fwd.logdet.item<double>(), expect, 1e-3);
}

TEST(GlowTtsTest, TrainsOnAFixedBatchAndSynthesizes) {
  torch::manual_seed(4);
  ModelConfig c = Tiny();
  GlowTts model(c, /*n_symbols=*/20, /*n_mels=*/16, /*n_speakers=*/2);
  auto ids = torch::randint(1, 20, {2, 7});
  auto id_lengths = torch::tensor({7, 5});
  auto mels = torch::randn({2, 16, 30}) * 0.5 - 4;
  auto mel_lengths = torch::tensor({30, 22});
  auto speakers = torch::tensor({0, 1});
  torch::optim::Adam opt(model->parameters(), torch::optim::AdamOptions(1e-3));
  model->train();
  double first = 0, last = 0;
  for (int step = 0; step < 30; ++step) {
    auto out = model(ids, id_lengths, mels, mel_lengths, speakers);
    auto l = model->Losses(out);
    auto loss = l.mle + l.duration;
    ASSERT_TRUE(std::isfinite(loss.item<double>()));
    if (step == 0) first = loss.item<double>();
    last = loss.item<double>();
    opt.zero_grad();
    loss.backward();
    opt.step();
  }
  EXPECT_LT(last, first - 0.5) << "first " << first << " last " << last;
  model->eval();
  auto [mel, lengths] = model->Infer(ids, id_lengths, speakers, 0.667, 1.0);
  EXPECT_EQ(mel.size(0), 2);
  EXPECT_EQ(mel.size(1), 16);
  EXPECT_EQ(mel.size(2), lengths.max().item<int64_t>());
  EXPECT_TRUE(torch::isfinite(mel).all().item<bool>());
}

}  // namespace
}  // namespace ttsd::core::models
