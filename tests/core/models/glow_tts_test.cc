#include <gtest/gtest.h>

#include <cmath>
#include <functional>

#include "core/config/train_config.h"
#include "core/models/glow_tts/glow_tts.h"
#include "core/models/modules/attention.h"
#include "core/models/modules/dropout.h"
#include "core/models/monotonic_align.h"

namespace ttsd::core::models {
namespace {

ModelConfig Tiny() {
  ModelConfig c;
  EXPECT_TRUE(ModelPreset("glow_tts", "tiny", &c));
  return c;
}

TEST(RelativeAttentionTest, BandSkewMatchesBruteForce) {
  torch::manual_seed(0);
  for (int64_t l : {1, 2, 5, 9}) {  // shorter and longer than the window
    const int64_t w = 3, r = 2 * w + 1;
    auto band = torch::randn({2, 3, l, r});
    auto abs = BandToAbsolute(band);
    ASSERT_EQ(abs.sizes(), (std::vector<int64_t>{2, 3, l, l}));
    auto full = torch::randn({2, 3, l, l});
    auto back = AbsoluteToBand(full, w);
    ASSERT_EQ(back.sizes(), (std::vector<int64_t>{2, 3, l, r}));
    for (int64_t i = 0; i < l; ++i) {
      for (int64_t j = 0; j < l; ++j) {
        // Key j seen from query i is at distance j - i, stored at band index (j - i) + w.
        bool inside = std::abs(j - i) <= w;
        EXPECT_FLOAT_EQ(abs[1][2][i][j].item<float>(), inside ? band[1][2][i][j - i + w].item<float>() : 0.0f);
      }
      for (int64_t c = 0; c < r; ++c) {
        int64_t j = i + c - w;
        EXPECT_FLOAT_EQ(back[0][1][i][c].item<float>(), j >= 0 && j < l ? full[0][1][i][j].item<float>() : 0.0f);
      }
    }
  }
}

TEST(HashDropoutTest, DropsAtTheRateScalesTheRestAndFollowsTheGenerator) {
  auto x = torch::ones({64, 32, 100});
  torch::manual_seed(7);
  auto y = HashDropout(x, 0.1, /*training=*/true);
  double dropped = (y == 0).to(torch::kFloat64).mean().item<double>();
  EXPECT_NEAR(dropped, 0.1, 0.005);
  EXPECT_NEAR(y.mean().item<double>(), 1.0, 0.01);                     // 1 / (1 - p) keeps the mean
  EXPECT_FLOAT_EQ(y.max().item<float>(), static_cast<float>(65536.0 / (65536 - 6554)));
  torch::manual_seed(7);
  EXPECT_TRUE(torch::equal(HashDropout(x, 0.1, true), y));             // a function of the generator state
  EXPECT_FALSE(torch::equal(HashDropout(x, 0.1, true), y));            // which it advances
  EXPECT_TRUE(torch::equal(HashDropout(x, 0.1, /*training=*/false), x));
  const int threads = at::get_num_threads();
  at::set_num_threads(1);
  torch::manual_seed(7);
  EXPECT_TRUE(torch::equal(HashDropout(x, 0.1, true), y));             // whatever the thread count
  at::set_num_threads(threads);
}

// The attention of Shaw et al. written out element by element: logits q.k + q.rel_k[j - i] inside the
// window, masked keys excluded, values v + rel_v[j - i].
TEST(RelativeAttentionTest, MatchesDefinition) {
  torch::manual_seed(1);
  const int64_t c = 4, heads = 2, d = 2, w = 1, t = 5;
  RelativeAttention attn(c, heads, w, /*dropout=*/0.0);
  attn->eval();
  auto x = torch::randn({1, c, t});
  auto mask = torch::ones({1, 1, t});
  mask[0][0][t - 1] = 0;  // one padded frame
  torch::NoGradGuard no_grad;
  auto got = attn->forward(x, mask);
  auto q = attn->q(x)[0] / std::sqrt(static_cast<double>(d)), k = attn->k(x)[0], v = attn->v(x)[0];
  auto mixed = torch::zeros({c, t});
  for (int64_t h = 0; h < heads; ++h) {
    auto qh = q.narrow(0, h * d, d), kh = k.narrow(0, h * d, d), vh = v.narrow(0, h * d, d);
    for (int64_t i = 0; i < t; ++i) {
      auto logits = torch::full({t}, -1e4);
      for (int64_t j = 0; j < t; ++j) {
        if (mask[0][0][i].item<float>() == 0 || mask[0][0][j].item<float>() == 0) continue;
        auto key = kh.select(1, j);
        if (std::abs(j - i) <= w) key = key + attn->rel_k[j - i + w];
        logits[j] = (qh.select(1, i) * key).sum();
      }
      auto p = torch::softmax(logits, 0);
      for (int64_t j = 0; j < t; ++j) {
        auto value = vh.select(1, j);
        if (std::abs(j - i) <= w) value = value + attn->rel_v[j - i + w];
        mixed.narrow(0, h * d, d).select(1, i) += p[j] * value;
      }
    }
  }
  auto want = attn->o(mixed.unsqueeze(0));
  EXPECT_TRUE(torch::allclose(got, want, 1e-4, 1e-5)) << got << want;
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
  double expect = std::get<1>(torch::linalg_slogdet(jac)).item<double>();
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
