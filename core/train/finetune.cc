#include "core/train/finetune.h"

#include "core/train/trainable_model.h"

#include <fnmatch.h>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/common/file_util.h"
#include "core/common/status.h"
#include "core/config/config_yaml.h"
#include "core/train/trainer.h"

namespace ttsd::core::train {
namespace fs = std::filesystem;
namespace {

constexpr const char* kSymbolEmbedding = "encoder.emb.weight";
constexpr const char* kSpeakerEmbedding = "speaker_emb.weight";

template <class T>
struct IsVector : std::false_type {};
template <class E>
struct IsVector<std::vector<E>> : std::true_type {};
template <class T, class = void>
struct IsSection : std::false_type {};
template <class T>
struct IsSection<T, std::void_t<decltype(&T::template Visit<int>)>> : std::true_type {};

// A config section's fields as "key" -> printed value ("sub.key" for a nested section), from its
// Visit() list.
class Flatten {
 public:
  template <class T>
  void operator()(const char* key, T& field) {
    std::ostringstream s;
    if constexpr (IsVector<T>::value) {
      std::string list;
      for (const auto& item : field) {
        std::ostringstream e;
        if constexpr (IsSection<typename T::value_type>::value) {
          Flatten inner;
          const_cast<typename T::value_type&>(item).Visit(inner);
          for (const auto& [k, x] : inner.values) e << (e.tellp() > 0 ? ";" : "{") << k << "=" << x;
          e << "}";
        } else {
          e << item;
        }
        list += (list.empty() ? "" : ",") + e.str();
      }
      values[key] = "[" + list + "]";
    } else if constexpr (IsSection<T>::value) {
      Flatten inner;
      field.Visit(inner);
      for (const auto& [k, x] : inner.values) values[std::string(key) + "." + k] = x;
    } else {
      s << field;
      values[key] = s.str();
    }
  }
  std::map<std::string, std::string> values;
};

template <class Section>
std::map<std::string, std::string> Fields(const Section& s) {
  Flatten f;
  const_cast<Section&>(s).Visit(f);
  return f.values;
}

// Fields that must match for the weights to mean the same thing: every audio setting the features
// depend on, every model size, and the text settings that decide what the ids are.
void CompareFields(const std::string& section, const std::map<std::string, std::string>& mine,
                   const std::map<std::string, std::string>& base, const std::set<std::string>& ignore,
                   const std::string& hint, FinetuneReport* r) {
  for (const auto& [key, value] : mine) {
    if (ignore.count(key) > 0) continue;
    auto it = base.find(key);
    if (it == base.end() || it->second == value) continue;
    r->errors.push_back(absl::StrCat(section, ".", key, " is ", value, " here but ", it->second,
                                     " in the base model: set ", section, ".", key, ": ", it->second, hint));
  }
}

double PeakLearningRate(const TrainConfig& c) {
  const int64_t warmup = std::max(c.training.warmup_steps, 1);
  return LearningRate(c.training, c.model.hidden_channels, c.training.scheduler == "noam" ? warmup : 1);
}

std::string Short(const std::string& sha) { return sha.substr(0, 12); }

// An fnmatch glob on the whole name, or a module prefix (`encoder` selects `encoder.*`).
bool Matches(const std::string& name, const std::string& p) {
  if (fnmatch(p.c_str(), name.c_str(), 0) == 0) return true;
  return name.size() > p.size() && name.compare(0, p.size(), p) == 0 && name[p.size()] == '.';
}

}  // namespace

bool MatchesAny(const std::string& name, const std::vector<std::string>& patterns) {
  for (const auto& p : patterns) {
    if (Matches(name, p)) return true;
  }
  return false;
}

absl::StatusOr<JobCheckpointRef> ParseJobCheckpointRef(const std::string& ref) {
  auto bad = [&] {
    return absl::InvalidArgumentError(absl::StrCat("finetune.pretrained_model_path: '", ref,
                                                   "' is not job:<id>[@<step>|@best|@latest]"));
  };
  if (ref.rfind("job:", 0) != 0) return bad();
  const std::string rest = ref.substr(4);
  const size_t at = rest.find('@');
  JobCheckpointRef r;
  r.selector = at == std::string::npos ? "latest" : rest.substr(at + 1);
  const std::string id = rest.substr(0, at);
  if (id.empty() || id.find_first_not_of("0123456789") != std::string::npos || id.size() > 15) return bad();
  r.job_id = std::stoll(id);
  if (r.selector != "best" && r.selector != "latest" &&
      (r.selector.empty() || r.selector.find_first_not_of("0123456789") != std::string::npos || r.selector.size() > 15)) {
    return bad();
  }
  return r;
}

absl::StatusOr<std::string> CheckpointInRun(const std::string& run_dir, const std::string& selector) {
  const std::string dir = (fs::path(run_dir) / "checkpoints").string();
  Checkpointer checkpoints(dir, CheckpointConfig{});
  std::string path;
  if (selector == "best" || selector == "latest") {
    path = checkpoints.PointerPath(selector);
  } else if (!selector.empty() && selector.size() <= 15 && selector.find_first_not_of("0123456789") == std::string::npos) {
    path = checkpoints.PathForStep(std::stoll(selector));
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("checkpoint '", selector, "': say best, latest or a step number"));
  }
  if (path.empty() || !fs::exists(path)) {
    std::vector<std::string> have;
    for (const auto& p : checkpoints.List()) have.push_back(fs::path(p).filename().string());
    return absl::NotFoundError(absl::StrCat("no checkpoint '", selector, "' in ", dir, " (it has: ",
                                            have.empty() ? "none" : absl::StrJoin(have, ", "), ")"));
  }
  return path;
}

