// The authors' VITS release (jaywalnut310/vits): G_<step>.pth = {"model": generator state dict,
// "iteration", "optimizer", "learning_rate"}, D_<step>.pth the same for the discriminators, and the
// run's config.json ({"train", "data", "model"}). Text is the English cleaners' symbol table.
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "core/common/status.h"
#include "core/interop/import_source.h"
#include "core/interop/torch_checkpoint.h"
#include "core/text/utf8.h"

namespace ttsd::core::interop {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// text/symbols.py of the authors' repository: pad, punctuation, ASCII letters, IPA, 178 entries. "'"
// is listed twice (ids 174 and 176); their symbol-to-id dict keeps the second, so 174 is unreachable.
absl::StatusOr<SymbolTable> EnglishSymbols() {
  const std::string all = std::string("_") + ";:,.!?¡¿—…\"«»“” " +
                          "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" +
                          "ɑɐɒæɓʙβɔɕçɗɖðʤəɘɚɛɜɝɞɟʄɡɠɢʛɦɧħɥʜɨɪʝɭɬɫɮʟɱɯɰŋɳɲɴøɵɸθœɶʘɹɺɾɻʀʁɽʂʃʈʧʉʊʋⱱʌɣɤʍχʎʏʑʐʒʔʡʕʢǀǁǂǃˈˌːˑʼʴʰʱʲʷˠˤ˞↓↑→↗↘'̩'ᵻ";
  std::vector<std::string> cps;
  SplitUtf8(all, &cps);
  for (size_t i = 0; i < cps.size(); ++i) {
    for (size_t j = i + 1; j < cps.size(); ++j) {
      if (cps[i] == cps[j]) cps[i] = UnreachableSymbol(static_cast<int>(i));  // the earlier copy loses
    }
  }
  return SymbolTable::FromList(std::move(cps));
}

absl::StatusOr<SourceTensors> ModelTensors(const std::string& path, const char* what, int64_t* step) {
  TTSD_ASSIGN_OR_RETURN(auto ckpt, TorchCheckpoint::Open(path));
  const PyValue& root = ckpt->root();
  const PyValue* model = root.IsDictLike() ? root.Get("model") : nullptr;
  if (model == nullptr || !model->IsDictLike()) {
    if (root.IsDictLike() && root.Get("state_dict") != nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": a Lightning checkpoint (state_dict), not the authors' ",
                                                     what, "; use `ttsd import piper`"));
    }
    return absl::InvalidArgumentError(absl::StrCat(path, ": no 'model' state dict: not the authors' ", what));
  }
  if (root.Get("config") != nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": carries its own 'config': a Coqui TTS checkpoint; use "
                                                         "`ttsd import coqui`"));
  }
  if (step != nullptr) {
    if (const PyValue* it = root.Get("iteration"); it && it->kind == PyValue::Kind::kInt) *step = it->integer;
  }
  TTSD_ASSIGN_OR_RETURN(auto flat, ckpt->Tensors(*model));
  return GroupWeightNorm(flat);
}

}  // namespace

absl::StatusOr<Source> ReadVitsSource(const ImportOptions& o) {
  Source s;
  s.format = "vits";
  TTSD_ASSIGN_OR_RETURN(s.generator, ModelTensors(o.source, "G_*.pth", &s.step));
  if (!s.generator.count("enc_p.emb.weight")) {
    return absl::InvalidArgumentError(absl::StrCat(o.source, ": no enc_p.emb.weight: not a VITS generator (G_*.pth)"));
  }
  if (!o.discriminator.empty()) {
    TTSD_ASSIGN_OR_RETURN(s.discriminator, ModelTensors(o.discriminator, "D_*.pth", nullptr));
  }
  std::string config = o.config;
  if (config.empty() && fs::exists(fs::path(o.source).parent_path() / "config.json")) {
    config = (fs::path(o.source).parent_path() / "config.json").string();
  }
  if (config.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(o.source, ": the run's config.json is not beside it; pass --config "
                                                             "(the ljs_base.json / vctk_base.json it was trained with)"));
  }
  TTSD_ASSIGN_OR_RETURN(json c, ReadJsonFile(config));
  if (!c.contains("model") || !c.contains("data")) {
    return absl::InvalidArgumentError(absl::StrCat(config, ": no \"model\" and \"data\" sections: not a VITS config"));
  }
  s.hparams = c["model"];
  const json& data = c["data"];
  for (const auto& [theirs, ours] : std::vector<std::pair<const char*, const char*>>{
           {"sampling_rate", "sample_rate"}, {"filter_length", "filter_length"}, {"hop_length", "hop_length"},
           {"win_length", "win_length"}, {"n_mel_channels", "mel_channels"}, {"mel_fmin", "mel_fmin"},
           {"mel_fmax", "mel_fmax"}}) {
    if (data.contains(theirs)) s.hparams[ours] = data[theirs];
  }
  if (c.contains("train") && c["train"].contains("segment_size")) s.hparams["segment_size"] = c["train"]["segment_size"];
  if (data.contains("add_blank") && data["add_blank"].is_boolean()) s.add_blank = data["add_blank"].get<bool>();
  const int64_t rows = SymbolRows(s);
  TTSD_ASSIGN_OR_RETURN(SymbolTable english, EnglishSymbols());
  if (rows != english.size()) {
    return absl::FailedPreconditionError(absl::StrCat(
        o.source, ": the text embedding has ", rows, " rows but the authors' English symbol table has ", english.size(),
        ": this voice was trained with other symbols, which ttsd cannot know"));
  }
  s.symbols = english;
  s.notes.push_back("symbols: the authors' English table (178 entries; the first of its two \"'\" is unreachable)");
  auto it = s.generator.find("emb_g.weight");
  if (it != s.generator.end() && it->second.Shape()[0] > 1) {
    for (int64_t i = 0; i < it->second.Shape()[0]; ++i) s.speakers.push_back(absl::StrCat("speaker_", i));
  }
  return s;
}

}  // namespace ttsd::core::interop
