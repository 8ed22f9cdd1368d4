#include "core/config/train_config.h"

namespace ttsd::core {

bool ModelPreset(const std::string& name, ModelConfig* out) {
  ModelConfig m;  // the defaults are the paper's `base`
  m.preset = name;
  if (name == "base") {
    *out = m;
    return true;
  }
  if (name == "small") {  // sized to learn a voice on 2 CPU cores in tens of minutes
    m.hidden_channels = 96;
    m.filter_channels = 256;
    m.n_layers = 3;
    m.filter_channels_dp = 96;
    m.decoder_hidden = 96;
    m.decoder_blocks = 6;
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
