#include "server/api/training_service.h"

#include <filesystem>
#include <fstream>
#include <map>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "core/common/sha256.h"
#include "core/common/status.h"
#include "core/config/config_yaml.h"
#include "nlohmann/json.hpp"
#include "server/api/grpc_status.h"
#include "server/api/finetune_base.h"
#include "server/api/submission.h"
#include "server/daemon/job_events.h"

namespace ttsd::server::api {
namespace {

constexpr uint32_t kDefaultPageSize = 50;
constexpr uint32_t kMaxPageSize = 1000;
constexpr uint32_t kDefaultChunkBytes = 1 << 20;
constexpr uint32_t kMaxChunkBytes = 4 << 20;

// Streams one file in chunks, one write in flight; the last chunk carries the file's sha256.
class ArtifactReactor : public grpc::ServerWriteReactor<ttsd::v1::ArtifactChunk> {
 public:
  ArtifactReactor(const std::string& path, uint32_t chunk_bytes) : in_(path, std::ios::binary), chunk_(chunk_bytes) {
    if (!in_) {
      Finish(grpc::Status(grpc::StatusCode::NOT_FOUND, "cannot read " + path));
      return;
    }
    in_.seekg(0, std::ios::end);
    total_ = static_cast<uint64_t>(in_.tellg());
    in_.seekg(0);
    name_ = path.substr(path.find_last_of('/') + 1);
    Next();
  }
  void OnWriteDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status(grpc::StatusCode::CANCELLED, "the reader went away"));
      return;
    }
    if (last_) {
      Finish(grpc::Status::OK);
      return;
    }
    Next();
  }
  void OnDone() override { delete this; }

 private:
  void Next() {
    msg_.Clear();
    if (offset_ == 0) {
      msg_.set_name(name_);
      msg_.set_total_bytes(total_);
    }
    std::string data(std::min<uint64_t>(chunk_, total_ - offset_), '\0');
    in_.read(data.data(), static_cast<std::streamsize>(data.size()));
    if (static_cast<size_t>(in_.gcount()) != data.size()) {
      Finish(grpc::Status(grpc::StatusCode::DATA_LOSS, "the file changed while it was being sent"));
      return;
    }
    hash_.Update(data);
    msg_.set_offset(offset_);
    offset_ += data.size();
    msg_.set_data(std::move(data));
    last_ = offset_ >= total_;
    if (last_) msg_.set_sha256(hash_.HexDigest());
    StartWrite(&msg_);
  }

  std::ifstream in_;
  uint32_t chunk_;
  uint64_t total_ = 0, offset_ = 0;
  bool last_ = false;
  std::string name_;
  core::Sha256 hash_;
  ttsd::v1::ArtifactChunk msg_;
};

// A stream that fails before it starts.
template <class T>
class FailedStream : public grpc::ServerWriteReactor<T> {
 public:
  explicit FailedStream(const grpc::Status& st) { this->Finish(st); }
  void OnDone() override { delete this; }
};

absl::StatusOr<std::string> ArtifactPath(store::Store& store, const store::JobRecord& job,
                                         const ttsd::v1::GetArtifactRequest& req) {
  switch (req.kind()) {
    case ttsd::v1::ARTIFACT_KIND_LOG: return job.job_dir + "/train.log";
    case ttsd::v1::ARTIFACT_KIND_CONFIG: return job.job_dir + "/config.yaml";
    case ttsd::v1::ARTIFACT_KIND_METRICS: return job.job_dir + "/metrics.jsonl";
    case ttsd::v1::ARTIFACT_KIND_CHECKPOINT: {
      TTSD_ASSIGN_OR_RETURN(auto ckpts, store.ListCheckpoints(job.id));
      const store::CheckpointRecord* pick = nullptr;
      for (const auto& c : ckpts) {
        if ((req.step() == 0 && (!pick || c.step >= pick->step)) || c.step == req.step()) pick = &c;
      }
      if (!pick) return absl::NotFoundError(absl::StrCat("job ", job.id, " has no checkpoint at step ", req.step()));
      return pick->path;
    }
    case ttsd::v1::ARTIFACT_KIND_SAMPLE: {
      TTSD_ASSIGN_OR_RETURN(auto samples, store.ListSamples(job.id));
      for (const auto& s : samples) {
        if (s.step == req.step() && s.tag == req.tag()) return s.path;
      }
      return absl::NotFoundError(absl::StrCat("job ", job.id, " has no sample '", req.tag(), "' at step ", req.step()));
    }
    default:
      return absl::InvalidArgumentError("kind: say which artifact (checkpoint, sample, log, config, metrics)");
  }
}

}  // namespace

