// The real `ttsd` binary, run as a user would: exit codes, messages, files written.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include <fstream>
#include <map>
#include <regex>
#include <nlohmann/json.hpp>

#include "tests/testing/command.h"
#include "tests/testing/temp_dir.h"

namespace ttsd {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using Result = testing::CommandResult;

Result RunTtsd(const std::string& args) { return testing::RunCommand(std::string(TTSD_BINARY) + " " + args); }


class TtsdCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::MakeDataset(tmp_.Join("data"), {{"a", "slt-a.wav"}, {"b", "slt-b.wav"}, {"c", "espeak-a.wav"}},
                         "a|The quick brown fox.\nb|Seven heavy boxes.\nc|Hello world, this is a test.\nd|Missing audio.\n");
  }
  std::string Config(const std::string& extra) {
    return testing::WriteConfig(tmp_.path(), "data:\n  path: data\n  cache_dir: cache\n  validation:\n    count: 1\n" + extra);
  }
  // Runs `prelude`, then `rank1` in the background and `rank0` in the foreground (each a shell command
  // without redirection; their output goes to rank0.out / rank1.out), and checks that both exit 0
  // having joined as ranks 0 and 1 of 2. Returns both outputs.
  std::pair<std::string, std::string> RunTwoRanks(const std::string& prelude, const std::string& rank0,
                                                  const std::string& rank1) {
    testing::WriteTextFile(tmp_.Join("ranks.sh"), prelude + "\n" + rank1 + " > " + tmp_.Join("rank1.out") +
                                                      " 2>&1 & r1=$!\n" + rank0 + " > " + tmp_.Join("rank0.out") +
                                                      " 2>&1; echo rank0_rc=$?\nwait $r1; echo rank1_rc=$?\n");
    Result r = testing::RunCommand("timeout 300 bash " + tmp_.Join("ranks.sh"));
    std::string out0 = testing::RunCommand("cat " + tmp_.Join("rank0.out")).output;
    std::string out1 = testing::RunCommand("cat " + tmp_.Join("rank1.out")).output;
    EXPECT_THAT(r.output, HasSubstr("rank0_rc=0")) << out0;
    EXPECT_THAT(r.output, HasSubstr("rank1_rc=0")) << out1;
    EXPECT_THAT(out0, HasSubstr("data parallel: rank 0 of 2"));
    EXPECT_THAT(out1, HasSubstr("[rank 1] data parallel: rank 1 of 2"));
    return {out0, out1};
  }
  // ddp.yaml: a tiny model (Glow-TTS unless `model` says otherwise) on 2 ranks over a 12-utterance
  // corpus, absolute paths.
  void WriteTwoRankConfig(int max_steps, int checkpoint_interval, const std::string& model = "") {
    testing::MakeSmallCorpus(tmp_.Join("train-data"), 12);
    testing::WriteTextFile(tmp_.Join("ddp.yaml"),
                           "data:\n  path: " + tmp_.Join("train-data") + "\n  cache_dir: " + tmp_.Join("cache") +
                               "\n  validation:\n    count: 2\nbatch:\n  size: 4\nmodel:\n  preset: tiny\n" + model +
                               "training:\n  max_steps: " + std::to_string(max_steps) + "\n  log_interval: 1\n"
                               "checkpoint:\n  interval_steps: " + std::to_string(checkpoint_interval) + "\n"
                               "distributed:\n  world_size: 2\n  timeout_s: 60\n");
  }
  testing::TempDir tmp_;
};

TEST_F(TtsdCliTest, DataCheckPrintsTheReportAndSkipsProblems) {
  Result r = RunTtsd("data check --config " + Config(""));
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("4 read, 3 usable"));
  EXPECT_THAT(r.output, HasSubstr("metadata.csv:4: missing-audio: d:"));
  EXPECT_THAT(r.output, HasSubstr("OK: 3 usable utterances"));
}

