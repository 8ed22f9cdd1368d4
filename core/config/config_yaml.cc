#include "core/config/config_yaml.h"

#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <optional>
#include <set>
#include <vector>
#include <type_traits>

#include "absl/strings/str_cat.h"
#include "core/common/file_util.h"
#include "core/common/status.h"
#include "core/config/config_errors.h"
#include "core/config/validate.h"

namespace ttsd::core {
namespace {

template <class T, class = void>
struct IsSection : std::false_type {};
template <class T>
struct IsSection<T, std::void_t<decltype(&T::template Visit<int>)>> : std::true_type {};

template <class T>
struct IsList : std::false_type {};
template <class E>
struct IsList<std::vector<E>> : std::true_type {};

SourceMark MarkOf(const YAML::Node& n) { return {n.Mark().line + 1, n.Mark().column + 1}; }

template <class T>
const char* TypeName() {
  if constexpr (std::is_same_v<T, bool>) return "true or false";
  if constexpr (std::is_integral_v<T>) return std::is_signed_v<T> ? "an integer" : "a non-negative integer";
  if constexpr (std::is_floating_point_v<T>) return "a number";
  return "a string";
}

template <class T>
const char* ItemsName() {
  if constexpr (IsSection<T>::value) return "mappings";
  if constexpr (IsList<T>::value) return "lists";
  if constexpr (std::is_integral_v<T>) return "integers";
  if constexpr (std::is_floating_point_v<T>) return "numbers";
  return "strings";
}

// Walks a struct's Visit() list against one YAML mapping.
class ParseVisitor {
 public:
  ParseVisitor(const YAML::Node& node, std::string prefix, ConfigErrors* errors, SourceMap* marks)
      : node_(node), prefix_(std::move(prefix)), errors_(errors), marks_(marks) {}

  template <class T>
  void operator()(const char* key, T& field) {
    known_.insert(key);
    const YAML::Node n = node_[key];
    if (!n.IsDefined() || n.IsNull()) return;
    std::string path = prefix_.empty() ? key : absl::StrCat(prefix_, ".", key);
    (*marks_)[path] = MarkOf(n);
    if constexpr (IsSection<T>::value) {
      if (!n.IsMap()) {
        errors_->AddAt(path, MarkOf(n), "expected a mapping (a section with keys)");
        return;
      }
      ParseVisitor child(n, path, errors_, marks_);
      field.Visit(child);
      child.ReportUnknownKeys();
    } else if constexpr (IsList<T>::value) {
      using Item = typename T::value_type;
      if (!n.IsSequence()) {
        errors_->AddAt(path, MarkOf(n), absl::StrCat("expected a list of ", ItemsName<Item>(),
                                                     " (- one per line, or [a, b])"));
        return;
      }
      field.clear();
      for (const auto& item : n) {
        if constexpr (IsSection<Item>::value) {  // a list of mappings: "text.cleaners[2].match"
          const std::string item_path = absl::StrCat(path, "[", field.size(), "]");
          if (!item.IsMap()) {  // reported; its place kept so the next items keep their numbers
            errors_->AddAt(item_path, MarkOf(item), "expected a mapping (key: value lines) in this list");
            field.emplace_back();
            continue;
          }
          (*marks_)[item_path] = MarkOf(item);
          ParseVisitor child(item, item_path, errors_, marks_);
          field.emplace_back().Visit(child);
          child.ReportUnknownKeys();
        } else if constexpr (IsList<Item>::value) {  // a list of lists of scalars: [[1, 2], [2, 6]]
          using Inner = typename Item::value_type;
          if (!item.IsSequence()) {
            errors_->AddAt(path, MarkOf(item), absl::StrCat("expected a list of lists of ", ItemsName<Inner>(),
                                                            " ([[1, 2], [3]])"));
            return;
          }
          auto& inner = field.emplace_back();
          for (const auto& x : item) {
            try {
              if (!x.IsScalar()) throw YAML::BadConversion(x.Mark());
              inner.push_back(x.as<Inner>());
            } catch (const YAML::BadConversion&) {
              errors_->AddAt(path, MarkOf(x), absl::StrCat("expected ", TypeName<Inner>(), " in this inner list"));
              return;
            }
          }
        } else {
          if (!item.IsScalar()) {
            errors_->AddAt(path, MarkOf(item), absl::StrCat("expected ", TypeName<Item>(), " in this list"));
            return;
          }
          try {
            field.push_back(item.as<Item>());
          } catch (const YAML::BadConversion&) {
            errors_->AddAt(path, MarkOf(item), absl::StrCat("expected ", TypeName<Item>(), ", got '", item.Scalar(), "'"));
            return;
          }
        }
      }
    } else {
      if (!n.IsScalar()) {
        errors_->AddAt(path, MarkOf(n), absl::StrCat("expected ", TypeName<T>(), ", got a ",
                                                     n.IsMap() ? "mapping" : "list"));
        return;
      }
      try {
        field = n.as<T>();
      } catch (const YAML::BadConversion&) {
        errors_->AddAt(path, MarkOf(n), absl::StrCat("expected ", TypeName<T>(), ", got '",
                                                     n.Scalar(), "'"));
      }
    }
  }

