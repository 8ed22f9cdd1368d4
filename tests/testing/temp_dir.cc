#include "tests/testing/temp_dir.h"

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <stdexcept>

namespace ttsd::testing {
namespace fs = std::filesystem;

std::string TestDataDir() { return TTSD_TEST_DATA_DIR; }
std::string TestWav(const std::string& name) { return (fs::path(TestDataDir()) / "wavs" / name).string(); }

TempDir::TempDir() {
  std::string tmpl = (fs::temp_directory_path() / "ttsd-test-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

void WriteTextFile(const std::string& path, const std::string& contents) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream out(path, std::ios::binary);
  out << contents;
}

void MakeDataset(const std::string& dir, const std::vector<DatasetWav>& wavs, const std::string& metadata) {
  fs::create_directories(fs::path(dir) / "wavs");
  for (const auto& w : wavs) {
    fs::copy_file(TestWav(w.source), fs::path(dir) / "wavs" / (w.id + ".wav"), fs::copy_options::overwrite_existing);
  }
  WriteTextFile((fs::path(dir) / "metadata.csv").string(), metadata);
}

void MakeSmallCorpus(const std::string& dir, int n) {
  static const char* kSources[] = {"slt-a.wav", "slt-b.wav", "rms-a.wav", "espeak-a.wav"};
  static const char* kTexts[] = {"The quick brown fox.", "Seven heavy boxes.", "A quiet garden.",
                                 "Hello world, this is a test."};
  std::vector<DatasetWav> wavs;
  std::string meta;
  for (int i = 0; i < n; ++i) {
    std::string id = "u" + std::to_string(i);
    wavs.push_back({id, kSources[i % 4]});
    meta += id + "|" + kTexts[i % 4] + "\n";
  }
  MakeDataset(dir, wavs, meta);
}

std::string WriteConfig(const std::string& dir, const std::string& yaml) {
  std::string path = (fs::path(dir) / "config.yaml").string();
  WriteTextFile(path, yaml);
  return path;
}

}  // namespace ttsd::testing