std::string FinetuneReport::ToString() const {
  std::string out;
  for (const auto& e : errors) absl::StrAppend(&out, "error: ", e, "\n");
  for (const auto& w : warnings) absl::StrAppend(&out, "warning: ", w, "\n");
  for (const auto& n : notes) absl::StrAppend(&out, n, "\n");
  return out;
}

absl::StatusOr<PretrainedModel> OpenPretrained(const std::string& path) {
  PretrainedModel m;
  m.path = path;
  if (fs::is_directory(path)) {
    auto best = CheckpointInRun(path, "best");
    auto chosen = best.ok() ? best : CheckpointInRun(path, "latest");
    if (!chosen.ok()) return absl::NotFoundError(absl::StrCat("finetune.pretrained_model_path: ", chosen.status().message()));
    m.path = *chosen;
  }
  auto meta = Checkpointer::ReadMeta(m.path);  // verifies the sidecar
  if (!meta.ok()) {
    return absl::Status(meta.status().code(),
                        absl::StrCat("finetune.pretrained_model_path: ", meta.status().message()));
  }
  m.meta = *meta;
  auto sha = ReadFileToString(m.path + ".sha256");
  if (sha.ok()) m.sha256 = sha->substr(0, 64);
  auto cfg = ParseConfigYaml(m.meta.config_yaml, m.path);
  if (!cfg.ok()) return cfg.status();
  m.config = cfg->config;
  TTSD_ASSIGN_OR_RETURN(m.symbols, SymbolTable::FromJson(m.meta.symbols_json));
  m.speakers = nlohmann::json::parse(m.meta.speakers_json).get<std::vector<std::string>>();
  return m;
}

std::string LineageJson(const PretrainedModel& base, int64_t job_id) {
  nlohmann::json j{{"path", base.path}, {"sha256", base.sha256}, {"step", base.meta.state.step}};
  if (job_id >= 0) j["job_id"] = job_id;
  auto parent = nlohmann::json::parse(base.meta.parent_json, nullptr, /*allow_exceptions=*/false);
  if (parent.is_object() && parent.contains("imported_from")) {
    j["imported_from"] = parent["imported_from"];
    j["source_path"] = parent.value("path", std::string());
    j["source_sha256"] = parent.value("sha256", std::string());
  }
  return j.dump();
}

