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

// One text.cleaners rule (core/text/cleaners.h): either an ICU regular expression and what replaces
// each match, or an ICU transform applied to the whole text.
struct CleanerRule {
  std::string match;          // ICU regex, e.g. '\bDr\.' (single quotes in YAML keep the backslashes)
  std::string replace;        // $1 is group 1, \$ a dollar sign; empty = delete the match
  std::string transliterate;  // ICU transform ID instead, e.g. "Cyrillic-Latin" or "Any-Latin; Latin-ASCII"

  template <class V>
  void Visit(V& v) {
    v("match", match);
    v("replace", replace);
    v("transliterate", transliterate);
  }
};

struct TextConfig {
  std::string mode = "phonemes";  // phonemes (espeak-ng IPA) | characters
  std::string language = "en-us"; // espeak-ng voice (phonemes); BCP 47 tag for case rules (characters)
  std::string unicode_form = "nfc";  // nfc | nfd (tone and vowel marks as symbols of their own) | nfkc | nfkd
  bool normalize = true;          // English number / abbreviation expansion before phonemizing
  bool lowercase = true;          // characters mode only: by the case rules of `language`
  std::string punctuation = "keep";  // characters mode: keep | strip (every Unicode punctuation mark)
  bool add_blank = true;          // blank id between every symbol (Glow-TTS / VITS)
  std::string symbols_file;       // explicit symbol table (one symbol per line); default inventory if empty
  std::string lexicon;            // word -> pronunciation file (core/text/lexicon.h); none if empty
  std::vector<CleanerRule> cleaners;  // this language's rewrites, in order, before anything else