// A language the default inventory does not cover (Yoruba, in NFD so tone and under-dot marks are
// symbols of their own): `data symbols` counts what the text uses, flags the rare ones with where they
// first occur, and writes a table; with it as text.symbols_file the data check is clean, without it
// every utterance with an unknown symbol is reported at its line.
TEST_F(TtsdCliTest, DataSymbolsBuildsAYorubaTableThatMakesTheDataCheckClean) {
  testing::MakeDataset(tmp_.Join("yo"), {{"a", "slt-a.wav"}, {"b", "slt-b.wav"}, {"c", "rms-a.wav"}},
                       "a|B\u00e1wo ni, \u1ecd\u0300r\u1eb9\u0301 mi?\nb|\u1ecc j\u1ecd\u0301 d\u00e1ra.\n"
                       "c|Mo w\u00e0 \u0144b\u1eb9\u0300.\n");
  const std::string text = "text:\n  mode: characters\n  language: yo\n  unicode_form: nfd\n";
  const std::string body = "data:\n  path: yo\n  cache_dir: cache\n  validation:\n    count: 1\n" + text;
  // The config already names the table `data symbols` is about to write.
  testing::WriteTextFile(tmp_.Join("yo.yaml"), body + "  symbols_file: " + tmp_.Join("yo-symbols.json") + "\n");
  Result missing = RunTtsd("data check --config " + tmp_.Join("yo.yaml"));
  EXPECT_THAT(missing.output, HasSubstr("text.symbols_file: file " + tmp_.Join("yo-symbols.json") + " does not exist"));
  Result r = RunTtsd("data symbols --config " + tmp_.Join("yo.yaml") + " --out " + tmp_.Join("yo-symbols.json") +
                     " --rare 2");
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("U+0301 COMBINING ACUTE ACCENT"));
  EXPECT_THAT(r.output, HasSubstr("U+0323 COMBINING DOT BELOW"));
  EXPECT_THAT(r.output, HasSubstr("U+0300 COMBINING GRAVE ACCENT"));
  auto line_of = [&](const std::string& name) {
    size_t at = r.output.find(name);
    return at == std::string::npos ? "" : r.output.substr(at, r.output.find('\n', at) - at);
  };
  EXPECT_THAT(line_of("LATIN SMALL LETTER J"), HasSubstr("RARE: first at metadata.csv:2"));
  EXPECT_THAT(line_of("COMBINING ACUTE ACCENT"), Not(HasSubstr("RARE")));
  EXPECT_THAT(r.output, Not(HasSubstr("LATIN SMALL LETTER E WITH DOT BELOW"))) << "NFD splits it";
  EXPECT_THAT(r.output, HasSubstr("set text.symbols_file"));

  Result clean = RunTtsd("data check --config " + tmp_.Join("yo.yaml"));
  EXPECT_EQ(clean.code, 0) << clean.output;
  EXPECT_THAT(clean.output, Not(HasSubstr("not in the symbol table")));
  EXPECT_THAT(clean.output, HasSubstr("OK: 3 usable utterances"));
  testing::WriteTextFile(tmp_.Join("yo.yaml"), body);  // the built-in table instead
  Result unknown = RunTtsd("data check --config " + tmp_.Join("yo.yaml"));
  EXPECT_THAT(unknown.output, HasSubstr("metadata.csv:1"));
  EXPECT_THAT(unknown.output, HasSubstr("symbols not in the symbol table"));
}

TEST_F(TtsdCliTest, StrictDataCheckFails) {
  Result r = RunTtsd("data check --config " + Config("  strict: true\n"));
  EXPECT_EQ(r.code, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr("1 dataset problems and data.strict is true"));
}

TEST_F(TtsdCliTest, ConfigErrorsExitTwoWithLineAndColumn) {
  std::string path = testing::WriteConfig(tmp_.path(), "data:\n  path: data\n  fromat: ljspeech\naudio:\n  n_mels: many\n");
  Result r = RunTtsd("data check --config " + path);
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_THAT(r.output, HasSubstr("config.yaml:3:3: data.fromat: unknown key 'fromat'"));
  EXPECT_THAT(r.output, HasSubstr("config.yaml:5:11: audio.n_mels: expected an integer, got 'many'"));
  Result missing = RunTtsd("data check --config " + tmp_.Join("nope.yaml"));
  EXPECT_EQ(missing.code, 2);
  EXPECT_THAT(missing.output, HasSubstr("cannot read config file"));
}

TEST_F(TtsdCliTest, ConfigCheckPrintsTheResolvedConfig) {
  Result r = RunTtsd("config check --config " + Config("audio:\n  hop_length: 200\n"));
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("hop_length: 200"));
  EXPECT_THAT(r.output, HasSubstr("n_fft: 1024"));  // a default, filled in
  EXPECT_THAT(r.output, HasSubstr("path: \"" + tmp_.Join("data") + "\""));  // resolved against the file
  Result defaults = RunTtsd("config defaults");
  EXPECT_EQ(defaults.code, 0);
  EXPECT_THAT(defaults.output, HasSubstr("max_frames: 12000"));
}

TEST_F(TtsdCliTest, PrepareFillsTheCacheThenHitsIt) {
  std::string cfg = Config("");
  Result first = RunTtsd("data prepare --config " + cfg);
  EXPECT_EQ(first.code, 0) << first.output;
  EXPECT_THAT(first.output, HasSubstr("0 cached, 3 computed"));
  Result second = RunTtsd("data prepare --config " + cfg);
  EXPECT_THAT(second.output, HasSubstr("3 cached, 0 computed"));
  EXPECT_THAT(second.output, HasSubstr("Batches"));
}

TEST_F(TtsdCliTest, AudioMelWritesNpyAndGriffinLimWritesWav) {
  std::string npy = tmp_.Join("a.npy"), wav = tmp_.Join("a.wav");
  Result mel = RunTtsd("audio mel --in " + testing::TestWav("espeak-a.wav") + " --out " + npy);
  EXPECT_EQ(mel.code, 0) << mel.output;
  EXPECT_THAT(mel.output, HasSubstr("[80 mels, 169 frames]"));
  Result gl = RunTtsd("audio griffin-lim --in " + npy + " --out " + wav + " --iters 8");
  EXPECT_EQ(gl.code, 0) << gl.output;
  EXPECT_GT(std::filesystem::file_size(wav), 44u + 2 * 22050);
  Result bad = RunTtsd("audio mel --in " + tmp_.Join("missing.wav") + " --out " + npy);
  EXPECT_NE(bad.code, 0);
  EXPECT_THAT(bad.output, HasSubstr("missing.wav: file not found"));
}