TrainingService::TrainingService(daemon::EventBus* bus, daemon::JobManager* jobs, Authorizer auth,
                                 absl::Duration heartbeat, AllowedRoots roots)
    : bus_(bus),
      store_(bus->store()),
      jobs_(jobs),
      auth_(std::move(auth)),
      roots_(std::move(roots)),
      watches_(heartbeat),
      synthesis_(jobs->ttsd_binary()) {}

void TrainingService::ReloadToken(std::string token) {
  auth_.SetToken(std::move(token));
  watches_.RevokeUnless([this](const std::string& presented) { return auth_.Accepts(presented); });
}

grpc::ServerUnaryReactor* TrainingService::Reply(grpc::CallbackServerContext* ctx, const grpc::Status& st) {
  auto* reactor = ctx->DefaultReactor();
  reactor->Finish(st);
  return reactor;
}

ttsd::v1::Job TrainingService::View(const store::JobRecord& r, int queue_position) {
  ttsd::v1::Job j = daemon::ToApiJob(r);
  if (r.state == store::JobState::kQueued) {
    j.set_queue_position(static_cast<uint32_t>(queue_position >= 0 ? queue_position : jobs_->QueuePosition(r.id)));
  }
  std::vector<int64_t> pids = jobs_->WorkerPids(r.id);
  j.set_worker_pid(pids.empty() ? 0 : pids[0]);
  if (pids.size() > 1) j.mutable_rank_pids()->Add(pids.begin(), pids.end());
  if (auto p = jobs_->Progress(r.id)) {
    j.set_step(p->step);
    j.set_total_steps(p->total_steps);
  }
  if (auto v = store_.LatestEvent(r.id, "validation"); v.ok()) {
    ttsd::v1::JobEvent e;
    if (e.ParseFromString(v->payload) && e.validation().has_best()) *j.mutable_best() = e.validation().best();
  }
  return j;
}

grpc::ServerUnaryReactor* TrainingService::SubmitJob(grpc::CallbackServerContext* ctx,
                                                     const ttsd::v1::SubmitJobRequest* req,
                                                     ttsd::v1::SubmitJobResponse* resp) {
  if (auto st = auth_.Check(*ctx); !st.ok()) return Reply(ctx, st);
  auto parsed = CheckSubmission(req->config_yaml(), req->config_dir());
  if (!parsed.ok()) return Reply(ctx, ToGrpcStatus(parsed.status()));
  auto devices = ResolveDevices(req->devices(), &*parsed);
  if (!devices.ok()) return Reply(ctx, ToGrpcStatus(devices.status()));
  core::TrainConfig cfg = parsed->config;
  cfg.output_dir.clear();  // the daemon decides: <data-dir>/jobs/<id>
  if (req->max_steps() > 0) cfg.training.max_steps = req->max_steps();
  // Before the fine-tune base is opened: a base outside the roots must not be read at all.
  if (auto st = CheckConfigPaths(cfg, roots_); !st.ok()) return Reply(ctx, ToGrpcStatus(st));
  auto parent = ResolveFinetuneBase(&cfg, [this](int64_t id) -> absl::StatusOr<std::string> {
    auto job = store_.GetJob(id);
    if (!job.ok()) return job.status();
    return job->job_dir;
  });
  if (!parent.ok()) return Reply(ctx, ToGrpcStatus(parent.status()));
  std::string resolved = core::EmitConfigYaml(cfg);
  resp->set_resolved_config_yaml(resolved);
  if (std::string why; !jobs_->CanRun(*devices, &why)) {
    return Reply(ctx, grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, why));
  }
  if (req->validate_only()) return Reply(ctx, grpc::Status::OK);
  store::NewJob job;
  job.name = req->name().empty() ? cfg.name : req->name();
  job.request_id = req->request_id();
  job.priority = req->priority();
  job.config_yaml = resolved;
  job.devices = *devices;
  job.parent_json = *parent;
  bool created = false;
  auto rec = jobs_->Submit(job, resolved, &created);
  if (!rec.ok()) return Reply(ctx, ToGrpcStatus(rec.status()));
  *resp->mutable_job() = View(*rec);
  resp->set_created(created);
  return Reply(ctx, grpc::Status::OK);
}

grpc::ServerUnaryReactor* TrainingService::GetJob(grpc::CallbackServerContext* ctx, const ttsd::v1::JobRef* req,
                                                  ttsd::v1::Job* resp) {
  if (auto st = auth_.Check(*ctx); !st.ok()) return Reply(ctx, st);
  auto job = store_.GetJob(static_cast<int64_t>(req->job_id()));
  if (!job.ok()) return Reply(ctx, ToGrpcStatus(job.status()));
  *resp = View(*job);
  return Reply(ctx, grpc::Status::OK);
}

