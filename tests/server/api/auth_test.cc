#include "server/api/auth.h"

#include <gtest/gtest.h>

#include "tests/testing/temp_dir.h"

namespace ttsd::server::api {
namespace {

TEST(AuthTest, ConstantTimeEqualsComparesWholeStrings) {
  EXPECT_TRUE(ConstantTimeEquals("s3cret", "s3cret"));
  EXPECT_FALSE(ConstantTimeEquals("s3cret", "s3creT"));
  EXPECT_FALSE(ConstantTimeEquals("s3cret", "s3cre"));
  EXPECT_FALSE(ConstantTimeEquals("s3cret", std::string("s3cret\0x", 8)));
  EXPECT_FALSE(ConstantTimeEquals("", "x"));
  EXPECT_TRUE(ConstantTimeEquals("", ""));
}

TEST(AuthTest, TokenFileIsItsFirstLineAndMustNotBeEmpty) {
  testing::TempDir tmp;
  std::string token, error;
  testing::WriteTextFile(tmp.Join("t"), "  abc123  \nignored\n");
  ASSERT_TRUE(ReadTokenFile(tmp.Join("t"), &token, &error)) << error;
  EXPECT_EQ(token, "abc123");
  testing::WriteTextFile(tmp.Join("empty"), "\n");
  EXPECT_FALSE(ReadTokenFile(tmp.Join("empty"), &token, &error));
  EXPECT_NE(error.find("empty"), std::string::npos);
  EXPECT_FALSE(ReadTokenFile(tmp.Join("missing"), &token, &error));
}

}  // namespace
}  // namespace ttsd::server::api
