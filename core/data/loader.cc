#include "core/data/loader.h"

#include "absl/strings/str_cat.h"
#include "core/audio/resample.h"
#include "core/audio/wav.h"
#include "core/data/feature_cache.h"

namespace ttsd::core {
namespace {

std::vector<int64_t> FramesOf(const PreparedDataset& ds, const std::vector<size_t>& subset) {
  std::vector<int64_t> frames;
  frames.reserve(subset.size());
  for (size_t i : subset) frames.push_back(ds.utterances[i].frames);
  return frames;
}

}  // namespace

absl::StatusOr<std::vector<float>> LoadWave(const std::string& path, const AudioConfig& audio) {
  auto read = ReadAudio(path);
  if (!read.ok()) return read.status();
  Audio mono = ToMono(*std::move(read));
  std::vector<float> wave = std::move(mono.samples);
  if (mono.sample_rate != audio.sample_rate) {
    auto resampled = Resample(wave, mono.sample_rate, audio.sample_rate);
    if (!resampled.ok()) return resampled.status();
    wave = *std::move(resampled);
  }
  wave.resize(wave.size() / static_cast<size_t>(audio.hop_length) * static_cast<size_t>(audio.hop_length));
  return wave;
}

absl::StatusOr<std::vector<float>> LoadWave(const PreparedUtterance& u, const AudioConfig& audio) {
  return LoadWave(u.utt.audio_path, audio);
}

DataLoader::DataLoader(const PreparedDataset& dataset, std::vector<size_t> subset, const BatchConfig& config,
                       double pad_value, uint64_t seed, bool shuffle, const AudioConfig* waveforms, DataShard shard)
    : dataset_(dataset),
      subset_(std::move(subset)),
      config_(config),
      pad_value_(pad_value),
      waveforms_(waveforms != nullptr ? std::optional<AudioConfig>(*waveforms) : std::nullopt),
      shard_(shard),
      sampler_(FramesOf(dataset, subset_), config, seed, shuffle) {}

DataLoader::~DataLoader() { Stop(); }

void DataLoader::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (producer_.joinable()) producer_.join();
  absl::MutexLock lock(&mu_);
  queue_.clear();
  stopping_ = false;
  done_ = false;
}

void DataLoader::Start(SamplerPosition from) {
  Stop();
  producer_ = std::thread([this, from] { Produce(from); });
}

std::vector<size_t> DataLoader::ShareOf(const std::vector<size_t>& global) const {
  if (shard_.count <= 1 || global.empty()) return global;
  const size_t n = global.size(), count = static_cast<size_t>(shard_.count), rank = static_cast<size_t>(shard_.rank);
  if (n < count) return {global[rank % n]};
  std::vector<size_t> mine;
  for (size_t i = rank; i < n; i += count) mine.push_back(global[i]);
  return mine;
}

size_t DataLoader::UnevenBatchesInEpoch(int64_t epoch) const {
  size_t uneven = 0;
  for (const auto& batch : sampler_.EpochBatches(epoch)) {
    if (batch.size() > 1 && batch.size() < static_cast<size_t>(shard_.count)) ++uneven;
  }
  return uneven;
}

void DataLoader::Produce(SamplerPosition from) {
  auto batches = sampler_.EpochBatches(from.epoch);
  for (size_t b = static_cast<size_t>(from.batch); b < batches.size(); ++b) {
    auto batch = Collate(ShareOf(batches[b]), {from.epoch, static_cast<int64_t>(b + 1)});
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(
        +[](DataLoader* self) ABSL_EXCLUSIVE_LOCKS_REQUIRED(self->mu_) {
          return self->stopping_ || static_cast<int>(self->queue_.size()) < std::max(1, self->config_.prefetch);
        },
        this));
    if (stopping_) return;
    bool failed = !batch.ok();
    queue_.push_back(std::move(batch));
    if (failed) break;
  }
  absl::MutexLock lock(&mu_);
  done_ = true;
}

