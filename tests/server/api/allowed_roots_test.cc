#include "server/api/allowed_roots.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "server/api/submission.h"
#include "tests/testing/temp_dir.h"

namespace ttsd::server::api {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

TEST(AllowedRootsTest, NeitherDotDotNorASymlinkNorANamePrefixLeadsOut) {
  testing::TempDir tmp;
  fs::create_directories(tmp.Join("root/data"));
  fs::create_directories(tmp.Join("rootevil"));
  fs::create_directories(tmp.Join("outside"));
  fs::create_directory_symlink(tmp.Join("outside"), tmp.Join("root/link-out"));
  fs::create_directory_symlink(tmp.Join("root/data"), tmp.Join("outside/link-in"));
  AllowedRoots roots({tmp.Join("root") + "/"});
  EXPECT_TRUE(roots.Allows(tmp.Join("root")));
  EXPECT_TRUE(roots.Allows(tmp.Join("root/data")));
  EXPECT_TRUE(roots.Allows(tmp.Join("root/data/not-yet/made.wav")));
  EXPECT_TRUE(roots.Allows(tmp.Join("root/data/../data")));
  EXPECT_FALSE(roots.Allows(tmp.Join("root/../outside")));
  EXPECT_FALSE(roots.Allows(tmp.Join("root/data/../../outside/x")));
  EXPECT_FALSE(roots.Allows(tmp.Join("root/link-out")));
  EXPECT_FALSE(roots.Allows(tmp.Join("root/link-out/new-file")));
  EXPECT_FALSE(roots.Allows(tmp.Join("rootevil")));
  EXPECT_FALSE(roots.Allows("/etc/passwd"));
  EXPECT_TRUE(roots.Allows(tmp.Join("outside/link-in")));  // it is data/ itself
  EXPECT_TRUE(AllowedRoots({}).Allows("/etc/passwd"));     // the standalone trainer: no roots
}

// A submitted config is refused when any path it names, or any audio file its manifest lists, resolves
// outside the roots: each is named, with where it really points and what to do.
TEST(AllowedRootsTest, ConfigPathsAndEveryManifestAudioFileAreChecked) {
  testing::TempDir tmp;
  testing::MakeSmallCorpus(tmp.Join("root/voice"), 3);
  testing::MakeSmallCorpus(tmp.Join("outside/voice"), 3);
  AllowedRoots roots({tmp.Join("root")});
  auto parse = [&](const std::string& yaml) {
    auto parsed = CheckSubmission(yaml, tmp.Join("root"));
    EXPECT_TRUE(parsed.ok()) << parsed.status();
    return parsed->config;
  };
  EXPECT_TRUE(CheckConfigPaths(parse("data:\n  path: voice\n"), roots).ok());

  absl::Status st = CheckConfigPaths(parse("data:\n  path: ../outside/voice\n  cache_dir: /tmp/elsewhere\n"), roots);
  EXPECT_EQ(st.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(std::string(st.message()), HasSubstr("data.path: " + tmp.Join("outside/voice") + " is outside"));
  EXPECT_THAT(std::string(st.message()), HasSubstr("data.cache_dir: /tmp/elsewhere is outside"));
  EXPECT_THAT(std::string(st.message()), HasSubstr("--allowed-roots"));

  // A WAV inside the dataset that is a symlink to a file outside.
  fs::remove(tmp.Join("root/voice/wavs/u1.wav"));
  fs::create_symlink(tmp.Join("outside/voice/wavs/u1.wav"), tmp.Join("root/voice/wavs/u1.wav"));
  st = CheckConfigPaths(parse("data:\n  path: voice\n"), roots);
  EXPECT_EQ(st.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(std::string(st.message()), HasSubstr("metadata.csv:2: " + tmp.Join("root/voice/wavs/u1.wav") +
                                                   " (resolves to " + tmp.Join("outside/voice/wavs/u1.wav")));

  // A jsonl manifest whose audio path climbs out with ..
  testing::WriteTextFile(tmp.Join("root/voice/manifest.jsonl"),
                         "{\"audio\": \"wavs/u0.wav\", \"text\": \"a\"}\n{\"audio\": \"../../outside/voice/wavs/u2.wav\", "
                         "\"text\": \"b\"}\n");
  st = CheckConfigPaths(parse("data:\n  path: voice\n  format: jsonl\n"), roots);
  EXPECT_THAT(std::string(st.message()), HasSubstr("manifest.jsonl:2: "));
  EXPECT_THAT(std::string(st.message()), ::testing::Not(HasSubstr("manifest.jsonl:1: ")));
}

}  // namespace
}  // namespace ttsd::server::api
