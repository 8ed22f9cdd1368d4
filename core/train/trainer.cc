#include "core/train/trainer.h"

#include "core/train/gradients.h"

#include <chrono>
#include <cmath>
#include <filesystem>
#include <optional>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/common/file_util.h"
#include "core/common/status.h"
#include "core/config/config_yaml.h"
#include "core/data/dataset.h"
#include "core/data/loader.h"
#include "core/models/modules/flows.h"
#include "core/train/checkpoint.h"
#include "core/train/distributed.h"
#include "core/train/gradient_reducer.h"
#include "core/train/finetune.h"
#include "core/train/precision.h"
#include "core/train/trainable_model.h"
#include "core/train/tensorboard_sink.h"
#include "core/train/validation_samples.h"

namespace ttsd::core::train {
namespace fs = std::filesystem;

bool Improves(double value, double best, const std::string& mode, double min_delta) {
  if (!std::isfinite(value)) return false;
  if (!std::isfinite(best)) return true;
  return mode == "max" ? value > best + min_delta : value < best - min_delta;
}

double LearningRate(const TrainingConfig& t, int64_t hidden, int64_t step, int64_t epoch) {
  if (t.scheduler == "constant") return t.learning_rate;
  if (t.scheduler == "exponential") return t.learning_rate * std::pow(t.lr_decay, static_cast<double>(epoch));
  double s = static_cast<double>(std::max<int64_t>(step, 1));
  return t.learning_rate * std::pow(static_cast<double>(hidden), -0.5) *
         std::min(std::pow(s, -0.5), s * std::pow(static_cast<double>(t.warmup_steps), -1.5));
}

namespace {

// How long data-parallel ranks wait for each other to fill their shares of a cold feature cache: hours
// of audio can take a while, far longer than a collective may.
constexpr std::chrono::seconds kFeatureSharePatience = std::chrono::hours(24);

// A collective failed (a rank died or timed out): thrown out of a gradient hook, caught around the step.
struct CollectiveFailure {
  absl::Status status;
};

// Everything one run holds; Train() wires it together and runs the loop. With `group` (data
// parallelism) every rank runs this loop in lockstep; only rank 0 validates and writes.
class Run {
 public:
  Run(const TrainerOptions& o, EventSink* sink, PreparedDataset ds, SymbolTable symbols, torch::Device device,
      std::vector<ValidationSentence> sentences, std::optional<PretrainedModel> base, FinetuneReport report,
      Collectives* group)
      : o_(o),
        group_(group),
        sink_(sink),
        cfg_(o.config),
        ds_(std::move(ds)),
        symbols_(std::move(symbols)),
        symbols_json_(symbols_.ToJson()),
        device_(device),
        checkpointer_((fs::path(o.output_dir) / "checkpoints").string(), cfg_.checkpoint),
        sentences_(std::move(sentences)),
        base_(std::move(base)),
        report_(std::move(report)) {
    scaler_.enabled = cfg_.training.precision == "fp16";
  }

  absl::StatusOr<TrainResult> Execute();

 private:
  absl::Status Resume();
  // Held-out losses over the validation split (each batch weighted by its size).
  std::map<std::string, double> Validate();
  double Lr(int64_t step) const { return LearningRate(cfg_.training, cfg_.model.hidden_channels, step, state_.position.epoch); }
  // `check_ranks`: compare every rank's weights first (CheckLockstep), which every rank must reach.
  absl::Status SaveCheckpoint(bool is_best, bool check_ranks = true);
  // Under data parallelism: that every rank's weights are rank 0's, bit for bit.
  absl::Status CheckLockstep();
  // Losses, audio and metrics of one validation; updates the best and early-stopping trackers.
  void RunValidation(bool* is_best, bool* early_stop);
  CheckpointMeta Meta() const;
  double LogFloor() const { return std::log(cfg_.audio.log_clamp); }
  bool lead() const { return group_ == nullptr || group_->rank() == 0; }
  // Each value averaged over the ranks (every rank logs the same numbers as rank 0 writes).
  absl::Status AverageValues(std::map<std::string, double>* values);
  // Every rank's flags OR-ed (a stop or a request seen by any rank acts on all).
  absl::StatusOr<std::vector<bool>> AnyRank(const std::vector<bool>& flags);