// A sentence, symbol ids or a recording to resynthesize, exactly one, checked before any checkpoint is read.
TEST_F(TtsdCliTest, SynthesizeTakesTextIdsOrARecordingNotSeveral) {
  const std::string common = "synthesize --checkpoint " + tmp_.Join("no-such-run") + " --out " + tmp_.Join("x.wav");
  Result neither = RunTtsd(common);
  EXPECT_EQ(neither.code, 2) << neither.output;
  EXPECT_THAT(neither.output, HasSubstr("give one of a sentence (--text), symbol ids (--ids) or a recording "
                                        "(--resynthesize), not none"));
  Result both = RunTtsd(common + " --text hi --resynthesize " + testing::TestWav("slt-a.wav"));
  EXPECT_EQ(both.code, 2) << both.output;
  EXPECT_THAT(both.output, HasSubstr("not several"));
  Result ids_and_text = RunTtsd(common + " --text hi --ids 1,0,2");
  EXPECT_EQ(ids_and_text.code, 2) << ids_and_text.output;
  EXPECT_THAT(ids_and_text.output, HasSubstr("not several"));
  Result missing = RunTtsd(common + " --resynthesize " + tmp_.Join("missing.wav"));
  EXPECT_EQ(missing.code, 2) << missing.output;
  EXPECT_THAT(missing.output, HasSubstr("missing.wav"));
  EXPECT_FALSE(std::filesystem::exists(tmp_.Join("x.wav")));
}

// `ttsd import` as a user meets it: a report on success; exit 2 and a message naming the right command
// for a file of another tool, a file that is no checkpoint, a missing file or an unknown format; nothing
// written on failure.
TEST_F(TtsdCliTest, ImportReportsWhatItMappedAndRefusesTheWrongFormat) {
  const std::string interop = testing::TestDataDir() + "/interop/";
  const std::string out = tmp_.Join("voice.pt");
  Result ok = RunTtsd("import vits " + interop + "vits-vctk/G.pth --out " + out);
  ASSERT_EQ(ok.code, 0) << ok.output;
  EXPECT_THAT(ok.output, HasSubstr("4 speakers"));
  EXPECT_THAT(ok.output, HasSubstr("weight-norm folded or re-expressed"));
  EXPECT_THAT(ok.output, HasSubstr("Wrote    " + out));
  EXPECT_TRUE(std::filesystem::exists(out + ".sha256"));
  const std::string bad = tmp_.Join("bad.pt");
  Result lightning = RunTtsd("import coqui " + interop + "piper-xlow/model.ckpt --out " + bad);
  EXPECT_EQ(lightning.code, 2) << lightning.output;
  EXPECT_THAT(lightning.output, HasSubstr("use `ttsd import piper`"));
  Result coqui = RunTtsd("import vits " + interop + "coqui-vits/model.pth --out " + bad);
  EXPECT_EQ(coqui.code, 2) << coqui.output;
  EXPECT_THAT(coqui.output, HasSubstr("use `ttsd import coqui`"));
  Result authors = RunTtsd("import piper " + interop + "vits-ljs/G.pth --out " + bad);
  EXPECT_EQ(authors.code, 2) << authors.output;
  EXPECT_THAT(authors.output, HasSubstr("use `ttsd import vits`"));
  Result wav = RunTtsd("import piper " + testing::TestWav("slt-a.wav") + " --out " + bad);
  EXPECT_EQ(wav.code, 2) << wav.output;
  EXPECT_THAT(wav.output, HasSubstr("not a PyTorch checkpoint"));
  EXPECT_EQ(RunTtsd("import piper " + tmp_.Join("missing.ckpt") + " --out " + bad).code, 2);
  EXPECT_EQ(RunTtsd("import espnet " + interop + "piper-xlow/model.ckpt --out " + bad).code, 2);
  EXPECT_FALSE(std::filesystem::exists(bad));
  EXPECT_FALSE(std::filesystem::exists(bad + ".sha256"));
}

TEST_F(TtsdCliTest, TextSymbolsWritesAPinnableTable) {
  std::string table = tmp_.Join("symbols.json");
  Result r = RunTtsd("text symbols --config " + Config("") + " --out " + table);
  EXPECT_EQ(r.code, 0) << r.output;
  // The written table, used as text.symbols_file, gives the same ids.
  std::string pinned = Config("text:\n  symbols_file: symbols.json\n");
  Result a = RunTtsd("text phonemize --config " + pinned + " 'Seven heavy boxes.'");
  Result b = RunTtsd("text phonemize --config " + Config("") + " 'Seven heavy boxes.'");
  EXPECT_EQ(a.code, 0) << a.output;
  EXPECT_EQ(a.output, b.output);
  EXPECT_THAT(a.output, HasSubstr("sˈɛvən"));
}

TEST_F(TtsdCliTest, PhonemizeFlagsUnknownSymbols) {
  Result r = RunTtsd("text phonemize --config " + Config("text:\n  mode: characters\n") + " 'Déjà vu'");
  EXPECT_EQ(r.code, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr("unknown:    'é' 'à'"));
}

