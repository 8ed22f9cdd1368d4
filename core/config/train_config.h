// The training configuration: plain structs with defaults. Each struct lists its fields once, in
// Visit(); the YAML parser, the resolved-config emitter and the reference docs all walk that list, so
// they cannot disagree. Parsing is config_yaml.h; range and consistency checks are validate.h.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace ttsd::core {

struct AudioConfig {
  int sample_rate = 22050;  // every utterance is resampled to this
  int n_fft = 1024;
  int hop_length = 256;
  int win_length = 1024;
  int n_mels = 80;
  double fmin = 0.0;
  double fmax = 8000.0;
  bool center = true;          // reflect-pad n_fft/2 on both sides (torchaudio's default)
  double log_clamp = 1e-5;     // log(max(mel, log_clamp))
  int griffin_lim_iters = 60;  // for listening to mels of models without a vocoder

  template <class V>
  void Visit(V& v) {
    v("sample_rate", sample_rate);
    v("n_fft", n_fft);
    v("hop_length", hop_length);
    v("win_length", win_length);
    v("n_mels", n_mels);
    v("fmin", fmin);
    v("fmax", fmax);
    v("center", center);
    v("log_clamp", log_clamp);
    v("griffin_lim_iters", griffin_lim_iters);
  }
};

struct TextConfig {
  std::string mode = "phonemes";  // phonemes (espeak-ng IPA) | characters
  std::string language = "en-us"; // espeak-ng voice for phonemes mode
  bool normalize = true;          // English number / abbreviation expansion before phonemizing
  bool lowercase = true;          // characters mode only
  bool add_blank = true;          // blank id between every symbol (Glow-TTS / VITS)
  std::string symbols_file;       // explicit symbol table (one symbol per line); default inventory if empty

  template <class V>
  void Visit(V& v) {
    v("mode", mode);
    v("language", language);
    v("normalize", normalize);
    v("lowercase", lowercase);
    v("add_blank", add_blank);
    v("symbols_file", symbols_file);
  }
};

struct ValidationSplitConfig {
  double fraction = 0.05;  // share of utterances held out, when neither count nor file_list is set
  int count = 0;           // exact number held out (overrides fraction)
  std::string file_list;   // file of utterance ids, one per line (overrides both)

  template <class V>
  void Visit(V& v) {
    v("fraction", fraction);
    v("count", count);
    v("file_list", file_list);
  }
};

struct DataConfig {
  std::string format = "ljspeech";  // ljspeech | multispeaker | jsonl
  std::string path;                 // dataset folder (wavs/ + metadata.csv), or the jsonl file's folder
  std::string manifest;             // default: metadata.csv (ljspeech, multispeaker), manifest.jsonl
  double max_audio_seconds = 15.0;
  double min_audio_seconds = 0.1;
  int max_text_length = 400;  // characters after normalisation
  double clip_fraction = 0.001;  // more than this share of samples at full scale = clipped
  bool strict = false;           // true: any problem fails the run; false: skip with a warning
  std::string cache_dir;         // default: $XDG_CACHE_HOME/ttsd/features (shared, content-addressed)
  int num_workers = 2;           // threads for checking and feature extraction
  ValidationSplitConfig validation;

  template <class V>
  void Visit(V& v) {
    v("format", format);
    v("path", path);
    v("manifest", manifest);
    v("max_audio_seconds", max_audio_seconds);
    v("min_audio_seconds", min_audio_seconds);
    v("max_text_length", max_text_length);
    v("clip_fraction", clip_fraction);
    v("strict", strict);
    v("cache_dir", cache_dir);
    v("num_workers", num_workers);
    v("validation", validation);
  }
};

struct BatchConfig {
  int size = 0;             // fixed utterances per batch, or
  int max_frames = 12000;   // padded mel frames per batch (batch_size * longest), when size is 0
  int bucket_width = 20;    // utterances whose frame counts fall in the same width share a bucket
  int prefetch = 4;         // batches prepared ahead by the background loader
  bool drop_last = false;

  template <class V>
  void Visit(V& v) {
    v("size", size);
    v("max_frames", max_frames);
    v("bucket_width", bucket_width);
    v("prefetch", prefetch);
    v("drop_last", drop_last);
  }
};

struct TrainConfig {
  std::string name = "voice";
  uint64_t seed = 1234;
  int threads = 0;  // LibTorch intra-op threads; 0 = every core
  std::string output_dir;
  DataConfig data;
  AudioConfig audio;
  TextConfig text;
  BatchConfig batch;

  template <class V>
  void Visit(V& v) {
    v("name", name);
    v("seed", seed);
    v("threads", threads);
    v("output_dir", output_dir);
    v("data", data);
    v("audio", audio);
    v("text", text);
    v("batch", batch);
  }
};

// Where each field came from in the YAML text ("data.path" -> line, column; 1-based).
struct SourceMark {
  int line = 0;
  int column = 0;
};
using SourceMap = std::map<std::string, SourceMark>;

}  // namespace ttsd::core