  void ReportUnknownKeys() {
    for (auto it = node_.begin(); it != node_.end(); ++it) {
      std::string key = it->first.Scalar();
      if (known_.count(key)) continue;
      std::string known;
      for (const auto& k : known_) absl::StrAppend(&known, known.empty() ? "" : ", ", k);
      errors_->AddAt(prefix_.empty() ? key : absl::StrCat(prefix_, ".", key), MarkOf(it->first),
                     absl::StrCat("unknown key '", key, "' (known keys here: ", known, ")"));
    }
  }

 private:
  const YAML::Node node_;
  std::string prefix_;
  ConfigErrors* errors_;
  SourceMap* marks_;
  std::set<std::string> known_;
};

class EmitVisitor {
 public:
  explicit EmitVisitor(YAML::Emitter* out) : out_(out) {}
  template <class T>
  void operator()(const char* key, const T& field) {
    *out_ << YAML::Key << key << YAML::Value;
    if constexpr (IsSection<T>::value) {
      *out_ << YAML::BeginMap;
      const_cast<T&>(field).Visit(*this);
      *out_ << YAML::EndMap;
    } else if constexpr (std::is_same_v<T, std::string>) {
      *out_ << YAML::DoubleQuoted << field;
    } else if constexpr (IsList<T>::value) {
      // Numbers on one line ([8, 8, 2, 2]); strings one per line, quoted; mappings one per item; "[]"
      // when empty.
      using Item = typename T::value_type;
      constexpr bool kStrings = std::is_same_v<Item, std::string>;
      if (field.empty() || !(kStrings || IsSection<Item>::value)) *out_ << YAML::Flow;
      *out_ << YAML::BeginSeq;
      for (const auto& item : field) {
        if constexpr (IsSection<Item>::value) {
          *out_ << YAML::BeginMap;
          const_cast<Item&>(item).Visit(*this);
          *out_ << YAML::EndMap;
        } else if constexpr (IsList<Item>::value) {
          *out_ << YAML::Flow << YAML::BeginSeq;
          for (const auto& x : item) *out_ << x;
          *out_ << YAML::EndSeq;
        } else {
          if constexpr (kStrings) *out_ << YAML::DoubleQuoted;
          *out_ << item;
        }
      }
      *out_ << YAML::EndSeq;
    } else {
      *out_ << field;
    }
  }