// The config's cleaners rewrite text before espeak-ng reads it; a broken rule stops the config check
// at its line, before any data is read.
TEST_F(TtsdCliTest, TextCleanersRewriteBeforePhonemizingAndABrokenOneIsCaughtAtItsLine) {
  Result r = RunTtsd("text phonemize --config " +
                     Config("text:\n  cleaners:\n    - {match: '(?i)\\bttsd\\b', replace: tee tee ess dee}\n") +
                     " 'TTSD trains voices.'");
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("normalized: tee tee ess dee trains voices."));
  Result bad = RunTtsd("config check --config " + Config("text:\n  cleaners:\n    - match: 'a(b'\n"));
  EXPECT_EQ(bad.code, 2) << bad.output;
  EXPECT_THAT(bad.output, HasSubstr("config.yaml:8:14: text.cleaners[0].match: 'a(b' is not a regular expression"));
}

// tools/make-corpus: real flite + espeak-ng speech, both layouts, identical for the same seed, and
// clean by ttsd's own check.
TEST_F(TtsdCliTest, MakeCorpusIsDeterministicAndPassesTheCheck) {
  const std::string tool = std::string(TTSD_SOURCE_DIR) + "/tools/make-corpus";
  Result one = testing::RunCommand(tool + " --voices slt --sentences 4 --seed 3 --out " + tmp_.Join("one"));
  ASSERT_EQ(one.code, 0) << one.output;
  Result multi = testing::RunCommand(tool + " --voices rms,en-us --sentences 3 --seed 3 --out " + tmp_.Join("multi"));
  ASSERT_EQ(multi.code, 0) << multi.output;
  Result again = testing::RunCommand(tool + " --voices rms,en-us --sentences 3 --seed 3 --out " + tmp_.Join("again"));
  ASSERT_EQ(again.code, 0) << again.output;
  Result same = testing::RunCommand("diff -r " + tmp_.Join("multi") + " " + tmp_.Join("again"));
  EXPECT_EQ(same.code, 0) << same.output;
  Result lj = testing::RunCommand("head -1 " + tmp_.Join("one/metadata.csv"));
  EXPECT_THAT(lj.output, ::testing::MatchesRegex("slt-0001\\|[^|]+\\|[^|]+\n"));
  Result ms = testing::RunCommand("cut -d'|' -f2 " + tmp_.Join("multi/metadata.csv") + " | sort -u | tr '\\n' ' '");
  EXPECT_EQ(ms.output, "espeak-en-us rms ");

  std::string cfg = testing::WriteConfig(tmp_.path(), "data:\n  format: multispeaker\n  path: multi\n  strict: true\n");
  Result check = RunTtsd("data check --config " + cfg);
  EXPECT_EQ(check.code, 0) << check.output;
  EXPECT_THAT(check.output, HasSubstr("6 read, 6 usable"));
  EXPECT_THAT(check.output, HasSubstr("No problems found."));
}

// Per step: the logged training losses, exactly as written (metrics.jsonl keeps full precision).
std::map<int64_t, std::string> LoggedLosses(const std::string& metrics_path) {
  std::map<int64_t, std::string> out;
  std::ifstream in(metrics_path);
  std::string line;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.contains("train/loss")) continue;
    out[j["step"].get<int64_t>()] = j["train/mle"].dump() + " " + j["train/duration"].dump();
  }
  return out;
}

// Exact resume through the real binary: a run stopped by SIGTERM and resumed with --resume auto logs
// the same losses at every step as a run that was never stopped.
TEST_F(TtsdCliTest, TrainStopsOnSigtermAndResumesBitIdentically) {
  testing::MakeSmallCorpus(tmp_.Join("train-data"), 12);
  std::string cfg = testing::WriteConfig(
      tmp_.path(), "data:\n  path: train-data\n  cache_dir: cache\n  validation:\n    count: 2\nbatch:\n  size: 1\n"
                   "model:\n  preset: tiny\ntraining:\n  max_steps: 80\n  warmup_steps: 20\n  log_interval: 1\n"
                   "validation:\n  interval_steps: 25\ncheckpoint:\n  interval_steps: 20\n");
  const std::string ttsd = std::string(TTSD_BINARY) + " train --threads 1 --config " + cfg;
  Result straight = testing::RunCommand(ttsd + " --output-dir " + tmp_.Join("A"));
  ASSERT_EQ(straight.code, 0) << straight.output;
  std::string script =
      ttsd + " --output-dir " + tmp_.Join("B") + " > " + tmp_.Join("b.out") + " 2>&1 & pid=$!\n"
      "for i in $(seq 1 1000); do grep -q '\"step\":12,' " + tmp_.Join("B/metrics.jsonl") +
      " 2>/dev/null && break; sleep 0.01; done\n"
      "kill -TERM $pid; wait $pid; echo first_rc=$?\n" +
      ttsd + " --output-dir " + tmp_.Join("B") + " --resume auto > /dev/null 2>&1; echo second_rc=$?\n";
  testing::WriteTextFile(tmp_.Join("stop.sh"), script);
  Result r = testing::RunCommand("bash " + tmp_.Join("stop.sh"));
  EXPECT_THAT(r.output, HasSubstr("first_rc=0"));
  EXPECT_THAT(r.output, HasSubstr("second_rc=0"));
  Result first_out = testing::RunCommand("cat " + tmp_.Join("b.out"));
  ASSERT_THAT(first_out.output, HasSubstr("stopped at step")) << "the run finished before SIGTERM arrived";
  EXPECT_THAT(first_out.output, HasSubstr("resume with --resume auto"));

  auto a = LoggedLosses(tmp_.Join("A/metrics.jsonl"));
  auto b = LoggedLosses(tmp_.Join("B/metrics.jsonl"));
  ASSERT_EQ(a.size(), 80u);
  ASSERT_EQ(b.size(), 80u);
  EXPECT_EQ(a, b);
}

