#include "core/interop/import_source.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/common/file_util.h"
#include "core/common/status.h"

namespace ttsd::core::interop {

using nlohmann::json;

std::string ShapeText(const std::vector<int64_t>& s) { return absl::StrCat("[", absl::StrJoin(s, ", "), "]"); }

absl::StatusOr<SourceTensors> GroupWeightNorm(const std::map<std::string, torch::Tensor>& flat) {
  SourceTensors out;
  const absl::string_view kOriginal0 = ".parametrizations.weight.original0";
  const absl::string_view kOriginal1 = ".parametrizations.weight.original1";
  for (const auto& [name, t] : flat) {
    auto tensor = t.to(torch::kFloat32);
    if (absl::EndsWith(name, ".weight_g")) {
      out[name.substr(0, name.size() - 2)].g = tensor;
    } else if (absl::EndsWith(name, ".weight_v")) {
      out[name.substr(0, name.size() - 2)].v = tensor;
    } else if (absl::EndsWith(name, kOriginal0)) {
      out[std::string(name.substr(0, name.size() - kOriginal0.size())) + ".weight"].g = tensor;
    } else if (absl::EndsWith(name, kOriginal1)) {
      out[std::string(name.substr(0, name.size() - kOriginal1.size())) + ".weight"].v = tensor;
    } else {
      out[name].plain = tensor;
    }
  }
  for (const auto& [name, s] : out) {
    if (s.g.defined() != s.v.defined()) {
      return absl::InvalidArgumentError(absl::StrCat(name, ": half of a weight-norm pair (g without v or v without g)"));
    }
  }
  return out;
}

namespace {

json ToJsonAt(const PyValue& v, int depth) {
  using K = PyValue::Kind;
  if (depth > 16) return nullptr;
  switch (v.kind) {
    case K::kBool: return v.boolean;
    case K::kInt: return v.integer;
    case K::kFloat: return v.number;
    case K::kString: return v.text;
    case K::kList:
    case K::kTuple: {
      json a = json::array();
      for (const auto& x : v.items) a.push_back(ToJsonAt(*x, depth + 1));
      return a;
    }
    default:
      if (v.IsDictLike()) {
        json o = json::object();
        for (const auto& [k, x] : v.entries) {
          if (k->kind == K::kString) o[k->text] = ToJsonAt(*x, depth + 1);
        }
        return o;
      }
      return nullptr;  // tensors, paths and other objects carry no architecture
  }
}

}  // namespace

json ToJson(const PyValue& value) { return ToJsonAt(value, 0); }

namespace {

// Python's json writes Infinity and NaN (Coqui's config.json has "max_audio_len": Infinity), which JSON
// does not allow: outside strings they become null, which no architecture field is.
std::string WithoutNonFinite(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      out += c;
      if (c == '\\' && i + 1 < text.size()) {
        out += text[++i];
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') in_string = true;
    bool replaced = false;
    for (const char* token : {"-Infinity", "Infinity", "NaN"}) {
      const size_t n = std::char_traits<char>::length(token);
      if (text.compare(i, n, token) == 0) {
        out += "null";
        i += n - 1;
        replaced = true;
        break;
      }
    }
    if (!replaced) out += c;
  }
  return out;
}

}  // namespace

absl::StatusOr<json> ReadJsonFile(const std::string& path) {
  TTSD_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  json j = json::parse(WithoutNonFinite(text), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return absl::InvalidArgumentError(absl::StrCat(path, ": not a JSON object"));
  return j;
}

std::string UnreachableSymbol(int id) {
  const uint32_t cp = 0xE000 + static_cast<uint32_t>(id);
  return {static_cast<char>(0xE0 | (cp >> 12)), static_cast<char>(0x80 | ((cp >> 6) & 0x3F)),
          static_cast<char>(0x80 | (cp & 0x3F))};
}

int64_t SymbolRows(const Source& s) {
  auto it = s.generator.find("enc_p.emb.weight");
  return it == s.generator.end() ? 0 : it->second.Shape()[0];
}

}  // namespace ttsd::core::interop