 private:
  YAML::Emitter* out_;
};

// Relative paths in a config file mean "next to the config file", wherever the command runs from.
void ResolvePaths(const std::string& base, TrainConfig* c) {
  for (std::string* p : {&c->data.path, &c->data.cache_dir, &c->data.validation.file_list,
                         &c->text.symbols_file, &c->text.lexicon, &c->output_dir}) {
    if (!p->empty()) *p = ResolvePath(base, *p);
  }
  std::string& pretrained = c->finetune.pretrained_model_path;
  if (!pretrained.empty() && pretrained.rfind("job:", 0) != 0) pretrained = ResolvePath(base, pretrained);
}

// yaml-cpp parses nesting by recursion: a hostile file nested thousands deep would exhaust the stack
// (or, at best, fail as "bad file"). Flow brackets and block indentation are checked first; quotes are
// not tracked, so 32 brackets in a row inside a string are refused too, which no config needs.
constexpr int kMaxYamlDepth = 32;
std::optional<SourceMark> TooDeep(const std::string& yaml) {
  int depth = 0, line = 1, column = 0, indent = 0;
  bool at_line_start = true;
  for (char c : yaml) {
    ++column;
    if (c == '\n') {
      ++line;
      column = 0;
      indent = 0;
      at_line_start = true;
      continue;
    }
    if (at_line_start && c == ' ') {
      // Two spaces a level is usual; allow four.
      if (++indent > 4 * kMaxYamlDepth) return SourceMark{line, column};
      continue;
    }
    at_line_start = false;
    if (c == '[' || c == '{') {
      if (++depth > kMaxYamlDepth) return SourceMark{line, column};
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return std::nullopt;
}

}  // namespace

absl::StatusOr<ParsedConfig> ParseConfigYaml(const std::string& yaml, const std::string& source) {
  ParsedConfig parsed;
  ConfigErrors errors(source, &parsed.marks);
  if (auto where = TooDeep(yaml)) {
    errors.AddAt("", *where, absl::StrCat("nested more than ", kMaxYamlDepth,
                                          " levels deep; a config is a few levels (is this the right file?)"));
    return errors.ToStatus();
  }
  YAML::Node root;
  try {
    root = YAML::Load(yaml);
  } catch (const YAML::ParserException& e) {
    errors.AddAt("", {e.mark.line + 1, e.mark.column + 1}, absl::StrCat("YAML syntax error: ", e.msg));
    return errors.ToStatus();
  }
  if (!root.IsMap()) {
    errors.Add("", "the config must be a YAML mapping (key: value lines)");
    return errors.ToStatus();
  }
  ParseVisitor visitor(root, "", &errors, &parsed.marks);
  parsed.config.Visit(visitor);
  visitor.ReportUnknownKeys();
  TTSD_RETURN_IF_ERROR(errors.ToStatus());
  // A model preset supplies every model field the file leaves out, and the model type its paper's
  // training defaults: parse again on top of them.
  ModelConfig preset;
  if (ModelPreset(parsed.config.model.type, parsed.config.model.preset, &preset)) {
    ParsedConfig layered;
    layered.config.model = preset;
    layered.config.training = TrainingDefaults(preset.type);
    ParseVisitor again(root, "", &errors, &layered.marks);
    layered.config.Visit(again);
    return layered;
  }
  return parsed;
}

std::string EmitConfigYaml(const TrainConfig& config) {
  YAML::Emitter out;
  out << YAML::BeginMap;
  EmitVisitor visitor(&out);
  const_cast<TrainConfig&>(config).Visit(visitor);
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

absl::StatusOr<ParsedConfig> LoadConfigFile(const std::string& path, const LoadOptions& options) {
  auto text = ReadFileToString(path);
  if (!text.ok()) {
    return absl::NotFoundError(absl::StrCat("cannot read config file ", path, ": ",
                                            text.status().message()));
  }
  return LoadConfigText(*text, path, std::filesystem::absolute(path).parent_path().string(), options);
}

absl::StatusOr<ParsedConfig> LoadConfigText(const std::string& yaml, const std::string& source,
                                            const std::string& base_dir, const LoadOptions& options) {
  TTSD_ASSIGN_OR_RETURN(ParsedConfig parsed, ParseConfigYaml(yaml, source));
  ResolvePaths(base_dir, &parsed.config);
  std::string pending;  // checked once written
  std::string& symbols_file = parsed.config.text.symbols_file;
  if (options.symbols_file_may_be_missing && !symbols_file.empty() && !std::filesystem::exists(symbols_file)) {
    pending.swap(symbols_file);
  }
  TTSD_RETURN_IF_ERROR(ValidateConfig(parsed.config, parsed.marks, source));
  if (!pending.empty()) symbols_file = pending;
  return parsed;
}

}  // namespace ttsd::core