  template <class V>
  void Visit(V& v) {
    v("mode", mode);
    v("language", language);
    v("unicode_form", unicode_form);
    v("normalize", normalize);
    v("lowercase", lowercase);
    v("punctuation", punctuation);
    v("add_blank", add_blank);
    v("symbols_file", symbols_file);
    v("lexicon", lexicon);
    v("cleaners", cleaners);
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

// VITS (Kim et al., 2021) parts beyond the text encoder, which shares ModelConfig's transformer fields
// (hidden_channels, filter_channels, n_heads, n_layers, kernel_size, p_dropout, window_size). Defaults
// are the paper's LJSpeech model; model.preset tiny / small scale them down.
struct VitsConfig {
  int inter_channels = 192;        // latent z channels
  int posterior_layers = 16;       // WaveNet layers of the posterior encoder (over the linear spectrogram)
  int posterior_kernel = 5;
  int flows = 4;                   // residual (volume-preserving) couplings of the prior flow
  int flow_layers = 4;             // WaveNet layers per coupling
  int flow_kernel = 5;
  std::string duration_predictor = "stochastic";  // stochastic | deterministic
  int sdp_flows = 4;               // spline flows of the stochastic duration predictor
  int sdp_channels = 0;            // its width; 0: hidden_channels (the paper; Coqui's is 192 at any width)
  double dp_norm_eps = 1e-5;       // the deterministic predictor's LayerNorm epsilon (Coqui's: 1e-4)
  double sdp_dropout = 0.5;
  int upsample_initial_channels = 512;  // HiFi-GAN generator width; halves at every upsampling
  std::vector<int> upsample_rates = {8, 8, 2, 2};     // product must equal audio.hop_length
  std::vector<int> upsample_kernels = {16, 16, 4, 4};
  std::vector<int> resblock_kernels = {3, 7, 11};
  std::vector<int> resblock_dilations = {1, 3, 5};    // used by every resblock kernel, unless:
  std::vector<std::vector<int>> resblock_dilations_per_kernel;  // one list per resblock kernel (Piper's
                                                                // [[1, 2], [2, 6], [3, 12]]); empty: the above
  int resblock_type = 1;           // HiFi-GAN ResBlock1 (two convs per dilation) or 2 (one; Piper x_low, low)
  // The dilations of resblock kernel i (Validate() checks there is one list per kernel).
  const std::vector<int>& DilationsOf(size_t i) const {
    return i < resblock_dilations_per_kernel.size() ? resblock_dilations_per_kernel[i] : resblock_dilations;
  }
  int segment_size = 8192;         // waveform samples decoded per utterance in training (multiple of hop)
  std::vector<int> discriminator_periods = {2, 3, 5, 7, 11};  // multi-period; one scale discriminator too
  double discriminator_width = 1.0;  // channel scale of every discriminator (1 = the paper's 32..1024)
  double mel_loss_weight = 45.0;
  double kl_loss_weight = 1.0;
  double noise_scale_w = 0.8;      // inference: stochastic duration noise

  template <class V>
  void Visit(V& v) {
    v("inter_channels", inter_channels);
    v("posterior_layers", posterior_layers);
    v("posterior_kernel", posterior_kernel);
    v("flows", flows);
    v("flow_layers", flow_layers);
    v("flow_kernel", flow_kernel);
    v("duration_predictor", duration_predictor);
    v("sdp_flows", sdp_flows);
    v("sdp_channels", sdp_channels);
    v("dp_norm_eps", dp_norm_eps);
    v("sdp_dropout", sdp_dropout);
    v("upsample_initial_channels", upsample_initial_channels);
    v("upsample_rates", upsample_rates);
    v("upsample_kernels", upsample_kernels);
    v("resblock_kernels", resblock_kernels);
    v("resblock_dilations", resblock_dilations);
    v("resblock_dilations_per_kernel", resblock_dilations_per_kernel);
    v("resblock_type", resblock_type);
    v("segment_size", segment_size);
    v("discriminator_periods", discriminator_periods);
    v("discriminator_width", discriminator_width);
    v("mel_loss_weight", mel_loss_weight);
    v("kl_loss_weight", kl_loss_weight);
    v("noise_scale_w", noise_scale_w);
  }
};

// Glow-TTS hyperparameters (Kim et al., 2020). `preset` fills every field the config does not set:
// tiny (tests: seconds on CPU), small (the demo: minutes on 2 CPU cores), base (the paper).
struct ModelConfig {
  std::string type = "glow_tts";
  std::string preset = "small";
  int hidden_channels = 192;      // text encoder width
  int filter_channels = 768;      // transformer feed-forward width
  int n_heads = 2;
  int n_layers = 6;               // transformer layers
  int kernel_size = 3;            // feed-forward conv kernel
  double p_dropout = 0.1;
  int window_size = 4;            // relative attention window
  int prenet_layers = 3;          // conv prenet before the transformer (kernel 5)
  int filter_channels_dp = 256;   // duration predictor width
  int decoder_hidden = 192;
  int decoder_kernel = 5;
  int decoder_dilation_rate = 1;
  int decoder_blocks = 12;        // flow steps (ActNorm, InvConvNear, coupling)
  int decoder_block_layers = 4;   // WaveNet layers per coupling
  double decoder_dropout = 0.05;
  int n_split = 4;                // InvConvNear group size
  int n_sqz = 2;                  // squeeze factor of the decoder
  int speaker_channels = 256;     // speaker embedding size (multi-speaker data only)
  double noise_scale = 0.667;     // inference: prior temperature
  double length_scale = 1.0;      // inference: > 1 speaks slower
  VitsConfig vits;                // model.type: vits only

  template <class V>
  void Visit(V& v) {
    v("type", type);
    v("preset", preset);
    v("hidden_channels", hidden_channels);
    v("filter_channels", filter_channels);
    v("n_heads", n_heads);
    v("n_layers", n_layers);
    v("kernel_size", kernel_size);
    v("p_dropout", p_dropout);
    v("window_size", window_size);
    v("prenet_layers", prenet_layers);
    v("filter_channels_dp", filter_channels_dp);
    v("decoder_hidden", decoder_hidden);
    v("decoder_kernel", decoder_kernel);
    v("decoder_dilation_rate", decoder_dilation_rate);
    v("decoder_blocks", decoder_blocks);
    v("decoder_block_layers", decoder_block_layers);
    v("decoder_dropout", decoder_dropout);
    v("n_split", n_split);
    v("n_sqz", n_sqz);
    v("speaker_channels", speaker_channels);
    v("noise_scale", noise_scale);
    v("length_scale", length_scale);
    v("vits", vits);
  }
};

// The preset's values for every field of a model type (ok == false for an unknown type or preset name).
bool ModelPreset(const std::string& type, const std::string& name, ModelConfig* out);

struct TrainingConfig {
  int epochs = 1000;
  int64_t max_steps = 0;          // 0 = no step limit (epochs decides)
  std::string optimizer = "adam"; // adam | adamw
  double learning_rate = 1.0;     // noam: scaled by hidden^-0.5 * min(step^-0.5, step * warmup^-1.5)
  std::string scheduler = "noam"; // noam | constant | exponential
  int warmup_steps = 4000;
  double lr_decay = 0.999875;     // exponential: learning_rate * lr_decay^epoch
  double adam_beta1 = 0.9;
  double adam_beta2 = 0.98;
  double adam_eps = 1e-9;
  double weight_decay = 0.0;
  double grad_clip = 5.0;          // max gradient norm; 0 = off
  int max_nonfinite_steps = 10;    // consecutive skipped (non-finite) steps before the run stops
  int log_interval = 10;           // steps between console / train.log / metrics.jsonl lines
  std::string precision = "fp32";  // fp32 | bf16 | fp16 (CUDA only)
  std::string device = "cpu";      // cpu | cuda:N
  int max_restarts = 3;            // under the daemon: crash restarts before the job is FAILED

  template <class V>
  void Visit(V& v) {
    v("epochs", epochs);
    v("max_steps", max_steps);
    v("optimizer", optimizer);
    v("learning_rate", learning_rate);
    v("scheduler", scheduler);
    v("warmup_steps", warmup_steps);
    v("lr_decay", lr_decay);
    v("adam_beta1", adam_beta1);
    v("adam_beta2", adam_beta2);
    v("adam_eps", adam_eps);
    v("weight_decay", weight_decay);
    v("grad_clip", grad_clip);
    v("max_nonfinite_steps", max_nonfinite_steps);
    v("log_interval", log_interval);
    v("precision", precision);
    v("device", device);
    v("max_restarts", max_restarts);
  }
};

// The training defaults of a model type's paper (VITS: AdamW 2e-4, betas 0.8 / 0.99, exponential decay
// 0.999875 per epoch; Glow-TTS: the struct's defaults). A config's own training keys override them.
TrainingConfig TrainingDefaults(const std::string& model_type);

struct ValidationConfig {
  int interval_steps = 500;  // 0 = only at the end
  int max_batches = 0;       // 0 = the whole validation split
  int samples = 2;           // held-out utterances spoken (Griffin-Lim) at each validation; 0 = none
  std::vector<std::string> sentences;  // texts spoken at each validation as well (sentence_<i>.wav)
  std::string asr = "none";  // pocketsphinx: val/wer, val/cer of the spoken audio (English only)

  template <class V>
  void Visit(V& v) {
    v("interval_steps", interval_steps);
    v("max_batches", max_batches);
    v("samples", samples);
    v("sentences", sentences);
    v("asr", asr);
  }
};

struct CheckpointConfig {
  int interval_steps = 1000;
  int keep_last = 3;                     // newest checkpoints kept; the best is kept as well
  std::string best_metric = "val/loss";  // val/loss, val/mle, val/duration, val/mcd, val/wer, val/cer, or the
                                         // newest logged train/loss, train/mle, train/duration
  std::string best_mode = "min";         // min: lower is better; max: higher is better

  template <class V>
  void Visit(V& v) {
    v("interval_steps", interval_steps);
    v("keep_last", keep_last);
    v("best_metric", best_metric);
    v("best_mode", best_mode);
  }
};

// Ends a run that stopped improving: after `patience` validations in a row in which `metric` did not
// improve on its best by more than min_delta, the run checkpoints and ends (EARLY_STOPPED).
struct EarlyStoppingConfig {
  std::string metric;       // empty = off; any metric checkpoint.best_metric may be
  std::string mode = "min";
  int patience = 10;        // validations
  double min_delta = 0.0;

  template <class V>
  void Visit(V& v) {
    v("metric", metric);
    v("mode", mode);
    v("patience", patience);
    v("min_delta", min_delta);
  }
};

// Fine-tuning: a new run (step 0, fresh optimizer and schedule) that starts from a trained model's
// weights. Patterns are fnmatch globs on parameter names ("encoder.*", "decoder.flows.1*") or module
// prefixes ("encoder"); `ttsd model params --checkpoint F` lists the names.
struct FinetuneConfig {
  std::string pretrained_model_path;  // a ckpt-*.pt, a run folder (its best, else latest), or under the
                                      // daemon job:<id>[@<step>|@best|@latest]
  std::vector<std::string> include;   // parameters to load (empty = all)
  std::vector<std::string> exclude;   // parameters not to load (keep their fresh initialisation)
  std::vector<std::string> freeze;    // parameters never trained (bit-identical after training)
  std::vector<std::string> reinit;    // parameters re-initialised instead of loaded (e.g. speaker_emb)
  std::string speaker_name;           // names the data's speaker when it has no speaker column and the
                                      // base model is multi-speaker; default: the config's name

  template <class V>
  void Visit(V& v) {
    v("pretrained_model_path", pretrained_model_path);
    v("include", include);
    v("exclude", exclude);
    v("freeze", freeze);
    v("reinit", reinit);
    v("speaker_name", speaker_name);
  }
};

// Data parallelism over world_size processes (ranks) on c10d: each global batch is split across the
// ranks, gradients are averaged, rank 0 writes everything. A launcher (torchrun, srun, or the daemon)
// starts the ranks and sets the torchrun variables; world_size is checked against theirs.
struct DistributedConfig {
  int world_size = 1;            // 1 = one process
  std::string backend = "auto";  // auto | gloo | nccl (auto: nccl on CUDA builds with NCCL, else gloo)
  int timeout_s = 600;           // a collective waiting longer (a rank died) ends the attempt on every rank

  template <class V>
  void Visit(V& v) {
    v("world_size", world_size);
    v("backend", backend);
    v("timeout_s", timeout_s);
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
  ModelConfig model;
  TrainingConfig training;
  ValidationConfig validation;
  CheckpointConfig checkpoint;
  EarlyStoppingConfig early_stopping;
  FinetuneConfig finetune;
  DistributedConfig distributed;

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
    v("model", model);
    v("training", training);
    v("validation", validation);
    v("checkpoint", checkpoint);
    v("early_stopping", early_stopping);
    v("finetune", finetune);
    v("distributed", distributed);
  }
};

// Where each field came from in the YAML text ("data.path" -> line, column; 1-based).
struct SourceMark {
  int line = 0;
  int column = 0;
};
using SourceMap = std::map<std::string, SourceMark>;

}  // namespace ttsd::core