// Data parallelism through the real binary: two `ttsd train` ranks started with the torchrun variables
// on loopback (Gloo) train the run a single process trains, rank 0 writing it. Dropout is off (its
// masks are drawn per rank and cannot match one process's). The first two steps agree to float
// tolerance (1e-5 relative: the all-reduce sums in another order than one process does); later steps
// may drift a little more, because the alignment search is an argmax that a last-bit difference in the
// weights can flip, so the bound there is 2%.
TEST_F(TtsdCliTest, TwoDataParallelRanksTrainTheRunOneProcessTrains) {
  testing::MakeSmallCorpus(tmp_.Join("train-data"), 12);
  const std::string body = "data:\n  path: train-data\n  cache_dir: cache\n  validation:\n    count: 2\nbatch:\n  size: 4\n"
                           "model:\n  preset: tiny\n  p_dropout: 0\n  decoder_dropout: 0\n"
                           "training:\n  max_steps: 6\n  log_interval: 1\n";
  std::string one = testing::WriteConfig(tmp_.path(), body);
  Result single = RunTtsd("train --threads 1 --config " + one + " --output-dir " + tmp_.Join("A"));
  ASSERT_EQ(single.code, 0) << single.output;
  testing::WriteTextFile(tmp_.Join("ddp.yaml"), body + "distributed:\n  world_size: 2\n");
  const std::string train = std::string(TTSD_BINARY) + " train --threads 1 --config " + tmp_.Join("ddp.yaml") +
                            " --output-dir " + tmp_.Join("B");
  Result alone = testing::RunCommand(train);
  EXPECT_NE(alone.code, 0);
  EXPECT_THAT(alone.output, HasSubstr("launch 2 ranks"));
  auto [out0, out1] = RunTwoRanks("export MASTER_ADDR=127.0.0.1 MASTER_PORT=$((20000 + $$ % 20000)) WORLD_SIZE=2",
                                   "RANK=0 " + train, "RANK=1 " + train);
  ASSERT_FALSE(HasFailure());
  EXPECT_THAT(out1, HasSubstr("rank 0 writes"));

  auto read = [](const std::string& path) {
    std::map<int64_t, double> loss;
    std::ifstream in(path);
    for (std::string line; std::getline(in, line);) {
      auto j = nlohmann::json::parse(line, nullptr, false);
      if (!j.is_discarded() && j.contains("train/loss")) loss[j["step"].get<int64_t>()] = j["train/loss"].get<double>();
    }
    return loss;
  };
  auto a = read(tmp_.Join("A/metrics.jsonl")), b = read(tmp_.Join("B/metrics.jsonl"));
  ASSERT_EQ(a.size(), 6u);
  ASSERT_EQ(b.size(), 6u) << "rank 0 logs every step once";
  for (int64_t step = 1; step <= 6; ++step) {
    const double tolerance = step <= 2 ? 1e-5 : 0.02;
    EXPECT_NEAR(b[step], a[step], tolerance * std::abs(a[step])) << "step " << step;
  }
  EXPECT_TRUE(std::filesystem::exists(tmp_.Join("B/checkpoints/ckpt-000000006.pt")));
}

// Two "nodes" on one machine under PyTorch's own launcher: two torchrun agents in process groups of
// their own, node ranks 0 and 1, one rank each, meeting at one MASTER_ADDR on loopback. torchrun's
// static rendezvous serves the store itself (TORCHELASTIC_USE_AGENT_STORE), which ttsd joins as a client.
// (`--redirects 1 --tee 1`: Debian's torchrun 1.13 on Python 3.11 cannot parse its own default "0".)
TEST_F(TtsdCliTest, TwoNodesUnderTorchrunTrainARunToTheEnd) {
  if (!std::filesystem::exists("/usr/bin/torchrun")) GTEST_SKIP() << "torchrun (python3-torch) is not installed";
  WriteTwoRankConfig(8, 4);
  auto node = [&](int rank) {
    return "setsid /usr/bin/torchrun --nnodes 2 --nproc_per_node 1 --node_rank " + std::to_string(rank) +
           " --master_addr 127.0.0.1 --master_port $port --max_restarts 0 --redirects 1 --tee 1 --no_python " + TTSD_BINARY +
           " train --threads 1 --config " + tmp_.Join("ddp.yaml") + " --output-dir " + tmp_.Join("run");
  };
  auto [out0, out1] = RunTwoRanks("port=$((20000 + $$ % 20000))", node(0), node(1));
  ASSERT_FALSE(HasFailure());
  EXPECT_THAT(out0, HasSubstr("finished at step 8"));
  // The cache was cold: each rank computed features for its half of the 12 lines (4 distinct recordings,
  // 2 in each half; a duplicate may be computed twice by parallel workers), then both read them all.
  auto computed = [](const std::string& out) {
    std::smatch m;
    EXPECT_TRUE(std::regex_search(out, m, std::regex("share of the feature cache: (\\d+) computed"))) << out;
    return m.empty() ? -1 : std::stoi(m[1]);
  };
  EXPECT_GE(computed(out0), 2);
  EXPECT_GE(computed(out1), 2);
  EXPECT_THAT(out0, HasSubstr("(12 features cached, 0 computed)"));
  EXPECT_TRUE(std::filesystem::exists(tmp_.Join("run/checkpoints/ckpt-000000008.pt")));
}

