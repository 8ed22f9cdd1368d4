#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

#include "core/text/normalize.h"
#include "core/text/phonemizer.h"
#include "core/text/symbols.h"
#include "core/text/tokenizer.h"
#include "core/text/utf8.h"
#include "tests/testing/temp_dir.h"

namespace ttsd::core {
namespace {

using ::testing::HasSubstr;

TEST(NormalizeTest, NumbersOrdinalsMoneyAndAbbreviations) {
  EXPECT_EQ(NumberToWords(0), "zero");
  EXPECT_EQ(NumberToWords(42), "forty-two");
  EXPECT_EQ(NumberToWords(1905), "one thousand nine hundred five");
  EXPECT_EQ(NumberToWords(2000000), "two million");
  EXPECT_EQ(OrdinalToWords(1), "first");
  EXPECT_EQ(OrdinalToWords(22), "twenty-second");
  EXPECT_EQ(OrdinalToWords(40), "fortieth");
  EXPECT_EQ(OrdinalToWords(11), "eleventh");
  EXPECT_EQ(NormalizeText("Dr. Smith paid $3.50 for 2 apples on the 3rd  day.", "en-us"),
            "doctor Smith paid three dollars and fifty cents for two apples on the third day.");
  EXPECT_EQ(NormalizeText("1,234 is 50% of 2468 & pi is 3.14", "en-us"),
            "one thousand two hundred thirty-four is fifty percent of two thousand four hundred sixty-eight "
            "and pi is three point one four");
  // Other languages: whitespace only; espeak-ng reads their numbers.
  EXPECT_EQ(NormalizeText("Es  ist 5 Uhr", "de"), "Es ist 5 Uhr");
}

TEST(Utf8Test, SplitsAndRejectsMalformed) {
  std::vector<std::string> cps;
  EXPECT_TRUE(SplitUtf8("aɪ̯ü", &cps));
  EXPECT_THAT(cps, ::testing::ElementsAre("a", "ɪ", "\u032f", "ü"));
  size_t bad = 0;
  EXPECT_FALSE(SplitUtf8("ok\xff", &cps, &bad));
  EXPECT_EQ(bad, 2u);
  EXPECT_FALSE(SplitUtf8("\xc0\xaf", &cps));  // overlong '/'
  EXPECT_TRUE(IsValidUtf8("aɪ̯ü"));
  bad = 0;
  EXPECT_FALSE(IsValidUtf8("ab\xed\xa0\x80", &bad));  // a surrogate
  EXPECT_EQ(bad, 2u);
}

TEST(SymbolTableTest, DefaultsAreValidAndStartWithPad) {
  for (const char* mode : {"phonemes", "characters"}) {
    TextConfig c;
    c.mode = mode;
    SymbolTable t = SymbolTable::Default(c);
    EXPECT_EQ(t.Symbol(0), "_");
    EXPECT_GT(t.size(), 30);
    std::set<std::string> distinct(t.symbols().begin(), t.symbols().end());
    EXPECT_EQ(distinct.size(), static_cast<size_t>(t.size()));
  }
}

TEST(SymbolTableTest, JsonRoundTripAndErrors) {
  auto t = SymbolTable::FromList({"_", "a", "b", "ʃ"});
  ASSERT_TRUE(t.ok());
  auto back = SymbolTable::FromJson(t->ToJson());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->symbols(), t->symbols());
  EXPECT_EQ(back->Id("ʃ"), 3);
  EXPECT_EQ(back->Id("x"), -1);
  EXPECT_FALSE(SymbolTable::FromList({"a", "_"}).ok());         // pad must be first
  EXPECT_FALSE(SymbolTable::FromList({"_", "a", "a"}).ok());    // duplicate
  EXPECT_FALSE(SymbolTable::FromList({"_", "ab"}).ok());        // two code points
  EXPECT_FALSE(SymbolTable::FromJson("{\"symbols\": 3}").ok());
}

TEST(PhonemizerTest, EnglishIpaKeepsPunctuation) {
  auto p = Phonemizer::Create("en-us");
  ASSERT_TRUE(p.ok()) << p.status();
  auto ipa = (*p)->Phonemize("Hello world, how are you?");
  ASSERT_TRUE(ipa.ok());
  EXPECT_THAT(*ipa, HasSubstr("həlˈoʊ"));
  EXPECT_THAT(*ipa, HasSubstr(","));
  EXPECT_EQ(ipa->back(), '?');
}

TEST(PhonemizerTest, UnknownLanguageIsNotFound) {
  auto p = Phonemizer::Create("xx-nonexistent");
  EXPECT_EQ(p.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(p.status().message()), HasSubstr("espeak-ng --voices"));
}

TEST(TokenizerTest, CharactersWithBlanks) {
  TextConfig c;
  c.mode = "characters";
  auto tok = Tokenizer::Create(c, SymbolTable::Default(c));
  ASSERT_TRUE(tok.ok());
  auto r = (*tok)->Encode("Ab 2!");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->normalized, "ab two!");
  const SymbolTable& t = (*tok)->symbols();
  std::vector<int> want;
  for (const char* s : {"a", "b", " ", "t", "w", "o", "!"}) {
    want.push_back(0);
    want.push_back(t.Id(s));
  }
  want.push_back(0);
  EXPECT_EQ(r->ids, want);
  EXPECT_TRUE(r->unknown.empty());
}

TEST(TokenizerTest, PhonemesMapIntoTheDefaultIpaTable) {
  TextConfig c;  // phonemes, en-us
  auto tok = Tokenizer::Create(c, SymbolTable::Default(c));
  ASSERT_TRUE(tok.ok()) << tok.status();
  auto r = (*tok)->Encode("The quick brown fox jumps over the lazy dog; she sells 12 sea shells.");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->unknown.empty()) << "unmapped: " << ::testing::PrintToString(r->unknown) << " in " << r->symbols;
  EXPECT_GT(r->ids.size(), 100u);
}

TEST(TokenizerTest, UnknownSymbolsAreListedNotDropped) {
  TextConfig c;
  c.mode = "characters";
  auto tok = Tokenizer::Create(c, SymbolTable::Default(c));
  auto r = (*tok)->Encode("naïve café");
  ASSERT_TRUE(r.ok());
  EXPECT_THAT(r->unknown, ::testing::ElementsAre("ï", "é"));
}

TEST(TokenizerTest, InvalidUtf8IsAnError) {
  TextConfig c;
  c.mode = "characters";
  auto tok = Tokenizer::Create(c, SymbolTable::Default(c));
  EXPECT_EQ((*tok)->Encode("bad \xfe byte").status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace ttsd::core
