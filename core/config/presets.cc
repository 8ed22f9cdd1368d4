#include "core/config/train_config.h"

namespace ttsd::core {
namespace {

// Glow-TTS: the defaults are the paper's `base`.
bool GlowTtsPreset(const std::string& name, ModelConfig* m) {
  if (name == "base") return true;
  if (name == "small") {  // sized to learn a voice on 2 CPU cores in tens of minutes
    m->hidden_channels = 96;
    m->filter_channels = 256;
    m->n_layers = 3;
    m->filter_channels_dp = 96;
    m->decoder_hidden = 96;
    m->decoder_blocks = 6;
    m->decoder_block_layers = 3;
    m->speaker_channels = 64;
    return true;
  }
  if (name == "tiny") {
    m->hidden_channels = 32;
    m->filter_channels = 64;
    m->n_layers = 1;
    m->prenet_layers = 1;
    m->filter_channels_dp = 32;
    m->decoder_hidden = 32;
    m->decoder_blocks = 2;
    m->decoder_block_layers = 2;
    m->speaker_channels = 16;
    return true;
  }
  return false;
}

// VITS: the defaults are the paper's LJSpeech model (text encoder 6 x 192, FFN 768, 2 heads; the
// transformer fields are shared with Glow-TTS, whose base values are the same).
bool VitsPreset(const std::string& name, ModelConfig* m) {
  VitsConfig& v = m->vits;
  if (name == "base") return true;
  if (name == "small") {  // a voice on CPU in hours: a quarter of the generator, an eighth of the critics
    m->hidden_channels = 96;
    m->filter_channels = 384;
    m->n_layers = 4;
    m->filter_channels_dp = 96;
    m->speaker_channels = 64;
    v.inter_channels = 96;
    v.posterior_layers = 8;
    v.flow_layers = 3;
    v.upsample_initial_channels = 128;
    v.discriminator_width = 0.125;
    return true;
  }
  if (name == "tiny") {  // tests: a training step in well under a second on CPU
    m->hidden_channels = 32;
    m->filter_channels = 64;
    m->n_layers = 1;
    m->filter_channels_dp = 32;
    m->speaker_channels = 16;
    v.inter_channels = 16;
    v.posterior_layers = 2;
    v.flows = 2;
    v.flow_layers = 1;
    v.sdp_flows = 2;
    v.upsample_initial_channels = 32;
    v.resblock_kernels = {3};
    v.resblock_dilations = {1, 3};
    v.segment_size = 2048;
    v.discriminator_periods = {2, 3};
    v.discriminator_width = 1.0 / 16;
    return true;
  }
  return false;
}

}  // namespace

TrainingConfig TrainingDefaults(const std::string& model_type) {
  TrainingConfig t;
  if (model_type == "vits") {
    t.optimizer = "adamw";
    t.learning_rate = 2e-4;
    t.scheduler = "exponential";
    t.lr_decay = 0.999875;
    t.adam_beta1 = 0.8;
    t.adam_beta2 = 0.99;
    t.adam_eps = 1e-9;
    t.weight_decay = 0.01;  // AdamW's default, as the authors leave it
    t.grad_clip = 0;        // the paper clips nothing (it logs the norms)
  }
  return t;
}

bool ModelPreset(const std::string& type, const std::string& name, ModelConfig* out) {
  ModelConfig m;
  m.type = type;
  m.preset = name;
  bool ok = type == "vits" ? VitsPreset(name, &m) : type == "glow_tts" && GlowTtsPreset(name, &m);
  if (ok) *out = m;
  return ok;
}

}  // namespace ttsd::core