// VITS on two ranks: both networks' gradients are averaged (the discriminators' after their backward
// pass, the generator's after its own), each loss term weighted by the rank's share of what it averages
// over. The ranks' weights are compared with rank 0's before every checkpoint, so a gradient that missed
// the all-reduce would fail the run here.
TEST_F(TtsdCliTest, TwoRanksTrainVitsWithBothNetworksInLockstep) {
  WriteTwoRankConfig(4, 2, "  type: vits\n");
  const std::string train = std::string(TTSD_BINARY) + " train --threads 1 --config " + tmp_.Join("ddp.yaml") +
                            " --output-dir " + tmp_.Join("run");
  auto [out0, out1] = RunTwoRanks("export MASTER_ADDR=127.0.0.1 MASTER_PORT=$((20000 + $$ % 20000)) WORLD_SIZE=2",
                                   "RANK=0 " + train, "RANK=1 " + train);
  ASSERT_FALSE(HasFailure());
  EXPECT_THAT(out0, HasSubstr("finished at step 4"));
  EXPECT_THAT(out0, Not(HasSubstr("differ from rank 0's")));
  EXPECT_TRUE(std::filesystem::exists(tmp_.Join("run/checkpoints/ckpt-000000002.pt")));
  EXPECT_TRUE(std::filesystem::exists(tmp_.Join("run/checkpoints/ckpt-000000004.pt")));
  std::ifstream metrics(tmp_.Join("run/metrics.jsonl"));
  int steps = 0;
  for (std::string line; std::getline(metrics, line);) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.contains("train/disc_loss")) continue;
    ++steps;
    EXPECT_TRUE(std::isfinite(j["train/disc_loss"].get<double>()) && std::isfinite(j["train/loss"].get<double>())) << line;
  }
  EXPECT_EQ(steps, 4);
}

// A data-parallel fine-tune: rank 0 alone validates the base at step 0 (and may save it as the best
// checkpoint) before the ranks step together; that save must not wait for the other rank.
TEST_F(TtsdCliTest, TwoRanksFineTuneFromABaseThroughTheStepZeroValidation) {
  WriteTwoRankConfig(3, 3);
  std::string base = testing::RunCommand("sed '/^distributed:/,$d' " + tmp_.Join("ddp.yaml")).output;
  testing::WriteTextFile(tmp_.Join("base.yaml"), base);
  Result trained = RunTtsd("train --threads 1 --config " + tmp_.Join("base.yaml") + " --output-dir " + tmp_.Join("base"));
  ASSERT_EQ(trained.code, 0) << trained.output;
  std::string ddp = testing::RunCommand("cat " + tmp_.Join("ddp.yaml")).output;
  testing::WriteTextFile(tmp_.Join("ddp.yaml"), ddp + "validation:\n  interval_steps: 3\n  samples: 1\n"
                                                "finetune:\n  pretrained_model_path: " + tmp_.Join("base") + "\n");
  const std::string train = std::string(TTSD_BINARY) + " train --threads 1 --config " + tmp_.Join("ddp.yaml") +
                            " --output-dir " + tmp_.Join("ft");
  auto [out0, out1] = RunTwoRanks("export MASTER_ADDR=127.0.0.1 MASTER_PORT=$((20000 + $$ % 20000)) WORLD_SIZE=2",
                                   "RANK=0 " + train, "RANK=1 " + train);
  ASSERT_FALSE(HasFailure());
  EXPECT_THAT(out0, HasSubstr("validation step 0"));
  EXPECT_THAT(out0, HasSubstr("finished at step 3"));
}