  const TrainerOptions& o_;
  Collectives* group_;  // null: one process
  // With group_: one per optimizer (network), averaging its gradients during its backward pass.
  std::vector<std::unique_ptr<GradientReducer>> reducers_;
  bool overlap_reported_ = false;
  EventSink* sink_;  // the caller's sink behind the TensorBoard writer
  const TrainConfig& cfg_;
  PreparedDataset ds_;
  SymbolTable symbols_;
  std::string symbols_json_;
  torch::Device device_;
  LossScaler scaler_;
  Checkpointer checkpointer_;
  std::unique_ptr<TrainableModel> model_;
  TrainingState state_;
  std::string last_checkpoint_;
  int64_t last_saved_step_ = -1;
  std::vector<ValidationSentence> sentences_;
  std::unique_ptr<asr::Recognizer> recognizer_;  // validation.asr: pocketsphinx
  std::optional<PretrainedModel> base_;           // a fine-tune's base model
  std::map<std::string, double> last_train_values_;  // the newest logged step's values
  FinetuneReport report_;
};

CheckpointMeta Run::Meta() const {
  CheckpointMeta m;
  m.state = state_;
  m.config_yaml = EmitConfigYaml(cfg_);
  m.symbols_json = symbols_json_;
  m.speakers_json = nlohmann::json(ds_.speakers).dump();
  m.device = device_.str();
  if (base_) {
    m.parent_json = LineageJson(*base_);
  }
  m.state.loss_scale = scaler_.scale;
  m.state.loss_scale_good_steps = scaler_.good_steps;
  return m;
}

absl::Status Run::AverageValues(std::map<std::string, double>* values) {
  if (group_ == nullptr) return absl::OkStatus();
  torch::Tensor t = torch::empty({static_cast<int64_t>(values->size())}, torch::kFloat64);
  int64_t i = 0;
  for (const auto& [k, v] : *values) t[i++] = v;  // same keys, same order on every rank
  TTSD_RETURN_IF_ERROR(group_->SumInPlace(t));
  i = 0;
  for (auto& [k, v] : *values) v = t[i++].item<double>() / group_->world_size();
  return absl::OkStatus();
}

absl::StatusOr<std::vector<bool>> Run::AnyRank(const std::vector<bool>& flags) {
  if (group_ == nullptr) return flags;
  torch::Tensor t = torch::empty({static_cast<int64_t>(flags.size())}, torch::kInt32);
  for (size_t i = 0; i < flags.size(); ++i) t[static_cast<int64_t>(i)] = flags[i] ? 1 : 0;
  TTSD_RETURN_IF_ERROR(group_->SumInPlace(t));
  std::vector<bool> out;
  for (size_t i = 0; i < flags.size(); ++i) out.push_back(t[static_cast<int64_t>(i)].item<int>() > 0);
  return out;
}

// The ranks start from rank 0's weights and apply the same averaged gradients with the same arithmetic,
// so their weights stay equal bit for bit. Before each checkpoint every rank compares a float64 sum of
// each parameter with rank 0's (one small broadcast): a difference is a bug (a gradient that missed the
// all-reduce, an update one rank skipped), and a checkpoint of rank 0's weights alone would hide it.
absl::Status Run::CheckLockstep() {
  if (group_ == nullptr) return absl::OkStatus();
  torch::NoGradGuard no_grad;
  auto named = model_->module().named_parameters();
  std::vector<torch::Tensor> sums;
  for (const auto& p : named) sums.push_back(p.value().detach().to(torch::kCPU, torch::kFloat64).sum());
  if (sums.empty()) return absl::OkStatus();
  torch::Tensor mine = torch::stack(sums), lead_sums = mine.clone();
  TTSD_RETURN_IF_ERROR(group_->Broadcast({lead_sums}));
  torch::Tensor differs = mine.ne(lead_sums);
  const bool drifted = differs.any().item<bool>();
  TTSD_ASSIGN_OR_RETURN(std::vector<bool> any, AnyRank({drifted}));
  if (!any[0]) return absl::OkStatus();
  std::string which = "on another rank";
  if (drifted) which = absl::StrCat("rank ", group_->rank(), ", parameter ", named[differs.nonzero()[0][0].item<int64_t>()].key());
  return absl::InternalError(absl::StrCat("data parallel: the ranks' weights differ from rank 0's at step ", state_.step,
                                          " (", which, "); a bug in gradient averaging: please report it with the config"));
}

absl::Status Run::SaveCheckpoint(bool is_best, bool check_ranks) {
  if (check_ranks) TTSD_RETURN_IF_ERROR(CheckLockstep());
  if (!lead()) {  // rank 0 writes the checkpoint; the others only keep the bookkeeping in step
    last_saved_step_ = state_.step;
    return absl::OkStatus();
  }
  TTSD_ASSIGN_OR_RETURN(CheckpointInfo info, checkpointer_.Save(model_->module(), model_->optimizers(), Meta(), is_best));
  last_checkpoint_ = info.path;
  last_saved_step_ = state_.step;
  sink_->OnCheckpoint({info.step, info.path, info.sha256, info.bytes, is_best});
  return absl::OkStatus();
}

absl::Status Run::Resume() {
  std::string path = o_.resume;
  if (path == "auto") {
    // Rank 0 owns the run folder: only it tidies up (the other ranks read the same checkpoints).
    if (int n = lead() ? checkpointer_.RemovePartialWrites() : 0; n > 0) {
      sink_->OnLog(absl::StrCat("removed ", n, " half-written checkpoint file(s) of an interrupted save"));
    }
    auto newest = checkpointer_.NewestValid([&](const std::string& why) {
      sink_->OnLog(absl::StrCat("warning: skipping checkpoint: ", why));
    });
    if (!newest.ok()) {
      sink_->OnLog("no checkpoint to resume from; starting from scratch");
      sink_->OnResumed(0);
      return absl::OkStatus();
    }
    path = *newest;
  }
  CheckpointMeta meta;
  TTSD_RETURN_IF_ERROR(Checkpointer::Load(path, model_->module(), model_->optimizers(), &meta, device_));
  if (meta.symbols_json != symbols_json_) {
    return absl::FailedPreconditionError(absl::StrCat(
        path, " was trained with a different symbol table; resume with the config it was made with (its "
              "resolved config is inside the checkpoint)"));
  }
  state_ = meta.state;
  scaler_.scale = state_.loss_scale;
  scaler_.good_steps = state_.loss_scale_good_steps;
  sink_->OnLog(absl::StrCat("resumed from ", path, " at step ", state_.step, " (epoch ", state_.position.epoch,
                              ", batch ", state_.position.batch, ")"));
  sink_->OnResumed(state_.step);
  last_saved_step_ = state_.step;
  last_checkpoint_ = path;
  return absl::OkStatus();
}

std::map<std::string, double> Run::Validate() {
  std::map<std::string, double> mean;
  if (ds_.validation.empty()) return mean;
  GeneratorGuard generators(device_);  // a model may draw noise in its losses (VITS): training stays exact
  DataLoader loader(ds_, ds_.validation, cfg_.batch, LogFloor(), cfg_.seed, /*shuffle=*/false,
                    model_->needs_waveforms() ? &cfg_.audio : nullptr);
  loader.Start({0, 0});
  double weight = 0;
  for (int n = 0; cfg_.validation.max_batches == 0 || n < cfg_.validation.max_batches; ++n) {
    auto next = loader.Next();
    if (!next.ok() || !next->has_value()) break;
    const double w = static_cast<double>((*next)->items.size());
    for (const auto& [k, v] : model_->EvalLosses(**next)) mean[k] += w * v;
    weight += w;
  }
  for (auto& [k, v] : mean) v /= weight;
  return mean;
}

void Run::RunValidation(bool* is_best, bool* early_stop) {
  std::map<std::string, double> values = Validate();
  for (const auto& [k, x] : WriteValidationSamples(*model_, ds_, sentences_, cfg_, device_, state_.step, o_.output_dir, sink_,
                                                     recognizer_.get())) {
    values[k] = x;
  }
  ValidationEvent e;
  e.step = state_.step;
  e.epoch = state_.position.epoch;
  // Judged by a validation metric, or by the newest logged training value (train/loss, ...).
  std::map<std::string, double> judged = last_train_values_;
  for (const auto& [k, x] : values) judged[k] = x;
  // An empty validation split measures nothing: no best, no early stop.
  const auto& ck = cfg_.checkpoint;
  auto best = judged.find(ck.best_metric);
  if (!ds_.validation.empty() && best != judged.end()) {
    *is_best = Improves(best->second, state_.best_metric, ck.best_mode, 0);
    if (*is_best) {
      state_.best_metric = best->second;
      state_.best_step = state_.step;
      state_.validations_since_best = 0;
    } else {
      state_.validations_since_best++;
    }
  }
  const auto& es = cfg_.early_stopping;
  auto watched = judged.find(es.metric);
  if (!es.metric.empty() && !ds_.validation.empty() && watched != judged.end()) {
    if (Improves(watched->second, state_.early_best, es.mode, es.min_delta)) {
      state_.early_best = watched->second;
      state_.early_stale = 0;
    } else {
      *early_stop = ++state_.early_stale >= es.patience;
    }
    values["early_stopping/stale_validations"] = static_cast<double>(state_.early_stale);
  }
  e.values = std::move(values);
  e.is_best = *is_best;
  e.best_metric = ck.best_metric;
  e.best_value = state_.best_metric;
  e.best_step = state_.best_step;
  e.validations_since_best = state_.validations_since_best;
  sink_->OnValidation(e);
}

absl::StatusOr<TrainResult> Run::Execute() {
  torch::manual_seed(cfg_.seed);
  model_ = MakeTrainableModel(cfg_, symbols_.size(), static_cast<int64_t>(ds_.speakers.size()), device_);
  // A fine-tune starts from the base's weights; a resume then loads its own checkpoint over them.
  if (base_) {
    TTSD_RETURN_IF_ERROR(LoadPretrainedWeights(*base_, cfg_, symbols_, ds_.speakers, model_->module(), &report_));
  }
  Freeze(cfg_, model_->module(), &report_);
  if (base_) {
    for (const auto& w : report_.warnings) sink_->OnLog(absl::StrCat("fine-tune warning: ", w));
    for (const auto& n : report_.notes) sink_->OnLog(absl::StrCat("fine-tune: ", n));
    if (lead()) {
      TTSD_RETURN_IF_ERROR(
          WriteFileAtomic((fs::path(o_.output_dir) / "finetune_report.txt").string(), report_.ToString()));
    }
  }
  model_->CreateOptimizers();  // over what is not frozen: frozen parameters stay out of the optimizers
  const auto& t = cfg_.training;
  int64_t params = 0;
  for (const auto& p : model_->module().parameters()) params += p.numel();
  sink_->OnLog(absl::StrCat("model ", cfg_.model.type, " (preset ", cfg_.model.preset, "): ", params, " parameters, ",
                              ds_.speakers.size(), " speaker(s), ", symbols_.size(), " symbols; ", device_.str(), ", ",
                              t.precision));
  for (const auto& note : model_->TrainingNotes()) sink_->OnLog(note);
  if (cfg_.validation.asr == "pocketsphinx" && lead()) {
    TTSD_ASSIGN_OR_RETURN(recognizer_, asr::Recognizer::CreateEnglish());
  }
  if (!o_.resume.empty()) {
    TTSD_RETURN_IF_ERROR(Resume());
  } else if (!checkpointer_.List().empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        checkpointer_.dir(), " already holds checkpoints: continue with --resume auto, or use a new --output-dir"));
  }
  // Every rank looks at the output directory (resume or refuse) before rank 0 may write its step-0
  // checkpoint there: without this, a slower rank could find that checkpoint and refuse to start.
  if (group_ != nullptr) TTSD_RETURN_IF_ERROR(group_->Barrier());

