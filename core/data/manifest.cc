#include "core/data/manifest.h"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <unordered_set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "core/common/file_util.h"
#include "core/text/utf8.h"

namespace ttsd::core {
namespace fs = std::filesystem;

namespace {

std::string Trim(std::string s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  size_t e = s.find_last_not_of(" \t\r\n");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

// Fills `u` from one line; returns false after recording a problem.
bool ParseCsvLine(const DataConfig& c, const std::string& line, Utterance* u, std::vector<DataProblem>* problems) {
  std::vector<std::string> cols = absl::StrSplit(line, '|');
  bool multi = c.format == "multispeaker";
  bool ok = multi ? cols.size() == 3 : (cols.size() == 2 || cols.size() == 3);
  if (!ok) {
    problems->push_back({ProblemKind::kBadLine, u->where, "",
                         absl::StrCat("expected ", multi ? "3 columns (id|speaker|text)" : "2 or 3 columns (id|text[|normalized text])",
                                      ", found ", cols.size())});
    return false;
  }
  u->id = Trim(cols[0]);
  if (multi) {
    u->speaker = Trim(cols[1]);
    u->text = Trim(cols[2]);
  } else {
    u->text = Trim(cols.size() == 3 && !Trim(cols[2]).empty() ? cols[2] : cols[1]);
  }
  if (u->id.empty()) {
    problems->push_back({ProblemKind::kBadLine, u->where, "", "empty utterance id"});
    return false;
  }
  u->audio_path = (fs::path(c.path) / "wavs" / (u->id + ".wav")).string();
  return true;
}

bool ParseJsonLine(const std::string& dir, const std::string& line, Utterance* u, std::vector<DataProblem>* problems) {
  auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  auto bad = [&](const std::string& why) {
    problems->push_back({ProblemKind::kBadLine, u->where, "", why});
    return false;
  };
  if (j.is_discarded() || !j.is_object()) return bad("not a JSON object");
  if (!j.contains("audio") || !j["audio"].is_string()) return bad("missing \"audio\" (a path string)");
  if (!j.contains("text") || !j["text"].is_string()) return bad("missing \"text\" (a string)");
  if (j.contains("speaker") && !j["speaker"].is_string()) return bad("\"speaker\" must be a string");
  u->audio_path = ResolvePath(dir, j["audio"].get<std::string>());
  u->text = Trim(j["text"].get<std::string>());
  u->speaker = j.value("speaker", "");
  u->id = j.contains("id") && j["id"].is_string() ? j["id"].get<std::string>() : fs::path(u->audio_path).stem().string();
  return true;
}

}  // namespace

std::string ManifestPath(const DataConfig& c) {
  std::string name = !c.manifest.empty() ? c.manifest : c.format == "jsonl" ? "manifest.jsonl" : "metadata.csv";
  return ResolvePath(c.path, name);
}

absl::StatusOr<Manifest> ReadManifest(const DataConfig& c) {
  Manifest m;
  m.path = ManifestPath(c);
  std::ifstream in(m.path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(absl::StrCat("cannot open the dataset manifest ", m.path,
                                            " (set data.path / data.manifest, data.format is ", c.format, ")"));
  }
  std::string dir = fs::path(m.path).parent_path().string();
  std::string shown = fs::path(m.path).filename().string();
  std::unordered_set<std::string> ids;
  std::string line;
  for (int lineno = 1; std::getline(in, line); ++lineno) {
    if (lineno == 1 && line.rfind("\xEF\xBB\xBF", 0) == 0) line.erase(0, 3);  // UTF-8 BOM
    if (Trim(line).empty()) continue;
    ++m.lines;
    Utterance u;
    u.where = absl::StrCat(shown, ":", lineno);
    size_t bad = 0;
    if (!IsValidUtf8(line, &bad)) {
      m.problems.push_back({ProblemKind::kBadEncoding, u.where, "",
                            absl::StrCat("line is not valid UTF-8 (byte ", bad, "); re-save the manifest as UTF-8")});
      continue;
    }
    bool ok = c.format == "jsonl" ? ParseJsonLine(dir, line, &u, &m.problems) : ParseCsvLine(c, line, &u, &m.problems);
    if (!ok) continue;
    if (!ids.insert(u.id).second) {
      m.problems.push_back({ProblemKind::kDuplicateId, u.where, u.id, "id already used on an earlier line"});
      continue;
    }
    m.utterances.push_back(std::move(u));
  }
  if (in.bad()) return absl::DataLossError(absl::StrCat("error reading ", m.path));
  return m;
}

}  // namespace ttsd::core
