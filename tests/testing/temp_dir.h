// Test helpers: a self-deleting temporary folder and small-dataset builders over the committed real
// WAVs in tests/data/wavs.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace ttsd::testing {

// The committed test data (tests/data), set by CMake.
std::string TestDataDir();
std::string TestWav(const std::string& name);  // tests/data/wavs/<name>

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string Join(const std::string& rel) const { return (std::filesystem::path(path_) / rel).string(); }

 private:
  std::string path_;
};

void WriteTextFile(const std::string& path, const std::string& contents);

// An LJSpeech-layout dataset in `dir`: wavs/<id>.wav copied from the test WAVs, metadata.csv = `lines`.
struct DatasetWav {
  std::string id;
  std::string source;  // file in tests/data/wavs
};
void MakeDataset(const std::string& dir, const std::vector<DatasetWav>& wavs, const std::string& metadata);

// `n` utterances (ids u0..u<n-1>) cycling over the four test WAVs with their real transcripts.
void MakeSmallCorpus(const std::string& dir, int n);

// A config YAML for `dataset_dir` with extra top-level YAML appended (characters mode unless
// `extra` sets text).
std::string WriteConfig(const std::string& dir, const std::string& yaml);

}  // namespace ttsd::testing
