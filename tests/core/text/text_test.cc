#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

#include "core/text/cleaners.h"
#include "core/text/normalize.h"
#include "core/text/phonemizer.h"
#include "core/text/symbols.h"
#include "core/text/tokenizer.h"
#include "core/text/unicode.h"
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

// Yoruba "ọ̀" (o, dot below, grave): one precomposed letter plus a mark in NFC, three code points in
// NFD; typed either way, a form gives one spelling.
TEST(UnicodeTest, NormalisationFormsComposeOrSplitMarks) {
  const std::string composed = "\u1ecd\u0300", decomposed = "o\u0323\u0300";
  EXPECT_EQ(*NormalizeUnicode(decomposed, "nfc"), composed);
  EXPECT_EQ(*NormalizeUnicode(composed, "nfd"), decomposed);
  EXPECT_EQ(*NormalizeUnicode("caf\u00e9", "nfd"), "cafe\u0301");
  EXPECT_EQ(*NormalizeUnicode("\ufb01ve", "nfkc"), "five") << "compatibility forms fold the ligature";
  EXPECT_EQ(*NormalizeUnicode("\ufb01ve", "nfc"), "\ufb01ve");
  EXPECT_FALSE(NormalizeUnicode("x", "nfx").ok());
}

TEST(UnicodeTest, CaseFollowsTheLanguageAndWhitespaceAndPunctuationAreUnicodeWide) {
  EXPECT_EQ(LowercaseFor("KIRK I\u0130", "tr"), "k\u0131rk \u0131i") << "Turkish: I is dotless, \u0130 dotted";
  EXPECT_EQ(LowercaseFor("KIRK I", "en-us"), "kirk i");
  EXPECT_EQ(LowercaseFor("\u0394\u0399\u039a\u0397", "el"), "\u03b4\u03b9\u03ba\u03b7");
  EXPECT_EQ(CollapseUnicodeWhitespace("\t a\u00a0\u00a0b\u3000c\n"), "a b c");
  EXPECT_EQ(StripPunctuation("\u00abB\u00e1wo\u00bb, \u00f3 d\u00e9\u2014\u1362"), "B\u00e1wo \u00f3 d\u00e9");
  EXPECT_EQ(DescribeCodePoint("\u1eb9"), "U+1EB9 LATIN SMALL LETTER E WITH DOT BELOW");
  EXPECT_TRUE(IsCombiningMark("\u0301"));
  EXPECT_FALSE(IsCombiningMark("e"));
  EXPECT_EQ(CodePointCount("o\u0323\u0300"), 3);
}

// Characters mode on a table built for Yoruba in NFD: marks are symbols of their own, the same words
// typed composed or decomposed give the same ids, case and punctuation follow the config.
TEST(TokenizerTest, NfdCharactersGiveMarksTheirOwnIdsWhateverTheInputForm) {
  TextConfig c;
  c.mode = "characters";
  c.language = "yo";
  c.unicode_form = "nfd";
  c.punctuation = "strip";
  auto table = SymbolTable::FromList({"_", " ", "a", "b", "d", "e", "o", "w", "\u0300", "\u0301", "\u0323"});
  ASSERT_TRUE(table.ok()) << table.status();
  auto tok = Tokenizer::Create(c, *table);
  ASSERT_TRUE(tok.ok());
  auto composed = (*tok)->Encode("B\u00c1WO, \u00d3 D\u00c9!");
  auto decomposed = (*tok)->Encode("ba\u0301wo o\u0301 de\u0301");
  ASSERT_TRUE(composed.ok() && decomposed.ok());
  EXPECT_TRUE(composed->unknown.empty()) << ::testing::PrintToString(composed->unknown);
  EXPECT_EQ(composed->ids, decomposed->ids);
  EXPECT_EQ(composed->symbols, "ba\u0301wo o\u0301 de\u0301");
  EXPECT_EQ(composed->ids[5], table->Id("\u0301")) << "_ b _ a _ U+0301: the acute has an id of its own";
}

// A lexicon replaces the words it has, punctuation around them kept: a spelling in characters mode,
// IPA in phonemes mode (the words between are still phonemized by espeak-ng, in runs).
TEST(LexiconTest, ReplacesWordsInEitherModeAndReportsBadLinesWithTheirLocation) {
  testing::TempDir tmp;
  testing::WriteTextFile(tmp.Join("lex.txt"), "# names and loanwords\nNYC new york city\nttsd  ti\u02d0ti\u02d0\u025bsdi\u02d0\n");
  TextConfig c;
  c.mode = "characters";
  c.lexicon = tmp.Join("lex.txt");
  auto chars = Tokenizer::Create(c, SymbolTable::Default(c));
  ASSERT_TRUE(chars.ok()) << chars.status();
  auto r = (*chars)->Encode("I love NYC! (nyc)");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->symbols, "i love new york city! (new york city)");

  c.mode = "phonemes";
  auto ipa = Tokenizer::Create(c, SymbolTable::Default(c));
  ASSERT_TRUE(ipa.ok()) << ipa.status();
  auto p = (*ipa)->Encode("I use ttsd daily.");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_THAT(p->symbols, HasSubstr("ti\u02d0ti\u02d0\u025bsdi\u02d0"));
  EXPECT_THAT(p->symbols, ::testing::StartsWith("\u02c8a\u026a j\u02c8u\u02d0s "));  // "I use", by espeak-ng
  EXPECT_TRUE(p->unknown.empty()) << ::testing::PrintToString(p->unknown);

  testing::WriteTextFile(tmp.Join("dup.txt"), "nyc new york\nNYC new york city\n");
  c.lexicon = tmp.Join("dup.txt");
  auto dup = Tokenizer::Create(c, SymbolTable::Default(c));
  ASSERT_FALSE(dup.ok());
  EXPECT_THAT(std::string(dup.status().message()), HasSubstr("dup.txt:2: 'nyc' is already in the lexicon"));
  testing::WriteTextFile(tmp.Join("bare.txt"), "\nlonely\n");
  c.lexicon = tmp.Join("bare.txt");
  auto bare = Tokenizer::Create(c, SymbolTable::Default(c));
  ASSERT_FALSE(bare.ok());
  EXPECT_THAT(std::string(bare.status().message()), HasSubstr("bare.txt:2: 'lonely' has no pronunciation"));
}

