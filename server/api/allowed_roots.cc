#include "server/api/allowed_roots.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/data/manifest.h"

namespace ttsd::server::api {
namespace fs = std::filesystem;

namespace {

fs::path Canonical(const std::string& path) {
  std::error_code ec;
  fs::path p = fs::weakly_canonical(fs::absolute(path), ec);
  return ec ? fs::absolute(path).lexically_normal() : p;
}

bool IsUnder(const fs::path& path, const fs::path& root) {
  auto r = root.begin(), p = path.begin();
  for (; r != root.end(); ++r, ++p) {
    if (r->empty()) continue;  // the trailing "" of "/a/b/"
    if (p == path.end() || *p != *r) return false;
  }
  return true;
}

// Whether `name` in the folder open as `dir_fd` is a symlink (`full` when the folder could not be opened).
bool IsSymlinkAt(int dir_fd, const std::string& name, const fs::path& full) {
  if (dir_fd < 0) {
    std::error_code ec;
    return fs::is_symlink(full, ec);
  }
  struct stat st {};
  return ::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode);
}

}  // namespace

AllowedRoots::AllowedRoots(const std::vector<std::string>& roots) {
  for (const auto& r : roots) {
    if (!r.empty()) roots_.push_back(Canonical(r));
  }
}

bool AllowedRoots::Allows(const std::string& path) const {
  if (roots_.empty()) return true;
  const fs::path p = Canonical(path);
  return std::any_of(roots_.begin(), roots_.end(), [&](const fs::path& r) { return IsUnder(p, r); });
}

std::string AllowedRoots::Describe() const {
  return absl::StrJoin(roots_, ", ", [](std::string* out, const fs::path& p) { out->append(p.string()); });
}

absl::Status CheckConfigPaths(const core::TrainConfig& config, const AllowedRoots& roots) {
  if (roots.empty()) return absl::OkStatus();
  std::vector<std::string> problems;
  auto check = [&](const std::string& where, const std::string& path) {
    if (path.empty() || roots.Allows(path)) return;
    const std::string real = Canonical(path).string();
    problems.push_back(absl::StrCat(where, ": ", path, real == path ? "" : absl::StrCat(" (resolves to ", real, ")"),
                                    " is outside the daemon's allowed roots"));
  };
  check("data.path", config.data.path);
  check("data.cache_dir", config.data.cache_dir);
  check("data.validation.file_list", config.data.validation.file_list);
  check("text.symbols_file", config.text.symbols_file);
  check("text.lexicon", config.text.lexicon);
  // job:<id> names a job's checkpoint, which lives in the jobs dir (always a root).
  if (config.finetune.pretrained_model_path.rfind("job:", 0) != 0) {
    check("finetune.pretrained_model_path", config.finetune.pretrained_model_path);
  }
  if (problems.empty()) {
    // The manifest itself, and the audio it names: an id such as ../../x, or a jsonl audio path, or a
    // symlink in wavs/, must not reach out either. Unreadable manifests are the data check's business.
    check("data.manifest", core::ManifestPath(config.data));
    if (auto manifest = core::ReadManifest(config.data); manifest.ok()) {
      // Thousands of files in a few folders: each folder is resolved and opened once, and a file needs
      // a full resolution only when it is itself a symlink (or names . or ..). The symlink test looks
      // up the name in the open folder, not the whole path again.
      struct Folder {
        bool allowed = false;
        int fd = -1;
      };
      std::map<fs::path, Folder> folders;
      for (const auto& u : manifest->utterances) {
        if (problems.size() >= 10) break;
        const fs::path file(u.audio_path);
        const std::string name = file.filename().string();
        auto [it, added] = folders.emplace(file.parent_path(), Folder{});
        if (added) {
          it->second.allowed = roots.Allows(file.parent_path().string());
          it->second.fd = ::open(file.parent_path().c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
        }
        if (name == "." || name == ".." || IsSymlinkAt(it->second.fd, name, file)) {
          check(u.where, u.audio_path);
          continue;
        }
        if (!it->second.allowed) check(u.where, u.audio_path);
      }
      for (auto& [path, folder] : folders) {
        if (folder.fd >= 0) ::close(folder.fd);
      }
    }
  }
  if (problems.empty()) return absl::OkStatus();
  return absl::PermissionDeniedError(absl::StrCat(absl::StrJoin(problems, "\n"), "\nThe allowed roots are ",
                                                  roots.Describe(),
                                                  "; move the files under one of them, or start the daemon with "
                                                  "--allowed-roots naming their folder."));
}

}  // namespace ttsd::server::api
