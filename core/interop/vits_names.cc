#include "core/interop/vits_names.h"

#include <map>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace ttsd::core::interop {
namespace {

// Module names that differ only in spelling, wherever they appear.
const std::map<std::string, std::string>& Renames() {
  static const auto* kRenames = new std::map<std::string, std::string>{
      {"attn_layers", "attention"}, {"norm_layers_1", "norm1"}, {"norm_layers_2", "norm2"},
      {"ffn_layers", "ffn"},        {"conv_q", "q"},            {"conv_k", "k"},
      {"conv_v", "v"},              {"conv_o", "o"},            {"emb_rel_k", "rel_k"},
      {"emb_rel_v", "rel_v"},       {"conv_1", "conv1"},        {"conv_2", "conv2"},
      {"norm_1", "norm1"},          {"norm_2", "norm2"},        {"cond_layer", "cond"},
      {"convs_sep", "separable"},   {"convs_1x1", "pointwise"}, {"norms_1", "norm1"},
      {"norms_2", "norm2"},         {"enc", "wn"}};
  return *kRenames;
}

bool Index(const std::string& s, int* out) { return absl::SimpleAtoi(s, out) && *out >= 0; }

}  // namespace

std::optional<std::string> VitsGeneratorName(const std::string& name, bool stochastic) {
  std::vector<std::string> t = absl::StrSplit(name, '.');
  if (t.size() < 2) return std::nullopt;
  const std::string top = t[0];
  if (top == "enc_p") {
    t[0] = "encoder";
    if (t[1] == "encoder") t.erase(t.begin() + 1);  // the transformer's layers sit directly on ttsd's encoder
  } else if (top == "enc_q") {
    t[0] = "posterior";
  } else if (top == "dec") {
    t[0] = "decoder";
  } else if (top == "emb_g") {
    t[0] = "speaker_emb";
  } else if (top == "flow") {
    // flows: [coupling, Flip] * n; only the couplings have parameters.
    int i = 0;
    if (t.size() < 4 || t[1] != "flows" || !Index(t[2], &i) || i % 2 != 0) return std::nullopt;
    t[1] = "couplings";
    t[2] = std::to_string(i / 2);
  } else if (top == "dp") {
    t[0] = stochastic ? "sdp" : "dp";
    // flows / post_flows: [ElementwiseAffine, (ConvFlow, Flip) * n]; ttsd keeps the affine and the couplings.
    if (stochastic && (t[1] == "flows" || t[1] == "post_flows")) {
      int i = 0;
      if (t.size() < 4 || !Index(t[2], &i) || (i > 0 && i % 2 == 0)) return std::nullopt;
      t[2] = std::to_string(i == 0 ? 0 : (i + 1) / 2);
    }
  } else {
    return std::nullopt;
  }
  for (size_t k = 1; k < t.size(); ++k) {
    auto it = Renames().find(t[k]);
    if (it != Renames().end()) t[k] = it->second;
  }
  return absl::StrJoin(t, ".");
}

std::optional<std::string> VitsDiscriminatorName(const std::string& name) {
  std::vector<std::string> t = absl::StrSplit(name, '.');
  int i = 0;
  if (t.size() < 3 || t[0] != "discriminators" || !Index(t[1], &i)) return std::nullopt;
  if (t[2] == "conv_post") t[2] = "post";
  if (t[2] != "convs" && t[2] != "post") return std::nullopt;
  return "discriminator." + absl::StrJoin(t, ".");
}

std::optional<std::string> CoquiToVitsName(const std::string& name) {
  std::vector<std::string> t = absl::StrSplit(name, '.');
  if (t.size() < 2) return std::nullopt;
  static const auto* kTops = new std::map<std::string, std::string>{{"text_encoder", "enc_p"},
                                                                    {"posterior_encoder", "enc_q"},
                                                                    {"flow", "flow"},
                                                                    {"duration_predictor", "dp"},
                                                                    {"waveform_decoder", "dec"},
                                                                    {"emb_g", "emb_g"}};
  if (t[0] == "disc" && t.size() > 2 && t[1] == "nets") {
    t.erase(t.begin());
    t[0] = "discriminators";
    return absl::StrJoin(t, ".");
  }
  auto top = kTops->find(t[0]);
  if (top == kTops->end()) return std::nullopt;
  t[0] = top->second;
  int i = 0;
  if (t[0] == "flow" && t.size() > 3 && t[1] == "flows" && Index(t[2], &i)) t[2] = std::to_string(2 * i);
  if (t[0] == "dp" && t.size() > 3 && (t[1] == "flows" || t[1] == "post_flows") && Index(t[2], &i)) {
    t[2] = std::to_string(i == 0 ? 0 : 2 * i - 1);
    if (t[3] == "translation") t[3] = "m";
    if (t[3] == "log_scale") t[3] = "logs";
  }
  return absl::StrJoin(t, ".");
}

}  // namespace ttsd::core::interop