// text.cleaners run in order on the text as typed (composed, in its case), before lower-casing and the
// normalisation form: a pattern written composed matches decomposed input, groups carry over, a
// transform changes script, and the result is then lower-cased and decomposed like any text.
TEST(CleanersTest, RulesRunInOrderOnComposedTextBeforeCaseAndForm) {
  TextConfig c;
  c.mode = "characters";
  c.language = "yo";
  c.unicode_form = "nfd";
  c.cleaners = {{"\\bDr\\.", "D\u00f3k\u00edt\u00e0", ""},
                {"(\\d+)%", "$1 \u00ecd\u00e1", ""},
                {"\u1eb9", "e", ""},  // ẹ written composed
                {"", "", "Cyrillic-Latin"}};
  auto tok = Tokenizer::Create(c, SymbolTable::Default(c));
  ASSERT_TRUE(tok.ok()) << tok.status();
  auto r = (*tok)->Encode("Dr. Ade 50% e\u0323 \u041c\u043e\u0441\u043a\u0432\u0430");  // ẹ typed decomposed
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->normalized, "do\u0301ki\u0301ta\u0300 ade 50 i\u0300da\u0301 e moskva");
  // Without the rules the same text keeps "dr." and the dot below.
  c.cleaners.clear();
  auto plain = Tokenizer::Create(c, SymbolTable::Default(c));
  ASSERT_TRUE(plain.ok());
  EXPECT_THAT((*plain)->Encode("Dr. e\u0323")->normalized, HasSubstr("e\u0323"));
}

TEST(CleanersTest, EveryBrokenRuleIsNamedWithWhatIsWrong) {
  std::vector<CleanerRule> rules = {{"(ab", "x", ""},           // does not compile
                                    {"(a)b", "$2", ""},         // no group 2
                                    {"a", "costs $", ""},       // a bare dollar
                                    {"(?<w>a)", "${v}", ""},    // no group named v
                                    {"", "", "Klingon-Latin"},  // no such transform
                                    {"", "", ""},               // neither
                                    {"a", "", "Any-Latin"},     // both
                                    {"", "b", "Any-Latin"},     // replace without match
                                    {"", "", "Any-Latin(Latin-Any"},  // a reverse direction, unclosed
                                    {"", "", "[\u00e4] Any-Upper)"},  // a stray ')' after a non-ASCII filter
                                    {"(?<w>a)(b)", "${w}$2 \\$5", ""}};  // fine
  std::vector<CleanerProblem> p = CheckCleanerRules(rules);
  ASSERT_EQ(p.size(), 10u);
  EXPECT_EQ(p[0].rule, 0u);
  EXPECT_EQ(p[0].field, "match");
  EXPECT_THAT(p[0].message, HasSubstr("'(ab' is not a regular expression: U_REGEX_MISMATCHED_PAREN"));
  EXPECT_EQ(p[1].field, "replace");
  EXPECT_THAT(p[1].message, HasSubstr("refers to group $2 but the pattern has 1 group(s)"));
  EXPECT_THAT(p[2].message, HasSubstr("write \\$ for a dollar sign"));
  EXPECT_THAT(p[3].message, HasSubstr("${v} but the pattern has no (?<v>...) group"));
  EXPECT_EQ(p[4].field, "transliterate");
  EXPECT_THAT(p[4].message, HasSubstr("'Klingon-Latin' is not an ICU transform"));
  EXPECT_EQ(p[5].field, "");
  EXPECT_THAT(p[5].message, HasSubstr("give match"));
  EXPECT_THAT(p[6].message, HasSubstr("not both"));
  EXPECT_EQ(p[7].field, "replace");
  EXPECT_EQ(p[8].field, "transliterate");
  EXPECT_THAT(p[8].message, HasSubstr("has a '(' at character 10: parentheses name the reverse direction"));
  EXPECT_THAT(p[9].message, HasSubstr("has a ')' at character 14"));  // characters, not bytes (15)
  auto compiled = Cleaners::Compile(rules);
  ASSERT_FALSE(compiled.ok());
  EXPECT_THAT(std::string(compiled.status().message()), HasSubstr("text.cleaners[0].match: '(ab'"));
  auto fine = Cleaners::Compile({rules.back()});
  ASSERT_TRUE(fine.ok());
  EXPECT_EQ(*fine->Apply("xaby"), "xab $5y");
}

// A pattern that backtracks without end fails that one text, with the rule named, instead of hanging
// the data loader that runs it.
TEST(CleanersTest, ARunawayPatternFailsTheTextWithinItsTimeLimit) {
  auto c = Cleaners::Compile({{"^(a+)+$", "", ""}});
  ASSERT_TRUE(c.ok());
  auto r = c->Apply(std::string(40, 'a') + "!");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("text.cleaners[0]: the pattern ran past its time limit"));
  EXPECT_EQ(*c->Apply("aaaa"), "");
}

}  // namespace
}  // namespace ttsd::core
