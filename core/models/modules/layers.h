// Small building blocks shared by the TTS models. Tensors are [batch, channels, time] with a
// [batch, 1, time] float mask (1 = real frame), as in the papers.
#pragma once

#include <torch/torch.h>

#include "core/models/modules/dropout.h"

namespace ttsd::core::models {

// LayerNorm over the channel axis of a [B, C, T] tensor.
struct ChannelNormImpl : torch::nn::Module {
  explicit ChannelNormImpl(int64_t channels, double eps = 1e-5);
  torch::Tensor forward(const torch::Tensor& x);
  torch::Tensor gamma, beta;
  double eps;
};
TORCH_MODULE(ChannelNorm);

// [B, 1, T] mask from lengths [B].
torch::Tensor SequenceMask(const torch::Tensor& lengths, int64_t max_length);

// Conv1d with "same" padding for odd kernels.
torch::nn::Conv1d SameConv(int64_t in, int64_t out, int64_t kernel, int64_t dilation = 1);

// Position-wise feed-forward of the transformer: conv(k) -> ReLU -> dropout -> conv(k), masked.
struct FeedForwardImpl : torch::nn::Module {
  FeedForwardImpl(int64_t channels, int64_t filter_channels, int64_t kernel, double dropout);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& mask);
  torch::nn::Conv1d conv1{nullptr}, conv2{nullptr};
  Dropout drop{nullptr};
};
TORCH_MODULE(FeedForward);

// Text-encoder prenet (Glow-TTS): `layers` x (conv -> ChannelNorm -> ReLU -> dropout), a zero-initialised
// projection, and a residual connection so it starts as the identity.
struct ConvReluNormImpl : torch::nn::Module {
  ConvReluNormImpl(int64_t channels, int64_t kernel, int64_t layers, double dropout);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& mask);
  torch::nn::ModuleList convs, norms;
  torch::nn::Conv1d proj{nullptr};
  Dropout drop{nullptr};
};
TORCH_MODULE(ConvReluNorm);

// The text encoders' transformer (Glow-TTS, VITS): per layer, relative self-attention and a
// feed-forward, each added back and layer-normalised (post-norm), everything masked. The four lists
// are the caller's registered modules (attention: RelativeAttention; norm1/norm2: ChannelNorm; ffn:
// FeedForward), so parameter names stay the caller's.
torch::Tensor TransformerLayers(torch::Tensor x, const torch::Tensor& mask, torch::nn::ModuleList& attention,
                                torch::nn::ModuleList& norm1, torch::nn::ModuleList& ffn, torch::nn::ModuleList& norm2,
                                Dropout& drop);
// Appends `layers` such layers to the four lists.
void AddTransformerLayers(int64_t layers, int64_t hidden, int64_t filter, int64_t heads, int64_t kernel, int64_t window,
                          double dropout, torch::nn::ModuleList& attention, torch::nn::ModuleList& norm1,
                          torch::nn::ModuleList& ffn, torch::nn::ModuleList& norm2);

}  // namespace ttsd::core::models
