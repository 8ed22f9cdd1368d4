#include "core/data/dataset.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>

#include "absl/strings/str_cat.h"
#include "core/audio/audio_stats.h"
#include "core/audio/mel.h"
#include "core/audio/resample.h"
#include "core/audio/wav.h"
#include "core/common/file_util.h"
#include "core/common/parallel.h"
#include "core/common/progress.h"
#include "core/common/sha256.h"
#include "core/common/status.h"
#include "core/data/feature_cache.h"
#include "core/data/split.h"
#include "core/text/utf8.h"

namespace ttsd::core {
namespace {

struct EntryResult {
  std::optional<PreparedUtterance> ok;
  std::vector<DataProblem> problems;
  bool cache_hit = false;
};

int CodePoints(const std::string& s) {
  std::vector<std::string> cps;
  SplitUtf8(s, &cps);
  return static_cast<int>(cps.size());
}

// Checks that hold for fresh and cached entries alike (limits may change between runs).
constexpr float kSilentPeak = 0.001f;  // -60 dBFS

void CheckLimits(const DataConfig& c, const Utterance& u, double seconds, float peak, double clipped, int text_len,
                 std::vector<DataProblem>* problems) {
  if (peak < kSilentPeak) {
    problems->push_back({ProblemKind::kSilent, u.where, u.id,
                         absl::StrCat("peak level ", peak, " is below -60 dBFS: the recording is silent")});
  }
  if (seconds > c.max_audio_seconds) {
    problems->push_back({ProblemKind::kTooLong, u.where, u.id,
                         absl::StrCat(seconds, " s is over data.max_audio_seconds (", c.max_audio_seconds, ")")});
  }
  if (seconds < c.min_audio_seconds) {
    problems->push_back({ProblemKind::kTooShort, u.where, u.id,
                         absl::StrCat(seconds, " s is under data.min_audio_seconds (", c.min_audio_seconds, ")")});
  }
  if (clipped > c.clip_fraction) {
    problems->push_back({ProblemKind::kClipping, u.where, u.id,
                         absl::StrCat(clipped * 100, "% of samples at full scale (limit data.clip_fraction ",
                                      c.clip_fraction * 100, "%)")});
  }
  if (text_len > c.max_text_length) {
    problems->push_back({ProblemKind::kTextTooLong, u.where, u.id,
                         absl::StrCat(text_len, " characters after normalisation, over data.max_text_length (",
                                      c.max_text_length, ")")});
  }
}

EntryResult ProcessEntry(const TrainConfig& cfg, const Tokenizer& tokenizer, const MelExtractor& mel,
                         const FeatureCache* cache, const Utterance& u) {
  EntryResult r;
  auto problem = [&](ProblemKind k, std::string msg) {
    r.problems.push_back({k, u.where, u.id, std::move(msg)});
    return r;
  };
  if (!std::filesystem::exists(u.audio_path)) return problem(ProblemKind::kMissingAudio, absl::StrCat(u.audio_path, ": file not found"));
  if (u.text.empty()) return problem(ProblemKind::kEmptyText, "transcript is empty");

  std::string key;
  if (cache != nullptr) {
    auto sha = Sha256File(u.audio_path);
    if (!sha.ok()) return problem(ProblemKind::kUnreadableAudio, std::string(sha.status().message()));
    key = cache->Key(*sha, u.text);
    if (auto hit = cache->Load(key)) {
      double seconds = static_cast<double>(hit->source_frames) / hit->source_sample_rate;
      CheckLimits(cfg.data, u, seconds, hit->peak, hit->clipped_fraction, hit->text_length, &r.problems);
      if (!r.problems.empty()) return r;
      r.cache_hit = true;
      r.ok = PreparedUtterance{u, 0, seconds, hit->source_sample_rate, hit->mel.cols,
                               static_cast<int64_t>(hit->ids.size()), hit->peak, hit->rms_dbfs, cache->PathFor(key)};
      return r;
    }
  }

  auto audio = ReadAudio(u.audio_path);
  if (!audio.ok()) {
    return problem(audio.status().code() == absl::StatusCode::kNotFound ? ProblemKind::kMissingAudio
                                                                        : ProblemKind::kUnreadableAudio,
                   std::string(audio.status().message()));
  }
  if (audio->frames() == 0) return problem(ProblemKind::kEmptyAudio, absl::StrCat(u.audio_path, " holds no samples"));
  if (audio->channels != 1) {
    return problem(ProblemKind::kMultiChannel,
                   absl::StrCat(u.audio_path, " has ", audio->channels, " channels; convert to mono (sox in.wav -c 1 out.wav)"));
  }
  AudioStats stats = ComputeAudioStats(audio->samples);
  auto tok = tokenizer.Encode(u.text);
  if (!tok.ok()) return problem(ProblemKind::kBadEncoding, std::string(tok.status().message()));
  int text_len = CodePoints(tok->normalized);
  double seconds = static_cast<double>(audio->frames()) / audio->sample_rate;
  CheckLimits(cfg.data, u, seconds, stats.peak, stats.clipped_fraction, text_len, &r.problems);
  if (!tok->unknown.empty()) {
    std::string list;
    for (const auto& s : tok->unknown) absl::StrAppend(&list, list.empty() ? "" : " ", "'", s, "'");
    r.problems.push_back({ProblemKind::kUnknownSymbols, u.where, u.id,
                          absl::StrCat("symbols not in the symbol table: ", list, " (in \"", tok->symbols,
                                       "\"); add them with text.symbols_file or fix the transcript")});
  }
  if (tok->ids.empty() && tok->unknown.empty()) r.problems.push_back({ProblemKind::kEmptyText, u.where, u.id, "no symbols after normalisation"});
  if (!r.problems.empty()) return r;

  PreparedUtterance p{u, 0, seconds, audio->sample_rate, mel.NumFrames(static_cast<int64_t>(std::llround(seconds * cfg.audio.sample_rate))),
                      static_cast<int64_t>(tok->ids.size()), stats.peak, stats.rms_dbfs, ""};
  // Alignment gives every symbol at least one mel frame, so an utterance needs more frames than symbols.
  if (p.frames < p.num_ids) {
    return problem(ProblemKind::kTextTooLong,
                   absl::StrCat(p.num_ids, " symbols but only ", p.frames,
                                " mel frames: the transcript is too long for the audio (wrong transcript?)"));
  }
  if (cache != nullptr) {
    auto resampled = Resample(audio->samples, audio->sample_rate, cfg.audio.sample_rate);
    if (!resampled.ok()) return problem(ProblemKind::kUnreadableAudio, std::string(resampled.status().message()));
    CachedFeatures f;
    f.mel = mel.Compute(*resampled);
    f.ids = tok->ids;
    f.source_sample_rate = audio->sample_rate;
    f.source_frames = audio->frames();
    f.peak = stats.peak;
    f.rms_dbfs = stats.rms_dbfs;
    f.clipped_fraction = stats.clipped_fraction;
    f.text_length = text_len;
    p.frames = f.mel.cols;
    if (auto st = cache->Store(key, f); !st.ok()) {
      r.problems.push_back({ProblemKind::kUnreadableAudio, u.where, u.id,
                            absl::StrCat("cannot write feature cache: ", st.message())});
      return r;
    }
    p.feature_path = cache->PathFor(key);
  }
  r.ok = std::move(p);
  return r;
}

absl::StatusOr<std::vector<std::string>> ReadIdList(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open data.validation.file_list ", path));
  std::vector<std::string> ids;
  std::string line;
  while (std::getline(in, line)) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    // Accept bare ids or manifest-style lines ("id|...").
    line = line.substr(0, line.find('|'));
    if (!line.empty()) ids.push_back(line);
  }
  return ids;
}

}  // namespace