// A rank killed mid-run ends the other at its next collective (a clear error, not a hang), and both
// resumed with --resume auto finish the run from rank 0's newest checkpoint.
TEST_F(TtsdCliTest, AKilledRankEndsTheOtherAndTheRunResumesFromItsCheckpoint) {
  WriteTwoRankConfig(400, 5);
  const std::string train = std::string(TTSD_BINARY) + " train --threads 1 --config " + tmp_.Join("ddp.yaml") +
                            " --output-dir " + tmp_.Join("run");
  testing::WriteTextFile(
      tmp_.Join("kill.sh"),
      "export MASTER_ADDR=127.0.0.1 MASTER_PORT=$((20000 + $$ % 20000)) WORLD_SIZE=2\n"
      "RANK=1 " + train + " > " + tmp_.Join("r1.out") + " 2>&1 & r1=$!\n"
      "RANK=0 " + train + " > " + tmp_.Join("r0.out") + " 2>&1 & r0=$!\n"
      "for i in $(seq 1 3000); do grep -q '\"step\":12,' " + tmp_.Join("run/metrics.jsonl") +
      " 2>/dev/null && break; sleep 0.01; done\n"
      "kill -9 $r1; wait $r0; echo rank0_rc=$?\n"
      "export MASTER_PORT=$((MASTER_PORT + 1))\n"
      "RANK=1 " + train + " --resume auto > /dev/null 2>&1 & r1=$!\n"
      "RANK=0 " + train + " --resume auto > " + tmp_.Join("resumed.out") + " 2>&1; echo resumed_rc=$?\n"
      "wait $r1; echo resumed1_rc=$?\n");
  Result r = testing::RunCommand("timeout 300 bash " + tmp_.Join("kill.sh"));
  Result r0 = testing::RunCommand("cat " + tmp_.Join("r0.out")), resumed = testing::RunCommand("cat " + tmp_.Join("resumed.out"));
  EXPECT_THAT(r.output, HasSubstr("rank0_rc=1"));
  EXPECT_THAT(r0.output, HasSubstr("rank 0 of 2: all-reduce failed"));
  EXPECT_THAT(r.output, HasSubstr("resumed_rc=0")) << resumed.output;
  EXPECT_THAT(r.output, HasSubstr("resumed1_rc=0"));
  EXPECT_THAT(resumed.output, HasSubstr("resumed from"));
  EXPECT_THAT(resumed.output, HasSubstr("finished at step 400"));
}

// A process killed halfway through writing a checkpoint, or after the file but before its sha256
// sidecar (failpoints: kill -9 at exactly that instant), leaves nothing a resume would load. `--resume
// auto` takes the newest complete checkpoint and says what it skipped; a corrupt newest checkpoint
// (flipped bytes) is caught by its sha256 the same way.
TEST_F(TtsdCliTest, AKillMidCheckpointWriteOrACorruptCheckpointResumesFromTheNewestCompleteOne) {
  namespace fs = std::filesystem;
  testing::MakeSmallCorpus(tmp_.Join("train-data"), 12);
  std::string cfg = testing::WriteConfig(
      tmp_.path(), "data:\n  path: train-data\n  cache_dir: cache\n  validation:\n    count: 2\nbatch:\n  size: 1\n"
                   "model:\n  preset: tiny\ntraining:\n  max_steps: 40\n  log_interval: 1\n"
                   "validation:\n  interval_steps: 1000\ncheckpoint:\n  interval_steps: 10\n  keep_last: 10\n");
  const std::string run = tmp_.Join("run"), ckpts = run + "/checkpoints/";
  const std::string train = std::string(TTSD_BINARY) + " train --threads 1 --config " + cfg + " --output-dir " + run;
  auto ckpt = [&](int step) { return ckpts + "ckpt-0000000" + std::to_string(step) + ".pt"; };

  Result r = testing::RunCommand("TTSD_FAILPOINT=write-partial:ckpt-000000020.pt " + train);
  EXPECT_NE(r.code, 0) << r.output;
  EXPECT_TRUE(fs::exists(ckpt(10) + ".sha256"));
  EXPECT_FALSE(fs::exists(ckpt(20))) << "the killed save left a file under the checkpoint's name";
  int partial = 0;
  for (const auto& e : fs::directory_iterator(ckpts)) partial += e.path().filename().string().find(".tmp.") != std::string::npos;
  EXPECT_EQ(partial, 1);

  r = testing::RunCommand("TTSD_FAILPOINT=checkpoint-before-sidecar:ckpt-000000030.pt " + train + " --resume auto");
  EXPECT_NE(r.code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("removed 1 half-written checkpoint file(s)"));
  EXPECT_THAT(r.output, HasSubstr("ckpt-000000010.pt at step 10"));
  EXPECT_TRUE(fs::exists(ckpt(30)));
  EXPECT_FALSE(fs::exists(ckpt(30) + ".sha256"));

  r = testing::RunCommand(train + " --resume auto");
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("ckpt-000000030.pt: no .sha256 beside it"));
  EXPECT_THAT(r.output, HasSubstr("ckpt-000000020.pt at step 20"));
  ASSERT_TRUE(fs::exists(ckpt(40) + ".sha256"));

  // Flip bytes in the middle of the newest checkpoint: its sha256 no longer matches.
  {
    std::fstream f(ckpt(40), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(fs::file_size(ckpt(40)) / 2));
    f.write("\xde\xad\xbe\xef", 4);
  }
  r = testing::RunCommand(train + " --resume auto --max-steps 45");
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("ckpt-000000040.pt: sha256 mismatch"));
  EXPECT_THAT(r.output, HasSubstr("ckpt-000000030.pt at step 30"));
  EXPECT_THAT(r.output, HasSubstr("finished at step 45"));
}