FinetuneReport CheckCompatibility(const PretrainedModel& base, const TrainConfig& cfg, const SymbolTable& symbols) {
  FinetuneReport r;
  const TrainConfig& b = base.config;
  r.notes.push_back(absl::StrCat("base model: ", base.path, " (step ", base.meta.state.step, ", sha256 ",
                                 Short(base.sha256), ", ", b.model.type, " preset ", b.model.preset, ", ",
                                 base.speakers.size(), " speaker(s), ", base.symbols.size(), " symbols)"));
  if (cfg.model.type != b.model.type) {
    r.errors.push_back(absl::StrCat("model.type is ", cfg.model.type, " here but ", b.model.type,
                                    " in the base model: set model.type: ", b.model.type));
  }
  CompareFields("audio", Fields(cfg.audio), Fields(b.audio), {"griffin_lim_iters"}, "", &r);
  CompareFields("model", Fields(cfg.model), Fields(b.model),
                {"type", "preset", "p_dropout", "decoder_dropout", "noise_scale", "length_scale", "vits.sdp_dropout",
                 "vits.segment_size", "vits.mel_loss_weight", "vits.kl_loss_weight", "vits.noise_scale_w"},
                absl::StrCat(" (the base used preset ", b.model.preset, ")"), &r);
  // How text becomes symbols may change (a new language, its form, case, punctuation, lexicon, cleaners): the
  // symbol table is remapped row by row below. Only the mode and blanks must match.
  CompareFields("text", Fields(cfg.text), Fields(b.text),
                {"language", "unicode_form", "normalize", "lowercase", "punctuation", "symbols_file", "lexicon",
                 "cleaners"}, "", &r);
  if (cfg.text.language != b.text.language) {
    r.warnings.push_back(absl::StrCat("text.language is ", cfg.text.language, " here but ", b.text.language,
                                      " in the base model: shared symbols keep their embeddings, but their sounds "
                                      "may differ between the languages"));
  }
  std::vector<std::string> added, removed;
  for (const auto& s : symbols.symbols()) {
    if (base.symbols.Id(s) < 0) added.push_back(s);
  }
  for (const auto& s : base.symbols.symbols()) {
    if (symbols.Id(s) < 0) removed.push_back(s);
  }
  r.notes.push_back(absl::StrCat("symbols: ", symbols.size() - static_cast<int>(added.size()), " shared (embedding rows copied), ",
                                 added.size(), " new (initialised)", added.empty() ? "" : ": ", absl::StrJoin(added, " "),
                                 ", ", removed.size(), " dropped", removed.empty() ? "" : ": ", absl::StrJoin(removed, " ")));
  const double peak = PeakLearningRate(cfg);
  if (peak > 1e-4) {
    r.warnings.push_back(absl::StrCat("the learning rate peaks at ", peak, " (training.learning_rate ",
                                      cfg.training.learning_rate, ", scheduler ", cfg.training.scheduler,
                                      "): above 1e-4 a fine-tune tends to forget the base model; try "
                                      "scheduler: constant with learning_rate: 5e-5"));
  }
  return r;
}

void MergeSpeakers(const PretrainedModel& base, const TrainConfig& cfg, PreparedDataset* ds, FinetuneReport* report) {
  if (base.speakers.size() <= 1) return;  // a single-speaker base has no speaker table to keep
  std::vector<std::string> merged = base.speakers;
  std::vector<int> remap(ds->speakers.size());
  std::vector<std::string> kept, added;
  for (size_t i = 0; i < ds->speakers.size(); ++i) {
    std::string name = ds->speakers[i];
    if (name.empty()) name = cfg.finetune.speaker_name.empty() ? cfg.name : cfg.finetune.speaker_name;
    auto it = std::find(merged.begin(), merged.end(), name);
    if (it == merged.end()) {
      merged.push_back(name);
      added.push_back(name);
      it = merged.end() - 1;
    } else {
      kept.push_back(name);
    }
    remap[i] = static_cast<int>(it - merged.begin());
  }
  for (auto& u : ds->utterances) u.speaker_id = remap[u.speaker_id];
  ds->speakers = merged;
  report->notes.push_back(absl::StrCat("speakers: ", merged.size(), " (the base's ", base.speakers.size(),
                                       ", then the data's new ones); data speakers already in the base: ",
                                       kept.empty() ? "none" : absl::StrJoin(kept, " "), "; new (initialised): ",
                                       added.empty() ? "none" : absl::StrJoin(added, " ")));
}

void CheckDataAmount(const PreparedDataset& ds, const TrainConfig& cfg, FinetuneReport* report) {
  double seconds = 0;
  for (size_t i : ds.train) seconds += ds.utterances[i].seconds;
  if (seconds < 600 && cfg.finetune.freeze.empty()) {
    report->warnings.push_back(absl::StrCat("only ", static_cast<int>(seconds / 60), " min ",
                                            static_cast<int>(seconds) % 60, " s of training audio and nothing frozen: "
                                            "the whole model may overfit it; consider finetune.freeze: [encoder]"));
  }
}

