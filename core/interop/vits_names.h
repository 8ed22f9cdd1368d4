// Parameter names of the VITS family in the authors' layout (jaywalnut310/vits, which Piper's training
// code keeps) -> ttsd's VitsImpl names. Weight-norm pairs are named by their base ("dec.ups.0.weight");
// the importer folds or re-expresses them. No LibTorch here.
#pragma once

#include <optional>
#include <string>

namespace ttsd::core::interop {

// A generator tensor's ttsd name ("enc_p.encoder.attn_layers.0.conv_q.weight" ->
// "encoder.attention.0.q.weight"); nullopt when ttsd has no such parameter. `stochastic`: the
// checkpoint's dp is the stochastic duration predictor (else the deterministic one).
std::optional<std::string> VitsGeneratorName(const std::string& name, bool stochastic);

// A discriminator tensor's ttsd name ("discriminators.1.conv_post.bias" ->
// "discriminator.discriminators.1.post.bias"): the multi-period discriminator's layout (scale
// discriminator first), as the authors' MultiPeriodDiscriminator.
std::optional<std::string> VitsDiscriminatorName(const std::string& name);

// Coqui TTS's VITS names -> the authors' ("text_encoder." -> "enc_p.", "waveform_decoder." -> "dec.",
// "disc.nets.N" -> "discriminators.N"; its flows hold no Flip modules, so flow.flows.N is the authors'
// flows.2N and duration_predictor.flows.N (N > 0) their flows.2N-1). nullopt for what the authors'
// layout has no place for (a language embedding).
std::optional<std::string> CoquiToVitsName(const std::string& name);

}  // namespace ttsd::core::interop
