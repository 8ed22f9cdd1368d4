#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/asr/error_rate.h"
#include "core/asr/recognizer.h"
#include "core/audio/wav.h"
#include "tests/testing/temp_dir.h"

namespace ttsd::core::asr {
namespace {

TEST(ErrorRateTest, NormalisesBothSidesThenCountsEdits) {
  EXPECT_EQ(NormalizeForScoring("Hello, World!  It's 42."), "hello world it's forty two");
  ErrorCounts e;
  e.Add("The quick brown fox.", "the quick brown fox");
  EXPECT_EQ(e.word_edits, 0);
  EXPECT_EQ(e.char_edits, 0);
  e.Add("seven heavy boxes", "seven heavy box is here");  // a substitution and two insertions
  EXPECT_EQ(e.word_edits, 3);
  EXPECT_EQ(e.words, 7);
  EXPECT_NEAR(e.wer(), 3.0 / 7.0, 1e-12);
  ErrorCounts silent;
  silent.Add("one two three", "");
  EXPECT_DOUBLE_EQ(silent.wer(), 1.0);
  EXPECT_DOUBLE_EQ(silent.cer(), 1.0);
}

// The real recogniser on real flite speech: it understands slt (the reason it is in the product).
TEST(RecognizerTest, TranscribesFliteSpeech) {
  auto r = Recognizer::CreateEnglish();
  ASSERT_TRUE(r.ok()) << r.status();
  auto audio = ReadAudio(testing::TestWav("slt-b.wav"));
  ASSERT_TRUE(audio.ok());
  auto heard = (*r)->Transcribe(audio->samples, audio->sample_rate);
  ASSERT_TRUE(heard.ok()) << heard.status();
  ErrorCounts e;
  e.Add("Seven heavy boxes.", *heard);
  EXPECT_LE(e.wer(), 1.0 / 3.0) << "heard: " << *heard;
  // Silence is heard as nothing (or next to nothing), never as the sentence.
  auto quiet = (*r)->Transcribe(std::vector<float>(16000, 0.0f), 16000);
  ASSERT_TRUE(quiet.ok());
  ErrorCounts q;
  q.Add("Seven heavy boxes.", *quiet);
  EXPECT_EQ(q.wer(), 1.0) << "heard: " << *quiet;
}

}  // namespace
}  // namespace ttsd::core::asr