grpc::ServerUnaryReactor* TrainingService::ListJobs(grpc::CallbackServerContext* ctx,
                                                    const ttsd::v1::ListJobsRequest* req,
                                                    ttsd::v1::ListJobsResponse* resp) {
  if (auto st = auth_.Check(*ctx); !st.ok()) return Reply(ctx, st);
  std::vector<store::JobState> states;
  for (int s : req->states()) {
    store::JobState js;
    if (!daemon::FromApiState(static_cast<ttsd::v1::JobState>(s), &js)) {
      return Reply(ctx, grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, absl::StrCat("states: unknown state ", s)));
    }
    states.push_back(js);
  }
  int64_t after = 0;
  if (!req->page_token().empty() && !absl::SimpleAtoi(req->page_token(), &after)) {
    return Reply(ctx, grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "page_token: not one this daemon gave out"));
  }
  uint32_t size = req->page_size() == 0 ? kDefaultPageSize : std::min(req->page_size(), kMaxPageSize);
  auto jobs = store_.ListJobs(states, after, static_cast<int>(size));
  if (!jobs.ok()) return Reply(ctx, ToGrpcStatus(jobs.status()));
  // Queue positions from one read of the queue, not one per listed job.
  std::map<int64_t, int> positions;
  if (auto queued = store_.QueuedJobs(); queued.ok()) {
    for (size_t i = 0; i < queued->size(); ++i) positions[(*queued)[i].id] = static_cast<int>(i) + 1;
  }
  for (const auto& j : *jobs) *resp->add_jobs() = View(j, positions.count(j.id) ? positions[j.id] : 0);
  if (jobs->size() == size) resp->set_next_page_token(std::to_string(jobs->back().id));
  return Reply(ctx, grpc::Status::OK);
}

grpc::ServerUnaryReactor* TrainingService::RunCommand(grpc::CallbackServerContext* ctx, const ttsd::v1::JobRef* req,
                                                      ttsd::v1::Job* resp, Command command) {
  if (auto st = auth_.Check(*ctx); !st.ok()) return Reply(ctx, st);
  auto job = (jobs_->*command)(static_cast<int64_t>(req->job_id()));
  if (!job.ok()) return Reply(ctx, ToGrpcStatus(job.status()));
  *resp = View(*job);
  return Reply(ctx, grpc::Status::OK);
}

grpc::ServerUnaryReactor* TrainingService::StopJob(grpc::CallbackServerContext* ctx, const ttsd::v1::JobRef* req,
                                                   ttsd::v1::Job* resp) {
  return RunCommand(ctx, req, resp, &daemon::JobManager::Stop);
}

grpc::ServerUnaryReactor* TrainingService::ResumeJob(grpc::CallbackServerContext* ctx, const ttsd::v1::JobRef* req,
                                                     ttsd::v1::Job* resp) {
  return RunCommand(ctx, req, resp, &daemon::JobManager::Resume);
}

grpc::ServerUnaryReactor* TrainingService::CheckpointNow(grpc::CallbackServerContext* ctx, const ttsd::v1::JobRef* req,
                                                         ttsd::v1::Job* resp) {
  return RunCommand(ctx, req, resp, &daemon::JobManager::CheckpointNow);
}

grpc::ServerUnaryReactor* TrainingService::ValidateNow(grpc::CallbackServerContext* ctx, const ttsd::v1::JobRef* req,
                                                       ttsd::v1::Job* resp) {
  return RunCommand(ctx, req, resp, &daemon::JobManager::ValidateNow);
}

grpc::ServerUnaryReactor* TrainingService::CancelJob(grpc::CallbackServerContext* ctx, const ttsd::v1::JobRef* req,
                                                     ttsd::v1::Job* resp) {
  return RunCommand(ctx, req, resp, &daemon::JobManager::Cancel);
}

grpc::ServerWriteReactor<grpc::ByteBuffer>* TrainingService::WatchJob(grpc::CallbackServerContext* ctx,
                                                                      const grpc::ByteBuffer* raw) {
  using Failed = FailedStream<grpc::ByteBuffer>;
  if (auto st = auth_.Check(*ctx); !st.ok()) return new Failed(st);
  ttsd::v1::WatchJobRequest req;
  grpc::ByteBuffer copy(*raw);  // Deserialize consumes its buffer; this copy shares the slices
  if (grpc::Status st = grpc::SerializationTraits<ttsd::v1::WatchJobRequest>::Deserialize(&copy, &req); !st.ok()) {
    return new Failed(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "not a WatchJobRequest"));
  }
  if (auto job = store_.GetJob(static_cast<int64_t>(req.job_id())); !job.ok()) {
    return new Failed(ToGrpcStatus(job.status()));
  }
  return new WatchReactor(bus_, &watches_, req, Authorizer::Presented(*ctx));
}

