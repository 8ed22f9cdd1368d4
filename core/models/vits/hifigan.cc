#include "core/models/vits/hifigan.h"

#include <algorithm>
#include <cmath>

namespace F = torch::nn::functional;

namespace ttsd::core::models {
namespace {

constexpr double kLeakySlope = 0.1;

torch::Tensor Leaky(const torch::Tensor& x, double slope = kLeakySlope) {
  return F::leaky_relu(x, F::LeakyReLUFuncOptions().negative_slope(slope));
}

// HiFi-GAN initialises generator convolutions from N(0, 0.01).
// `dim`: the output-channel dimension the norm excludes.
void InitNormal(WeightNormParams& w, double std, int64_t dim) {
  torch::NoGradGuard no_grad;
  w.v.normal_(0.0, std);
  std::vector<int64_t> dims;
  for (int64_t d = 0; d < w.v.dim(); ++d) {
    if (d != dim) dims.push_back(d);
  }
  w.g.copy_(torch::linalg_vector_norm(w.v, 2, dims, /*keepdim=*/true));
}

// A discriminator layer's channels (and groups) at `width` times the paper's.
int64_t Scaled(int64_t channels, double width) {
  return std::max<int64_t>(1, std::llround(static_cast<double>(channels) * width));
}
int64_t Groups(int64_t groups, double width, int64_t in, int64_t out) {
  int64_t g = Scaled(groups, width);
  while (g > 1 && (in % g != 0 || out % g != 0)) --g;
  return g;
}

// Runs a discriminator's layers (leaky ReLU after each) and its output conv, keeping every feature map.
template <class Conv, class Post>
Judgement Judge(torch::nn::ModuleList& convs, Post& post, torch::Tensor x) {
  Judgement j;
  for (const auto& m : *convs) {
    x = Leaky(m->as<Conv>()->forward(x));
    j.features.push_back(x);
  }
  x = post(x);
  j.features.push_back(x);
  j.score = x.flatten(1);
  return j;
}

}  // namespace

ResBlockImpl::ResBlockImpl(int64_t channels, int64_t kernel, const std::vector<int>& dilations, int type) {
  for (int d : dilations) {
    if (type == 2) {
      WnConv1d c(channels, channels, kernel, 1, d);
      InitNormal(c->w, 0.01, 0);
      convs->push_back(c);
      continue;
    }
    WnConv1d c1(channels, channels, kernel, 1, d), c2(channels, channels, kernel, 1, 1);
    InitNormal(c1->w, 0.01, 0);
    InitNormal(c2->w, 0.01, 0);
    convs1->push_back(c1);
    convs2->push_back(c2);
  }
  if (type == 2) {
    register_module("convs", convs);
  } else {
    register_module("convs1", convs1);
    register_module("convs2", convs2);
  }
}

torch::Tensor ResBlockImpl::forward(torch::Tensor x) {
  for (size_t i = 0; i < convs->size(); ++i) x = x + convs[i]->as<WnConv1d>()->forward(Leaky(x));
  for (size_t i = 0; i < convs1->size(); ++i) {
    auto y = convs1[i]->as<WnConv1d>()->forward(Leaky(x));
    y = convs2[i]->as<WnConv1d>()->forward(Leaky(y));
    x = x + y;
  }
  return x;
}

HifiGanGeneratorImpl::HifiGanGeneratorImpl(const VitsConfig& c, int64_t in_channels, int64_t gin_channels)
    : kernels_per_level(static_cast<int64_t>(c.resblock_kernels.size())) {
  int64_t ch = c.upsample_initial_channels;
  conv_pre = register_module("conv_pre", torch::nn::Conv1d(torch::nn::Conv1dOptions(in_channels, ch, 7).padding(3)));
  if (gin_channels > 0) cond = register_module("cond", torch::nn::Conv1d(torch::nn::Conv1dOptions(gin_channels, ch, 1)));
  for (size_t i = 0; i < c.upsample_rates.size(); ++i) {
    WnConvTranspose1d up(ch, ch / 2, c.upsample_kernels[i], c.upsample_rates[i]);
    InitNormal(up->w, 0.01, 1);
    ups->push_back(up);
    ch /= 2;
    for (size_t k = 0; k < c.resblock_kernels.size(); ++k) {
      resblocks->push_back(ResBlock(ch, c.resblock_kernels[k], c.DilationsOf(k), c.resblock_type));
    }
  }
  register_module("ups", ups);
  register_module("resblocks", resblocks);
  conv_post = register_module("conv_post",
                              torch::nn::Conv1d(torch::nn::Conv1dOptions(ch, 1, 7).padding(3).bias(false)));
}

torch::Tensor HifiGanGeneratorImpl::forward(const torch::Tensor& z, const torch::Tensor& g) {
  auto x = conv_pre(z);
  if (g.defined() && cond) x = x + cond(g);
  for (size_t i = 0; i < ups->size(); ++i) {
    x = ups[i]->as<WnConvTranspose1d>()->forward(Leaky(x));
    // The level's resblocks (one per kernel size) read the same input; their mean goes on.
    torch::Tensor sum;
    for (int64_t k = 0; k < kernels_per_level; ++k) {
      auto y = resblocks[static_cast<size_t>(static_cast<int64_t>(i) * kernels_per_level + k)]->as<ResBlock>()->forward(x);
      sum = sum.defined() ? sum + y : y;
    }
    x = sum / static_cast<double>(kernels_per_level);
  }
  return torch::tanh(conv_post(Leaky(x, 0.01)));
}

PeriodDiscriminatorImpl::PeriodDiscriminatorImpl(int64_t period_, double width) : period(period_) {
  const int64_t paper[] = {32, 128, 512, 1024, 1024};
  int64_t in = 1;
  for (size_t i = 0; i < 5; ++i) {
    int64_t out = Scaled(paper[i], width);
    convs->push_back(WnConv2d(in, out, 5, i < 4 ? 3 : 1, 2));
    in = out;
  }
  register_module("convs", convs);
  post = register_module("post", WnConv2d(in, 1, 3, 1, 1));
}

Judgement PeriodDiscriminatorImpl::forward(const torch::Tensor& wave) {
  const int64_t b = wave.size(0), c = wave.size(1);
  auto x = wave;
  if (int64_t rest = x.size(2) % period; rest != 0) {
    x = F::pad(x, F::PadFuncOptions({0, period - rest}).mode(torch::kReflect));
  }
  return Judge<WnConv2d>(convs, post, x.view({b, c, x.size(2) / period, period}));
}

ScaleDiscriminatorImpl::ScaleDiscriminatorImpl(double width) {
  struct Layer {
    int64_t out, kernel, stride, groups;
  };
  const Layer paper[] = {{16, 15, 1, 1}, {64, 41, 4, 4}, {256, 41, 4, 16}, {1024, 41, 4, 64}, {1024, 41, 4, 256}, {1024, 5, 1, 1}};
  int64_t in = 1;
  for (const auto& l : paper) {
    int64_t out = Scaled(l.out, width);
    convs->push_back(WnConv1d(in, out, l.kernel, l.stride, 1, Groups(l.groups, width, in, out), (l.kernel - 1) / 2));
    in = out;
  }
  register_module("convs", convs);
  post = register_module("post", WnConv1d(in, 1, 3));
}

Judgement ScaleDiscriminatorImpl::forward(const torch::Tensor& wave) { return Judge<WnConv1d>(convs, post, wave); }

VitsDiscriminatorImpl::VitsDiscriminatorImpl(const VitsConfig& c) {
  discriminators->push_back(ScaleDiscriminator(c.discriminator_width));
  for (int p : c.discriminator_periods) discriminators->push_back(PeriodDiscriminator(p, c.discriminator_width));
  register_module("discriminators", discriminators);
}

std::vector<Judgement> VitsDiscriminatorImpl::forward(const torch::Tensor& wave) {
  std::vector<Judgement> out;
  for (const auto& d : *discriminators) {
    if (auto* s = d->as<ScaleDiscriminator>()) {
      out.push_back(s->forward(wave));
    } else {
      out.push_back(d->as<PeriodDiscriminator>()->forward(wave));
    }
  }
  return out;
}

DiscriminatorLoss LeastSquaresDiscriminatorLoss(const std::vector<Judgement>& real, const std::vector<Judgement>& fake) {
  DiscriminatorLoss l;
  for (size_t i = 0; i < real.size(); ++i) {
    auto term = torch::mean(torch::square(1 - real[i].score)) + torch::mean(torch::square(fake[i].score));
    l.per_discriminator.push_back(term.item<double>());
    l.total = l.total.defined() ? l.total + term : term;
  }
  return l;
}

torch::Tensor LeastSquaresGeneratorLoss(const std::vector<Judgement>& fake) {
  torch::Tensor total;
  for (const auto& j : fake) {
    auto term = torch::mean(torch::square(1 - j.score));
    total = total.defined() ? total + term : term;
  }
  return total;
}

torch::Tensor FeatureMatchingLoss(const std::vector<Judgement>& real, const std::vector<Judgement>& fake) {
  torch::Tensor total;
  for (size_t i = 0; i < real.size(); ++i) {
    for (size_t k = 0; k < real[i].features.size(); ++k) {
      auto term = torch::mean(torch::abs(real[i].features[k].detach() - fake[i].features[k]));
      total = total.defined() ? total + term : term;
    }
  }
  return 2 * total;
}

}  // namespace ttsd::core::models
