// ttsd.v1.TrainingService on gRPC's callback API. Unary calls are answered on the gRPC thread that
// received them (each is a few SQLite statements); WatchJob and GetArtifact are server streams with one
// write in flight (watch_reactor.h, the artifact reader below).
#pragma once

#include "server/api/allowed_roots.h"
#include "server/api/auth.h"
#include "server/api/synthesis.h"
#include "server/api/watch_reactor.h"
#include "server/daemon/job_manager.h"
#include "ttsd/v1/ttsd.grpc.pb.h"

namespace ttsd::server::api {

class TrainingService final
    : public ttsd::v1::TrainingService::WithRawCallbackMethod_WatchJob<ttsd::v1::TrainingService::CallbackService> {
 public:
  // `roots`: where a submitted config may point (allowed_roots.h).
  TrainingService(daemon::EventBus* bus, daemon::JobManager* jobs, Authorizer auth, absl::Duration heartbeat,
                  AllowedRoots roots);

  grpc::ServerUnaryReactor* SubmitJob(grpc::CallbackServerContext* ctx, const ttsd::v1::SubmitJobRequest* req,
                                      ttsd::v1::SubmitJobResponse* resp) override;
  grpc::ServerUnaryReactor* GetJob(grpc::CallbackServerContext* ctx, const ttsd::v1::JobRef* req,
                                   ttsd::v1::Job* resp) override;
  grpc::ServerUnaryReactor* ListJobs(grpc::CallbackServerContext* ctx, const ttsd::v1::ListJobsRequest* req,
                                     ttsd::v1::ListJobsResponse* resp) override;
  grpc::ServerUnaryReactor* StopJob(grpc::CallbackServerContext* ctx, const ttsd::v1::JobRef* req,
                                    ttsd::v1::Job* resp) override;
  grpc::ServerUnaryReactor* ResumeJob(grpc::CallbackServerContext* ctx, const ttsd::v1::JobRef* req,
                                      ttsd::v1::Job* resp) override;
  grpc::ServerUnaryReactor* CancelJob(grpc::CallbackServerContext* ctx, const ttsd::v1::JobRef* req,
                                      ttsd::v1::Job* resp) override;
  grpc::ServerUnaryReactor* CheckpointNow(grpc::CallbackServerContext* ctx, const ttsd::v1::JobRef* req,
                                          ttsd::v1::Job* resp) override;
  grpc::ServerUnaryReactor* ValidateNow(grpc::CallbackServerContext* ctx, const ttsd::v1::JobRef* req,
                                        ttsd::v1::Job* resp) override;
  // Raw: the request arrives as bytes and events leave as bytes (watch_reactor.h says why).
  grpc::ServerWriteReactor<grpc::ByteBuffer>* WatchJob(grpc::CallbackServerContext* ctx,
                                                       const grpc::ByteBuffer* req) override;
  grpc::ServerUnaryReactor* GetMetrics(grpc::CallbackServerContext* ctx, const ttsd::v1::GetMetricsRequest* req,
                                       ttsd::v1::GetMetricsResponse* resp) override;
  grpc::ServerUnaryReactor* ListCheckpoints(grpc::CallbackServerContext* ctx, const ttsd::v1::JobRef* req,
                                            ttsd::v1::ListCheckpointsResponse* resp) override;
  grpc::ServerWriteReactor<ttsd::v1::ArtifactChunk>* GetArtifact(grpc::CallbackServerContext* ctx,
                                                                 const ttsd::v1::GetArtifactRequest* req) override;

  grpc::ServerUnaryReactor* Synthesize(grpc::CallbackServerContext* ctx, const ttsd::v1::SynthesizeRequest* req,
                                       ttsd::v1::SynthesizeResponse* resp) override;

  WatchRegistry& watches() { return watches_; }
  // SIGHUP: a new token from the token file; open watch streams with the old one end.
  void ReloadToken(std::string token);
  // Before the server shuts down: ends the syntheses in flight.
  void StopSyntheses() { synthesis_.Stop(); }

 private:
  grpc::ServerUnaryReactor* Reply(grpc::CallbackServerContext* ctx, const grpc::Status& st);
  // The API view of a job: the row plus what only the daemon knows (queue position, newest step).
  // `queue_position` < 0: look it up.
  ttsd::v1::Job View(const store::JobRecord& r, int queue_position = -1);
  using Command = absl::StatusOr<store::JobRecord> (daemon::JobManager::*)(int64_t);
  grpc::ServerUnaryReactor* RunCommand(grpc::CallbackServerContext* ctx, const ttsd::v1::JobRef* req,
                                       ttsd::v1::Job* resp, Command command);

  daemon::EventBus* bus_;
  store::Store& store_;
  daemon::JobManager* jobs_;
  Authorizer auth_;
  const AllowedRoots roots_;
  WatchRegistry watches_;
  Synthesis synthesis_;
};

}  // namespace ttsd::server::api