TEST_F(TtsdCliTest, TrainConfigErrorsComeFirstWithExitTwo) {
  std::string cfg = testing::WriteConfig(tmp_.path(), "data:\n  path: data\nmodel:\n  preset: huge\ntraining:\n  max_stpes: 3\n");
  Result r = RunTtsd("train --config " + cfg + " --output-dir " + tmp_.Join("out"));
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_THAT(r.output, HasSubstr("config.yaml:6:3: training.max_stpes: unknown key"));
  cfg = testing::WriteConfig(tmp_.path(), "data:\n  path: data\nmodel:\n  preset: huge\n");
  r = RunTtsd("train --config " + cfg + " --output-dir " + tmp_.Join("out"));
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_THAT(r.output, HasSubstr("config.yaml:4:11: model.preset: 'huge' is not one of: tiny, small, base"));
  EXPECT_FALSE(std::filesystem::exists(tmp_.Join("out")));  // nothing started
}

TEST_F(TtsdCliTest, TrainRefusesAMissingDeviceOrHalfPrecisionOnTheCpuBeforeAnyWork) {
  std::string cfg = testing::WriteConfig(tmp_.path(), "data:\n  path: data\nmodel:\n  preset: tiny\n");
  Result r = RunTtsd("train --config " + cfg + " --device cuda:99 --output-dir " + tmp_.Join("out"));
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_THAT(r.output, HasSubstr("device cuda:99"));
  cfg = testing::WriteConfig(tmp_.path(),
                             "data:\n  path: data\nmodel:\n  preset: tiny\ntraining:\n  device: cuda:0\n  precision: fp16\n");
  r = RunTtsd("train --config " + cfg + " --device cpu --output-dir " + tmp_.Join("out"));
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_THAT(r.output, HasSubstr("training.precision fp16 needs a CUDA device"));
  EXPECT_FALSE(std::filesystem::exists(tmp_.Join("out")));
}

TEST_F(TtsdCliTest, BenchTrainStepPrintsOneJsonLine) {
  Result r = RunTtsd("bench train-step --config " + Config("model:\n  preset: tiny\n") +
                     " --batch-size 2 --text-length 20 --frames 60 --steps 2 --threads 1");
  ASSERT_EQ(r.code, 0) << r.output;
  auto j = nlohmann::json::parse(r.output, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << r.output;
  EXPECT_EQ(j["model"], "glow_tts/tiny");
  EXPECT_EQ(j["frames"], 120);
  EXPECT_GT(j["params"].get<int64_t>(), 50000);
  EXPECT_GT(j["frames_per_s"].get<double>(), 0);
}

TEST_F(TtsdCliTest, BenchTrainStepRunsVitsWithBothNetworksCounted) {
  Result r = RunTtsd("bench train-step --config " + Config("model:\n  type: vits\n  preset: tiny\n") +
                     " --batch-size 2 --text-length 20 --frames 60 --steps 1 --threads 1");
  ASSERT_EQ(r.code, 0) << r.output;
  auto j = nlohmann::json::parse(r.output, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << r.output;
  EXPECT_EQ(j["model"], "vits/tiny");
  EXPECT_GT(j["params_generator"].get<int64_t>(), 100000);
  EXPECT_GT(j["params_discriminator"].get<int64_t>(), 100000);
  EXPECT_GT(j["frames_per_s"].get<double>(), 0);
  EXPECT_FALSE(j["text_side_only"].get<bool>());

  // A text-side fine-tune's step: with the audio path frozen the generator and discriminators are skipped.
  r = RunTtsd("bench train-step --config " + Config("model:\n  type: vits\n  preset: tiny\n") +
              " --batch-size 2 --text-length 20 --frames 60 --steps 1 --threads 1 --freeze posterior,decoder,discriminator");
  ASSERT_EQ(r.code, 0) << r.output;
  j = nlohmann::json::parse(r.output, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << r.output;
  EXPECT_EQ(j["frozen"], (std::vector<std::string>{"posterior", "decoder", "discriminator"}));
  EXPECT_TRUE(j["text_side_only"].get<bool>());

  // A pattern that names nothing, or a model that is not VITS, is a usage error, not a silent full step.
  r = RunTtsd("bench train-step --config " + Config("model:\n  type: vits\n  preset: tiny\n") +
              " --batch-size 2 --text-length 20 --frames 60 --steps 1 --threads 1 --freeze posterior,decodr");
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_THAT(r.output, HasSubstr("'decodr' matches no parameter"));
  r = RunTtsd("bench train-step --config " + Config("model:\n  preset: tiny\n") +
              " --batch-size 2 --text-length 20 --frames 60 --steps 1 --threads 1 --freeze encoder");
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_THAT(r.output, HasSubstr("--freeze times a VITS fine-tune's step"));
}

TEST_F(TtsdCliTest, BenchFeaturesReportsThroughput) {
  Result r = RunTtsd("bench features --config " + Config("") + " --clips 1 --clip-seconds 2 --repeats 1");
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("frames/s per core"));
}

}  // namespace
}  // namespace ttsd