  // A fine-tune measures its starting point: the base model on the new data, at step 0, so the curves
  // show what fine-tuning changed (and the base itself can turn out best).
  if (base_ && state_.step == 0 && cfg_.validation.interval_steps > 0 && lead()) {
    bool is_best = false, early_stop = false;
    RunValidation(&is_best, &early_stop);
    // Rank 0 alone is here, before any step: every rank holds the base's weights, nothing to compare.
    if (is_best) TTSD_RETURN_IF_ERROR(SaveCheckpoint(true, /*check_ranks=*/false));
  }
  if (group_ != nullptr) {
    // Every rank starts from rank 0's weights (a fresh initialisation may differ per rank; after a
    // resume they are equal anyway), and steps on its share of each global batch.
    std::vector<torch::Tensor> state;
    for (const auto& p : model_->module().parameters()) state.push_back(p);
    for (const auto& b : model_->module().buffers()) state.push_back(b);
    TTSD_RETURN_IF_ERROR(group_->Broadcast(state));
    int buckets = 0;
    for (torch::optim::Optimizer* opt : model_->optimizers()) {
      std::vector<torch::Tensor> params;
      for (const auto& g : opt->param_groups()) params.insert(params.end(), g.params().begin(), g.params().end());
      reducers_.push_back(std::make_unique<GradientReducer>(group_, params));
      buckets += reducers_.back()->buckets();
    }
    model_->set_gradient_hook([this](int optimizer) {
      if (auto st = reducers_.at(static_cast<size_t>(optimizer))->Finish(); !st.ok()) throw CollectiveFailure{st};
    });
    auto sum = [this](torch::Tensor& t) {
      if (auto st = group_->SumInPlace(t); !st.ok()) throw CollectiveFailure{st};
    };
    model_->set_rank_sum(sum, group_->world_size());
    models::SetActNormRankSum(model_->module(), sum);  // Glow's first-batch statistics: the global batch's
    sink_->OnLog(absl::StrCat("data parallel: rank ", group_->rank(), " of ", group_->world_size(), " (",
                              group_->backend(), "), each global batch split across the ranks; gradients all-reduced in ",
                              buckets, " bucket(s) during backward"));
  }
  DataLoader loader(ds_, ds_.train, cfg_.batch, LogFloor(), cfg_.seed, /*shuffle=*/true,
                    model_->needs_waveforms() ? &cfg_.audio : nullptr,
                    group_ != nullptr ? DataShard{group_->rank(), group_->world_size()} : DataShard());
  const int64_t per_epoch = static_cast<int64_t>(loader.BatchesInEpoch(0));
  if (group_ != nullptr && lead()) {
    if (const size_t uneven = loader.UnevenBatchesInEpoch(state_.position.epoch); uneven > 0) {
      sink_->OnLog(absl::StrCat(
          "data parallel: ", uneven, " of ", loader.BatchesInEpoch(state_.position.epoch),
          " batches this epoch have more than one but fewer utterances than the ", group_->world_size(),
          " ranks; some ranks repeat an utterance there, so those steps differ from a single process's "
          "(a batch.size that is a multiple of the ranks, with batch.drop_last: true, avoids it)"));
    }
  }
  const int64_t total = t.max_steps > 0 ? std::min<int64_t>(t.max_steps, per_epoch * t.epochs) : per_epoch * t.epochs;
  TrainResult result;
  double ema_step = 0;
  bool done = state_.step >= total;
  while (!done) {
    loader.Start(state_.position);
    while (!done) {
      auto next = loader.Next();
      if (!next.ok()) return next.status();
      if (!next->has_value()) break;
      const Batch& batch = **next;
      auto t0 = std::chrono::steady_clock::now();
      StepOutput out;
      try {
        out = model_->Step(batch, Lr(state_.step + 1), scaler_);
      } catch (const CollectiveFailure& f) {
        return f.status;
      }
      TTSD_RETURN_IF_ERROR(AverageValues(&out.values));
      if (!reducers_.empty() && !overlap_reported_) {
        overlap_reported_ = true;
        int early = 0, buckets = 0;
        for (const auto& r : reducers_) {
          early += r->sent_during_backward();
          buckets += r->buckets();
        }
        sink_->OnLog(absl::StrCat("data parallel: ", early, " of ", buckets, " gradient bucket(s) went out while backward ran"));
      }
      const StepOutcome outcome = out.outcome;
      const bool finite = outcome != StepOutcome::kNonFinite;
      double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      ema_step = ema_step == 0 ? secs : 0.9 * ema_step + 0.1 * secs;
      state_.step++;
      state_.position = batch.next;
      state_.nonfinite_in_row = finite ? 0 : state_.nonfinite_in_row + 1;

      if (state_.step % t.log_interval == 0 || !finite) {
        StepEvent e;
        e.step = state_.step;
        e.epoch = state_.position.epoch;
        e.total_steps = total;
        e.values = std::move(out.values);
        e.values["lr"] = Lr(state_.step);
        if (!finite) e.values["skipped_nonfinite"] = static_cast<double>(state_.nonfinite_in_row);
        if (scaler_.enabled) e.values["loss_scale"] = scaler_.scale;
        if (outcome == StepOutcome::kOverflow) e.values["skipped_overflow"] = 1;
        e.step_seconds = secs;
        e.frames_per_second = batch.mel_lengths.sum().item<double>() / std::max(secs, 1e-9);
        e.eta_seconds = ema_step * static_cast<double>(total - state_.step);
        last_train_values_ = e.values;
        sink_->OnStep(e);
      }
      if (state_.nonfinite_in_row >= t.max_nonfinite_steps) {
        sink_->OnLog(absl::StrCat("stopping: ", state_.nonfinite_in_row,
                                    " steps in a row had a non-finite loss or gradient. Try a lower "
                                    "training.learning_rate, a smaller training.grad_clip, or check the data "
                                    "(`ttsd data check`); the last good checkpoint is kept."));
        result.reason = StopReason::kNonFiniteLoss;
        result.step = state_.step;
        result.last_checkpoint = last_checkpoint_;
        return result;
      }
      TTSD_ASSIGN_OR_RETURN(
          std::vector<bool> asked,
          AnyRank({o_.validate_requested != nullptr && o_.validate_requested->exchange(false),
                   o_.checkpoint_requested != nullptr && o_.checkpoint_requested->exchange(false),
                   o_.stop_requested != nullptr && o_.stop_requested->load()}));
      const bool validate_now = asked[0], checkpoint_now = asked[1];
      if (validate_now) sink_->OnLog(absl::StrCat("validating at step ", state_.step, " (requested)"));
      if (checkpoint_now) sink_->OnLog(absl::StrCat("checkpoint at step ", state_.step, " (requested)"));
      bool validate = validate_now ||
                      (cfg_.validation.interval_steps > 0 && state_.step % cfg_.validation.interval_steps == 0);
      bool is_best = false, early_stop = false;
      if (validate && lead()) RunValidation(&is_best, &early_stop);
      if (validate && group_ != nullptr) {  // rank 0's verdict, for every rank
        TTSD_ASSIGN_OR_RETURN(std::vector<bool> verdict, AnyRank({is_best, early_stop}));
        is_best = verdict[0];
        early_stop = verdict[1];
      }
      done = state_.step >= total;
      bool stop = asked[2];
      if (is_best || state_.step % cfg_.checkpoint.interval_steps == 0 || stop || done || early_stop ||
          checkpoint_now) {
        TTSD_RETURN_IF_ERROR(SaveCheckpoint(is_best));
      }
      if (early_stop) {
        const auto& es = cfg_.early_stopping;
        result.reason = StopReason::kEarlyStopped;
        result.message = absl::StrCat(es.metric, " did not improve by more than ", es.min_delta, " for ", es.patience,
                                      " validations; best checkpoint: step ", state_.best_step, " (",
                                      cfg_.checkpoint.best_metric, " ", state_.best_metric, ") ", checkpointer_.PointerPath("best"));
        sink_->OnLog(absl::StrCat("early stopping at step ", state_.step, ": ", result.message));
        result.step = state_.step;
        result.last_checkpoint = last_checkpoint_;
        return result;
      }
      if (stop) {
        sink_->OnLog(absl::StrCat("stopped at step ", state_.step, "; resume with --resume auto (checkpoint ",
                                    last_checkpoint_, ")"));
        result.reason = StopReason::kStopped;
        result.step = state_.step;
        result.last_checkpoint = last_checkpoint_;
        return result;
      }
    }
    if (!done) state_.position = {state_.position.epoch + 1, 0};
    if (state_.position.epoch >= t.epochs) done = true;
  }
  if (last_saved_step_ != state_.step) TTSD_RETURN_IF_ERROR(SaveCheckpoint(false));
  sink_->OnLog(absl::StrCat("finished at step ", state_.step, "; last checkpoint ", last_checkpoint_));
  result.step = state_.step;
  result.last_checkpoint = last_checkpoint_;
  return result;
}