absl::Status LoadPretrainedWeights(const PretrainedModel& base, const TrainConfig& cfg, const SymbolTable& symbols,
                                   const std::vector<std::string>& speakers, torch::nn::Module& model,
                                   FinetuneReport* report) {
  auto base_model = MakeTrainableModel(base.config, base.symbols.size(), static_cast<int64_t>(base.speakers.size()),
                                       torch::kCPU);
  torch::nn::Module& pre = base_model->module();
  CheckpointMeta unused;
  TTSD_RETURN_IF_ERROR(Checkpointer::Load(base.path, pre, {}, &unused));
  std::map<std::string, torch::Tensor> source;
  for (const auto& p : pre.named_parameters()) source[p.key()] = p.value();
  for (const auto& b : pre.named_buffers()) source[b.key()] = b.value();
  const FinetuneConfig& ft = cfg.finetune;
  int loaded = 0;
  std::vector<std::string> excluded, reinitialised, fresh;
  std::set<std::string> used;
  torch::NoGradGuard no_grad;
  auto copy = [&](const std::string& name, torch::Tensor& dst) -> absl::Status {
    if ((!ft.include.empty() && !MatchesAny(name, ft.include)) || MatchesAny(name, ft.exclude)) {
      excluded.push_back(name);
      return absl::OkStatus();
    }
    if (MatchesAny(name, ft.reinit)) {
      reinitialised.push_back(name);
      return absl::OkStatus();
    }
    auto it = source.find(name);
    if (it == source.end()) {
      fresh.push_back(name);
      return absl::OkStatus();
    }
    used.insert(name);
    const torch::Tensor& src = it->second;
    if (name == kSymbolEmbedding) {  // rows by symbol
      for (int id = 0; id < symbols.size(); ++id) {
        const int from = base.symbols.Id(symbols.Symbol(id));
        if (from >= 0) dst[id].copy_(src[from]);
      }
    } else if (name == kSpeakerEmbedding) {  // rows by speaker name
      for (size_t id = 0; id < speakers.size(); ++id) {
        auto at = std::find(base.speakers.begin(), base.speakers.end(), speakers[id]);
        if (at != base.speakers.end()) dst[static_cast<int64_t>(id)].copy_(src[at - base.speakers.begin()]);
      }
    } else if (src.sizes() != dst.sizes()) {
      return absl::FailedPreconditionError(absl::StrCat("finetune: ", name, " has shape ", c10::str(src.sizes()),
                                                        " in the base model but ", c10::str(dst.sizes()),
                                                        " here; list it in finetune.exclude or finetune.reinit"));
    } else {
      dst.copy_(src);
    }
    ++loaded;
    return absl::OkStatus();
  };
  for (auto& p : model.named_parameters()) TTSD_RETURN_IF_ERROR(copy(p.key(), p.value()));
  for (auto& b : model.named_buffers()) TTSD_RETURN_IF_ERROR(copy(b.key(), b.value()));
  std::vector<std::string> dropped;
  for (const auto& [name, t] : source) {
    if (used.count(name) == 0 && std::find(excluded.begin(), excluded.end(), name) == excluded.end() &&
        std::find(reinitialised.begin(), reinitialised.end(), name) == reinitialised.end()) {
      dropped.push_back(name);
    }
  }
  auto list = [](const std::vector<std::string>& v) { return v.empty() ? std::string("none") : absl::StrJoin(v, " "); };
  report->notes.push_back(absl::StrCat("weights: ", loaded, " tensors loaded; excluded: ", list(excluded),
                                       "; re-initialised: ", list(reinitialised), "; new in this model: ", list(fresh),
                                       "; base tensors not used: ", list(dropped)));
  return absl::OkStatus();
}

int Freeze(const TrainConfig& cfg, torch::nn::Module& model, FinetuneReport* report) {
  int frozen = 0;
  int64_t values = 0, total = 0;
  for (auto& p : model.named_parameters()) {
    total += p.value().numel();
    if (!MatchesAny(p.key(), cfg.finetune.freeze)) continue;
    p.value().set_requires_grad(false);
    values += p.value().numel();
    ++frozen;
  }
  if (!cfg.finetune.freeze.empty()) {
    report->notes.push_back(absl::StrCat("frozen: ", frozen, " tensors, ", values, " of ", total, " parameters (",
                                         absl::StrJoin(cfg.finetune.freeze, ", "), ")"));
  }
  // Each pattern on its own: a misspelt one beside a good one would otherwise freeze less, silently.
  for (const auto& pattern : cfg.finetune.freeze) {
    bool any = false;
    for (const auto& p : model.named_parameters()) any = any || Matches(p.key(), pattern);
    if (!any) {
      report->warnings.push_back(absl::StrCat("finetune.freeze: '", pattern, "' matches no parameter "
                                              "(`ttsd model params` lists the names)"));
    }
  }
  return frozen;
}

}  // namespace ttsd::core::train