// Entries are content-addressed, so one cache serves every dataset and run safely; by default it lives
// in the user's cache folder, never inside the (possibly read-only) dataset.
std::string CacheDirFor(const DataConfig& c) {
  if (!c.cache_dir.empty()) return c.cache_dir;
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) return ResolvePath(xdg, "ttsd/features");
  if (const char* home = std::getenv("HOME"); home && *home) return ResolvePath(home, ".cache/ttsd/features");
  return "/var/cache/ttsd/features";
}

absl::StatusOr<PreparedDataset> PrepareDataset(const TrainConfig& cfg, const Tokenizer& tokenizer,
                                               const PrepareOptions& options) {
  TTSD_ASSIGN_OR_RETURN(Manifest manifest, ReadManifest(cfg.data));
  PreparedDataset ds;
  DatasetReport& rep = ds.report;
  rep.manifest_path = manifest.path;
  rep.format = cfg.data.format;
  rep.entries = manifest.lines;
  rep.features = options.compute_features;

  std::unique_ptr<FeatureCache> cache;
  if (options.compute_features) {
    rep.cache_dir = CacheDirFor(cfg.data);
    TTSD_RETURN_IF_ERROR(EnsureDirectory(rep.cache_dir));
    cache = std::make_unique<FeatureCache>(
        rep.cache_dir, FeatureFingerprint(cfg.audio, cfg.text, tokenizer.symbols().ToJson()));
  }
  MelExtractor mel(cfg.audio);

  if (options.shard_count > 1) {
    std::vector<Utterance> share;
    for (size_t i = static_cast<size_t>(options.shard_rank); i < manifest.utterances.size();
         i += static_cast<size_t>(options.shard_count)) {
      share.push_back(std::move(manifest.utterances[i]));
    }
    manifest.utterances = std::move(share);
  }
  std::vector<EntryResult> results(manifest.utterances.size());
  Progress progress(options.compute_features ? "features" : "checking", results.size(), options.show_progress);
  ParallelFor(results.size(), cfg.data.num_workers, [&](size_t i) {
    results[i] = ProcessEntry(cfg, tokenizer, mel, cache.get(), manifest.utterances[i]);
    progress.Add();
  });
  progress.Finish();

  // Problems in manifest order: line problems first interleave by line number via `where`.
  rep.problems = std::move(manifest.problems);
  std::map<std::string, int> speaker_ids;
  for (auto& r : results) {
    for (auto& p : r.problems) rep.problems.push_back(std::move(p));
    if (!r.ok) continue;
    (r.cache_hit ? rep.cache_hits : rep.cache_misses)++;
    speaker_ids[r.ok->utt.speaker] = 0;
    ds.utterances.push_back(std::move(*r.ok));
  }
  auto line_of = [](const DataProblem& p) {
    size_t colon = p.where.rfind(':');
    return colon == std::string::npos ? 0L : std::atol(p.where.c_str() + colon + 1);
  };
  std::stable_sort(rep.problems.begin(), rep.problems.end(),
                   [&](const DataProblem& a, const DataProblem& b) { return line_of(a) < line_of(b); });
  if (!options.compute_features) rep.cache_hits = rep.cache_misses = 0;

  for (auto& [name, id] : speaker_ids) {
    id = static_cast<int>(ds.speakers.size());
    ds.speakers.push_back(name);
  }
  std::vector<std::string> ids;
  for (auto& u : ds.utterances) {
    u.speaker_id = speaker_ids[u.utt.speaker];
    ids.push_back(u.utt.id);
  }
  std::vector<std::string> file_list;
  if (!cfg.data.validation.file_list.empty()) {
    TTSD_ASSIGN_OR_RETURN(file_list, ReadIdList(cfg.data.validation.file_list));
  }
  Split split = SplitTrainValidation(ids, cfg.data.validation, file_list, cfg.seed);
  ds.train = std::move(split.train);
  ds.validation = std::move(split.validation);
  rep.missing_validation_ids = std::move(split.missing);
  return ds;
}

absl::Status EnforceDataPolicy(const PreparedDataset& ds, const DataConfig& c) {
  if (c.strict && !ds.report.problems.empty()) {
    std::string msg = absl::StrCat(ds.report.problems.size(),
                                   " dataset problems and data.strict is true (set it to false to skip them):");
    size_t shown = 0;
    for (const auto& p : ds.report.problems) {
      if (++shown > 20) {
        absl::StrAppend(&msg, "\n  ... and ", ds.report.problems.size() - 20, " more (run `ttsd data check`)");
        break;
      }
      absl::StrAppend(&msg, "\n  ", p.ToString());
    }
    return absl::FailedPreconditionError(msg);
  }
  if (ds.train.empty()) {
    return absl::FailedPreconditionError(absl::StrCat("no usable utterances in ", ds.report.manifest_path,
                                                      " (", ds.report.problems.size(),
                                                      " problems; run `ttsd data check` to see them)"));
  }
  return absl::OkStatus();
}

}  // namespace ttsd::core
