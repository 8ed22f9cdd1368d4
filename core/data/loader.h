// DataLoader: turns a sampler's batches into padded tensors, reading features from the cache on a
// background thread so the trainer does not wait on disk (up to batch.prefetch batches ahead).
// Not thread-safe: one consumer calls Next(). Includes LibTorch.
#pragma once

#include <torch/torch.h>

#include <deque>
#include <memory>
#include <optional>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "core/data/dataset.h"
#include "core/data/sampler.h"

namespace ttsd::core {

struct Batch {
  torch::Tensor ids;          // [B, T] int64, padded with 0
  torch::Tensor id_lengths;   // [B] int64
  torch::Tensor mels;         // [B, n_mels, F] float32, padded with the log floor
  torch::Tensor mel_lengths;  // [B] int64
  torch::Tensor speakers;     // [B] int64
  torch::Tensor wave;         // [B, 1, T] float32, zero padded; T a multiple of hop_length (waveform loaders only)
  torch::Tensor wave_lengths; // [B] samples, each a multiple of hop_length (waveform loaders only)
  std::vector<size_t> items;  // indices into the PreparedDataset's utterances
  SamplerPosition next;       // sampler position after this batch: save it to resume exactly here
};

// An audio file (any channels, any rate libsndfile reads) as mono at audio.sample_rate, cut to whole
// hops (what waveform loaders batch).
absl::StatusOr<std::vector<float>> LoadWave(const std::string& path, const AudioConfig& audio);
// An utterance's audio, as above.
absl::StatusOr<std::vector<float>> LoadWave(const PreparedUtterance& u, const AudioConfig& audio);

// One data-parallel rank's share of every global batch: items rank, rank + count, ... of the
// length-sorted batch, so the shards have near-equal lengths. A batch with fewer items than ranks gives
// rank r its item r mod n (repeated), so every rank steps through every batch in lockstep (see
// DataLoader::UnevenBatchesInEpoch).
struct DataShard {
  int rank = 0;
  int count = 1;
};

class DataLoader {
 public:
  // `subset` are indices into dataset.utterances (e.g. dataset.train); must have features.
  // With `waveforms` (models that train on audio, e.g. VITS), each batch also carries every utterance's
  // audio, read from its file and resampled to audio.sample_rate, cut to whole hops.
  // With `shard` (data-parallel ranks), every rank's sampler draws the same global batches and this
  // loader keeps its share of each (see DataShard).
  DataLoader(const PreparedDataset& dataset, std::vector<size_t> subset, const BatchConfig& config,
             double pad_value, uint64_t seed, bool shuffle = true, const AudioConfig* waveforms = nullptr,
             DataShard shard = DataShard());
  ~DataLoader();

  // Begins (or restarts) iteration at `from`; batches before from.batch in that epoch are skipped.
  void Start(SamplerPosition from);
  // The next batch of the current epoch; nullopt at its end (then Start({epoch + 1, 0})). Errors: a
  // feature file that cannot be read (DATA_LOSS, with its path).
  absl::StatusOr<std::optional<Batch>> Next();
  size_t BatchesInEpoch(int64_t epoch) const { return sampler_.EpochBatches(epoch).size(); }
  // Batches of `epoch` whose items are more than one but fewer than the ranks: there some ranks repeat
  // an item, which then counts twice, so the step is not the one a single process takes. (A one-item
  // batch is exact: every rank takes that item with equal weight.)
  size_t UnevenBatchesInEpoch(int64_t epoch) const;

 private:
  void Stop();
  void Produce(SamplerPosition from);
  std::vector<size_t> ShareOf(const std::vector<size_t>& global) const;
  absl::StatusOr<Batch> Collate(const std::vector<size_t>& local, SamplerPosition next) const;

  const PreparedDataset& dataset_;
  std::vector<size_t> subset_;
  BatchConfig config_;
  double pad_value_;
  std::optional<AudioConfig> waveforms_;
  DataShard shard_;
  BucketSampler sampler_;

  absl::Mutex mu_;
  std::deque<absl::StatusOr<Batch>> queue_ ABSL_GUARDED_BY(mu_);
  bool done_ ABSL_GUARDED_BY(mu_) = false;      // producer finished the epoch
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;  // consumer asked the producer to quit
  std::thread producer_;
};

}  // namespace ttsd::core