absl::StatusOr<std::optional<Batch>> DataLoader::Next() {
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(
      +[](DataLoader* self) ABSL_EXCLUSIVE_LOCKS_REQUIRED(self->mu_) { return !self->queue_.empty() || self->done_; },
      this));
  if (queue_.empty()) return std::optional<Batch>();
  absl::StatusOr<Batch> item = std::move(queue_.front());
  queue_.pop_front();
  if (!item.ok()) return item.status();
  return std::optional<Batch>(*std::move(item));
}

absl::StatusOr<Batch> DataLoader::Collate(const std::vector<size_t>& local, SamplerPosition next) const {
  std::vector<CachedFeatures> feats;
  feats.reserve(local.size());
  int64_t max_ids = 1, max_frames = 1, n_mels = 0;
  Batch batch;
  for (size_t l : local) {
    size_t item = subset_[l];
    const auto& u = dataset_.utterances[item];
    auto f = ReadFeatureFile(u.feature_path);
    if (!f.ok()) {
      return absl::DataLossError(absl::StrCat("feature cache entry for ", u.utt.id, " (", u.utt.where,
                                              ") is unreadable: ", f.status().message(),
                                              "; delete it and rerun to recompute"));
    }
    max_ids = std::max<int64_t>(max_ids, f->ids.size());
    max_frames = std::max<int64_t>(max_frames, f->mel.cols);
    n_mels = f->mel.rows;
    batch.items.push_back(item);
    feats.push_back(*std::move(f));
  }
  const int64_t B = static_cast<int64_t>(local.size());
  batch.ids = torch::zeros({B, max_ids}, torch::kInt64);
  batch.id_lengths = torch::zeros({B}, torch::kInt64);
  batch.mels = torch::full({B, n_mels, max_frames}, pad_value_, torch::kFloat32);
  batch.mel_lengths = torch::zeros({B}, torch::kInt64);
  batch.speakers = torch::zeros({B}, torch::kInt64);
  auto ids = batch.ids.accessor<int64_t, 2>();
  for (int64_t b = 0; b < B; ++b) {
    const auto& f = feats[b];
    for (size_t t = 0; t < f.ids.size(); ++t) ids[b][t] = f.ids[t];
    batch.id_lengths[b] = static_cast<int64_t>(f.ids.size());
    batch.mel_lengths[b] = f.mel.cols;
    batch.speakers[b] = dataset_.utterances[batch.items[b]].speaker_id;
    auto mel = torch::from_blob(const_cast<float*>(f.mel.data.data()), {f.mel.rows, f.mel.cols}, torch::kFloat32);
    batch.mels[b].narrow(1, 0, f.mel.cols).copy_(mel);
  }
  if (waveforms_) {
    std::vector<std::vector<float>> waves;
    int64_t longest = waveforms_->hop_length;
    for (size_t item : batch.items) {
      const auto& u = dataset_.utterances[item];
      auto wave = LoadWave(u, *waveforms_);
      if (!wave.ok()) {
        return absl::DataLossError(absl::StrCat("audio of ", u.utt.id, " (", u.utt.where, ") became unreadable after ",
                                                "the data check: ", wave.status().message()));
      }
      longest = std::max<int64_t>(longest, static_cast<int64_t>(wave->size()));
      waves.push_back(*std::move(wave));
    }
    batch.wave = torch::zeros({B, 1, longest}, torch::kFloat32);
    batch.wave_lengths = torch::zeros({B}, torch::kInt64);
    for (int64_t b = 0; b < B; ++b) {
      const auto& w = waves[b];
      batch.wave_lengths[b] = static_cast<int64_t>(w.size());
      batch.wave[b][0].narrow(0, 0, static_cast<int64_t>(w.size()))
          .copy_(torch::from_blob(const_cast<float*>(w.data()), {static_cast<int64_t>(w.size())}, torch::kFloat32));
    }
  }
  batch.next = next;
  return batch;
}

}  // namespace ttsd::core