// The config's world size against the launcher's: a mismatch would silently change the global batch.
absl::Status CheckWorld(const DistributedConfig& d, const DistributedEnv& env) {
  if (env.world_size == d.world_size) return absl::OkStatus();
  if (!env.active()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "distributed.world_size is ", d.world_size, ", but this process was started alone: launch ", d.world_size,
        " ranks with torchrun-style variables (MASTER_ADDR, MASTER_PORT, RANK, WORLD_SIZE, LOCAL_RANK) or srun"));
  }
  return absl::FailedPreconditionError(absl::StrCat("the launcher started ", env.world_size,
                                                    " ranks but distributed.world_size is ", d.world_size,
                                                    ": set distributed.world_size: ", env.world_size));
}

}  // namespace

absl::StatusOr<TrainResult> Train(const TrainerOptions& o) {
  const TrainConfig& cfg = o.config;
  TTSD_ASSIGN_OR_RETURN(torch::Device device, ResolveDevice(cfg.training.device));  // before any work
  TTSD_ASSIGN_OR_RETURN(DistributedEnv env, ReadDistributedEnv());
  TTSD_RETURN_IF_ERROR(CheckWorld(cfg.distributed, env));
  if (env.active() && device.is_cuda() && !o.device_per_rank) {  // one GPU per rank on a node, as torchrun does
    TTSD_ASSIGN_OR_RETURN(device, ResolveDevice(absl::StrCat("cuda:", env.local_rank)));
  }
  const bool lead = env.rank == 0;
  TTSD_ASSIGN_OR_RETURN(auto tokenizer, Tokenizer::ForConfig(cfg.text));
  if (lead) {
    TTSD_RETURN_IF_ERROR(EnsureDirectory(o.output_dir));
    TTSD_RETURN_IF_ERROR(WriteFileAtomic((fs::path(o.output_dir) / "config.yaml").string(), EmitConfigYaml(cfg)));
    TTSD_RETURN_IF_ERROR(
        WriteFileAtomic((fs::path(o.output_dir) / "symbols.json").string(), tokenizer->symbols().ToJson()));
  }
  // A fine-tune's pre-flight, before any data is read: what cannot work stops here.
  std::optional<PretrainedModel> base;
  FinetuneReport report;
  if (const std::string& from = cfg.finetune.pretrained_model_path; !from.empty()) {
    if (from.rfind("job:", 0) == 0) {
      return absl::InvalidArgumentError(absl::StrCat("finetune.pretrained_model_path: ", from, " names a daemon job; ",
                                                     "submit with ttsctl, or give the checkpoint file"));
    }
    TTSD_ASSIGN_OR_RETURN(base, OpenPretrained(from));
    report = CheckCompatibility(*base, cfg, tokenizer->symbols());
    if (!report.errors.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("the base model cannot be fine-tuned with this config:\n", report.ToString()));
    }
  }
  std::unique_ptr<Collectives> group;
  PrepareOptions prep;
  prep.show_progress = o.show_progress;
  if (env.active()) {
    o.sink->OnLog(absl::StrCat("joining ", env.world_size, " ranks at ", env.master_addr, ":", env.master_port,
                               " as rank ", env.rank));
    // auto: NCCL between GPUs where this LibTorch has it (as PyTorch picks), else Gloo.
    const std::string& asked = cfg.distributed.backend;
    const bool nccl = asked == "nccl" || (asked == "auto" && device.is_cuda() && Collectives::NcclAvailable());
    TTSD_ASSIGN_OR_RETURN(group, Collectives::Join(env, nccl ? "nccl" : "gloo",
                                                   std::chrono::seconds(cfg.distributed.timeout_s), device));
    // Each rank computes its share of the features a cold cache lacks; then all read the whole set.
    PrepareOptions share = prep;
    share.shard_rank = env.rank;
    share.shard_count = env.world_size;
    TTSD_ASSIGN_OR_RETURN(PreparedDataset warmed, PrepareDataset(cfg, *tokenizer, share));
    o.sink->OnLog(absl::StrCat("data: this rank's share of the feature cache: ", warmed.report.cache_misses,
                               " computed, ", warmed.report.cache_hits, " already cached"));
    TTSD_RETURN_IF_ERROR(group->WaitForAll(kFeatureSharePatience));
  }
  TTSD_ASSIGN_OR_RETURN(PreparedDataset ds, PrepareDataset(cfg, *tokenizer, prep));
  for (const auto& p : ds.report.problems) o.sink->OnLog(absl::StrCat("data: ", p.ToString()));
  TTSD_RETURN_IF_ERROR(EnforceDataPolicy(ds, cfg.data));
  if (base) {
    MergeSpeakers(*base, cfg, &ds, &report);
    CheckDataAmount(ds, cfg, &report);
  }
  o.sink->OnLog(absl::StrCat("data: ", ds.train.size(), " train, ", ds.validation.size(), " validation utterances (",
                             ds.report.cache_hits, " features cached, ", ds.report.cache_misses, " computed)"));
  std::vector<ValidationSentence> sentences;
  for (size_t i = 0; i < cfg.validation.sentences.size(); ++i) {
    TTSD_ASSIGN_OR_RETURN(TokenizedText t, tokenizer->Encode(cfg.validation.sentences[i]));
    if (!t.unknown.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("validation.sentences[", i, "] has symbols the model has no ",
                                                     "embedding for (", absl::StrJoin(t.unknown, " "),
                                                     "): rephrase it, or add them to the symbol table"));
    }
    sentences.push_back({cfg.validation.sentences[i], std::vector<int64_t>(t.ids.begin(), t.ids.end())});
  }
  std::optional<TensorBoardSink> tensorboard;
  if (lead) tensorboard.emplace(o.output_dir, o.sink);
  Run run(o, lead ? static_cast<EventSink*>(&*tensorboard) : o.sink, std::move(ds), tokenizer->symbols(), device,
          std::move(sentences), std::move(base), std::move(report), group.get());
  return run.Execute();
}

}  // namespace ttsd::core::train