grpc::ServerUnaryReactor* TrainingService::GetMetrics(grpc::CallbackServerContext* ctx,
                                                      const ttsd::v1::GetMetricsRequest* req,
                                                      ttsd::v1::GetMetricsResponse* resp) {
  if (auto st = auth_.Check(*ctx); !st.ok()) return Reply(ctx, st);
  const int64_t id = static_cast<int64_t>(req->job_id());
  if (auto job = store_.GetJob(id); !job.ok()) return Reply(ctx, ToGrpcStatus(job.status()));
  if (auto st = store_.FlushMetrics(); !st.ok()) return Reply(ctx, ToGrpcStatus(st));
  std::vector<std::string> keys(req->keys().begin(), req->keys().end());
  auto rows = store_.QueryMetrics(id, keys, req->from_step(), req->to_step() == 0 ? -1 : req->to_step());
  if (!rows.ok()) return Reply(ctx, ToGrpcStatus(rows.status()));
  // key -> step -> point; a later attempt's row for the same step wins.
  std::map<std::string, std::map<int64_t, ttsd::v1::MetricPoint>> series;
  for (const auto& r : *rows) {
    auto& p = series[r.key][r.step];
    if (p.attempt() > r.attempt) continue;
    p.set_step(r.step);
    p.set_value(r.value);
    p.set_attempt(static_cast<uint32_t>(r.attempt));
  }
  for (auto& [key, points] : series) {
    auto* s = resp->add_series();
    s->set_key(key);
    for (auto& [step, p] : points) *s->add_points() = p;
  }
  return Reply(ctx, grpc::Status::OK);
}

grpc::ServerUnaryReactor* TrainingService::Synthesize(grpc::CallbackServerContext* ctx,
                                                      const ttsd::v1::SynthesizeRequest* req,
                                                      ttsd::v1::SynthesizeResponse* resp) {
  if (auto st = auth_.Check(*ctx); !st.ok()) return Reply(ctx, st);
  auto job = store_.GetJob(static_cast<int64_t>(req->job_id()));
  if (!job.ok()) return Reply(ctx, ToGrpcStatus(job.status()));
  auto* reactor = ctx->DefaultReactor();
  synthesis_.Start(*job, *req, resp, [reactor](const grpc::Status& st) { reactor->Finish(st); });
  return reactor;
}

grpc::ServerUnaryReactor* TrainingService::ListCheckpoints(grpc::CallbackServerContext* ctx,
                                                           const ttsd::v1::JobRef* req,
                                                           ttsd::v1::ListCheckpointsResponse* resp) {
  if (auto st = auth_.Check(*ctx); !st.ok()) return Reply(ctx, st);
  const int64_t id = static_cast<int64_t>(req->job_id());
  auto job = store_.GetJob(id);
  if (!job.ok()) return Reply(ctx, ToGrpcStatus(job.status()));
  if (auto api = daemon::ToApiJob(*job); api.has_parent()) *resp->mutable_parent() = api.parent();
  auto ckpts = store_.ListCheckpoints(id);
  if (!ckpts.ok()) return Reply(ctx, ToGrpcStatus(ckpts.status()));
  for (const auto& c : *ckpts) {
    std::error_code ec;
    if (!std::filesystem::exists(c.path, ec)) continue;  // removed by the retention policy (keep_last)
    auto* out = resp->add_checkpoints();
    out->set_step(c.step);
    out->set_epoch(c.epoch);
    out->set_path(c.path);
    out->set_sha256(c.sha256);
    out->set_bytes(c.bytes);
    out->set_is_best(c.is_best);
    daemon::SetTimestampMs(c.created_ms, out->mutable_created());
    auto metrics = nlohmann::json::parse(c.metrics_json.empty() ? "{}" : c.metrics_json, nullptr, false);
    if (metrics.is_object()) {
      for (auto& [k, v] : metrics.items()) {
        if (v.is_number()) (*out->mutable_metrics())[k] = v.get<double>();
      }
    }
  }
  return Reply(ctx, grpc::Status::OK);
}

grpc::ServerWriteReactor<ttsd::v1::ArtifactChunk>* TrainingService::GetArtifact(
    grpc::CallbackServerContext* ctx, const ttsd::v1::GetArtifactRequest* req) {
  using Failed = FailedStream<ttsd::v1::ArtifactChunk>;
  if (auto st = auth_.Check(*ctx); !st.ok()) return new Failed(st);
  auto job = store_.GetJob(static_cast<int64_t>(req->job_id()));
  if (!job.ok()) return new Failed(ToGrpcStatus(job.status()));
  auto path = ArtifactPath(store_, *job, *req);
  if (!path.ok()) return new Failed(ToGrpcStatus(path.status()));
  uint32_t chunk = req->chunk_bytes() == 0 ? kDefaultChunkBytes : std::min(req->chunk_bytes(), kMaxChunkBytes);
  return new ArtifactReactor(*path, chunk);
}

}  // namespace ttsd::server::api
