#include "core/config/train_config.h"

namespace ttsd::core {

bool ModelPreset(const std::string& name, ModelConfig* out) {
  ModelConfig m;  // the defaults are the paper's `base`
  m.preset = name;
  if (name == "base") {
    *out = m;
    return true;
  }
  if (name == "small") {
    m.hidden_channels = 128;
    m.filter_channels = 384;
    m.n_layers = 4;
    m.filter_channels_dp = 128;
    m.decoder_hidden = 128;
    m.decoder_blocks = 8;
    m.decoder_block_layers = 3;
    m.speaker_channels = 64;
    *out = m;
    return true;
  }
  if (name == "tiny") {
    m.hidden_channels = 32;
    m.filter_channels = 64;
    m.n_layers = 1;
    m.prenet_layers = 1;
    m.filter_channels_dp = 32;
    m.decoder_hidden = 32;
    m.decoder_blocks = 2;
    m.decoder_block_layers = 2;
    m.speaker_channels = 16;
    *out = m;
    return true;
  }
  return false;
}

}  // namespace ttsd::core
