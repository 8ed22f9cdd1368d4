// The daemon end to end: a real `ttsd serve` on a temporary unix socket and data dir, real workers
// training the `tiny` Glow-TTS on real WAVs, driven over gRPC and through the real `ttsctl`.
#include <gmock/gmock.h>
#include <google/protobuf/util/message_differencer.h>
#include <grpcpp/generic/generic_stub.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <set>
#include <thread>

#include "grpc/health/v1/health.grpc.pb.h"
#include "server/reflection_list.grpc.pb.h"
#include "tests/server/daemon_fixture.h"
#include "tests/testing/command.h"
#include "tests/testing/daemon.h"
#include "tests/testing/temp_dir.h"

namespace ttsd {
namespace {

using ::testing::HasSubstr;
using ttsd::v1::Job;
using ttsd::v1::JobEvent;

void ExpectGapFree(const std::vector<JobEvent>& events, uint64_t first) {
  uint64_t want = first;
  for (const auto& e : events) {
    if (e.has_end()) continue;
    EXPECT_EQ(e.seq(), want);
    want = e.seq() + 1;
  }
}

TEST_F(DaemonTest, SubmitWatchSucceedsThroughTtsctl) {
  std::string config = Config(30);
  testing::CommandResult r = testing::RunCommand(Ctl("submit " + config + " --watch --samples-dir " + tmp_.Join("s")));
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("step 30/30"));
  EXPECT_THAT(r.output, HasSubstr("validation step 10"));
  EXPECT_THAT(r.output, HasSubstr("job 1 SUCCEEDED"));
  // Validation audio came through the stream as WAV bytes and was saved where watch said.
  EXPECT_THAT(r.output, HasSubstr("audio step 10 'u"));
  std::vector<std::string> saved;
  for (const auto& f : std::filesystem::directory_iterator(tmp_.Join("s/1"))) saved.push_back(f.path().string());
  // 2 held-out utterances x validations at steps 10, 20, 30, and their 2 recordings once.
  ASSERT_EQ(saved.size(), 8u) << r.output;
  EXPECT_THAT(r.output, HasSubstr("-ground_truth-u"));
  for (const auto& path : saved) {
    EXPECT_EQ(testing::RunCommand("head -c 4 " + path).output, "RIFF") << path;
    EXPECT_GT(std::filesystem::file_size(path), 1000u) << path;
  }
  Job job = daemon_->GetJob(1);
  EXPECT_EQ(job.state(), ttsd::v1::JOB_STATE_SUCCEEDED);
  EXPECT_EQ(job.attempt(), 1u);
  // The job folder holds what a standalone run folder holds.
  for (const char* f : {"config.yaml", "train.log", "metrics.jsonl", "symbols.json", "checkpoints"}) {
    EXPECT_TRUE(std::filesystem::exists(job.job_dir() + "/" + f)) << f;
  }
  std::vector<int64_t> steps = LossSteps(1);
  ASSERT_EQ(steps.size(), 30u);
  EXPECT_EQ(steps.front(), 1);
  EXPECT_EQ(steps.back(), 30);

  r = testing::RunCommand(Ctl("list"));
  EXPECT_THAT(r.output, HasSubstr("SUCCEEDED"));
  r = testing::RunCommand(Ctl("--output json status 1"));
  EXPECT_THAT(r.output, HasSubstr("\"state\":\"JOB_STATE_SUCCEEDED\""));
  r = testing::RunCommand(Ctl("checkpoints 1"));
  EXPECT_THAT(r.output, HasSubstr("ckpt-000000030.pt"));
  r = testing::RunCommand(Ctl("metrics 1 --key val/loss"));
  EXPECT_THAT(r.output, HasSubstr("val/loss"));
  r = testing::RunCommand(Ctl("logs 1"));
  EXPECT_THAT(r.output, HasSubstr("finished at step 30"));
  // The same WAV through GetArtifact, in small chunks, with the whole file's sha256 in the last chunk.
  ttsd::v1::GetArtifactRequest areq;
  areq.set_job_id(1);
  areq.set_kind(ttsd::v1::ARTIFACT_KIND_SAMPLE);
  areq.set_step(20);
  std::string sample_path = job.job_dir() + "/samples/step_20";
  ASSERT_TRUE(std::filesystem::exists(sample_path));
  areq.set_tag(std::filesystem::directory_iterator(sample_path)->path().stem().string());
  areq.set_chunk_bytes(4096);
  grpc::ClientContext actx;
  auto areader = daemon_->stub().GetArtifact(&actx, areq);
  ttsd::v1::ArtifactChunk chunk;
  std::string bytes, sha;
  int chunks = 0;
  while (areader->Read(&chunk)) {
    EXPECT_EQ(chunk.offset(), bytes.size());
    bytes += chunk.data();
    sha = chunk.sha256();
    ++chunks;
  }
  ASSERT_TRUE(areader->Finish().ok());
  EXPECT_GT(chunks, 1);
  EXPECT_EQ(bytes.substr(0, 4), "RIFF");
  std::string wav_path = sample_path + "/" + areq.tag() + ".wav";
  EXPECT_EQ(bytes.size(), std::filesystem::file_size(wav_path));
  EXPECT_EQ(testing::RunCommand("sha256sum " + wav_path).output.substr(0, 64), sha);
  grpc::ClientContext missing_ctx;
  areq.set_step(7);
  auto missing = daemon_->stub().GetArtifact(&missing_ctx, areq);
  while (missing->Read(&chunk)) {
  }
  EXPECT_EQ(missing->Finish().error_code(), grpc::StatusCode::NOT_FOUND);
  // A command in the wrong state names the state.
  Job out;
  grpc::Status st = Command(&ttsd::v1::TrainingService::Stub::StopJob, 1, &out);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(st.error_message(), HasSubstr("SUCCEEDED"));
}

// A plateau (a learning rate too small to move anything): early stopping ends the job SUCCEEDED with
// reason EARLY_STOPPED, naming the best checkpoint; status shows the best so far and its age.
TEST_F(DaemonTest, EarlyStoppingOnAPlateauSucceedsAndStatusShowsTheBest) {
  uint64_t id = SubmitOk(Config(1000, 1000,
                                "  scheduler: constant\n  learning_rate: 1.0e-12\nearly_stopping:\n  metric: val/loss\n"
                                "  patience: 2\n  min_delta: 0.0001\n", 0));
  Job job;
  ASSERT_TRUE(daemon_->WaitForState(id, ttsd::v1::JOB_STATE_SUCCEEDED, 120, &job));
  EXPECT_EQ(job.reason(), "EARLY_STOPPED");
  EXPECT_THAT(job.message(), HasSubstr("stopped at step 30"));
  EXPECT_THAT(job.message(), HasSubstr("best checkpoint: step 10"));
  EXPECT_EQ(job.best().metric(), "val/loss");
  EXPECT_EQ(job.best().step(), 10);
  EXPECT_EQ(job.best().validations_since(), 2);
  testing::CommandResult r = testing::RunCommand(Ctl("status " + std::to_string(id)));
  EXPECT_THAT(r.output, HasSubstr("reason     EARLY_STOPPED"));
  EXPECT_THAT(r.output, HasSubstr("at step 10 (checkpoints/best); 2 validation(s) since it improved"));
}

// A fine-tune of one of the daemon's own jobs by reference: job:<id>@best resolves to that job's best
// checkpoint, the new job records it as its parent, and a reference that cannot work is refused at
// submission with what to change.
TEST_F(DaemonTest, FineTuneFromAJobReferenceRecordsItsLineage) {
  uint64_t base = SubmitOk(Config(20));
  ASSERT_TRUE(daemon_->WaitForState(base, ttsd::v1::JOB_STATE_SUCCEEDED, 120));
  const std::string finetune = "  scheduler: constant\n  learning_rate: 5.0e-5\nfinetune:\n  pretrained_model_path: ";
  Job job;
  grpc::Status st = daemon_->Submit(Config(6, 1000, finetune + "job:99\n"), &job);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(st.error_message(), HasSubstr("job 99 does not exist"));
  st = daemon_->Submit(Config(6, 1000, finetune + "job:" + std::to_string(base) + "@7\n"), &job);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(st.error_message(), HasSubstr("no checkpoint '7'"));
  st = daemon_->Submit(Config(6, 1000, finetune + "job:" + std::to_string(base) + "@best\naudio:\n  n_mels: 40\n"), &job);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(st.error_message(), HasSubstr("audio.n_mels is 40 here but 80 in the base model: set audio.n_mels: 80"));

  uint64_t ft = SubmitOk(Config(6, 1000, finetune + "job:" + std::to_string(base) + "@best\n  freeze: [encoder]\n"));
  ASSERT_TRUE(daemon_->WaitForState(ft, ttsd::v1::JOB_STATE_SUCCEEDED, 120, &job));
  EXPECT_EQ(job.parent().job_id(), base);
  EXPECT_EQ(job.parent().sha256().size(), 64u);
  EXPECT_THAT(job.parent().path(), HasSubstr("/jobs/" + std::to_string(base) + "/checkpoints/ckpt-"));
  EXPECT_GT(job.parent().step(), 0);
  testing::CommandResult r = testing::RunCommand(Ctl("checkpoints " + std::to_string(ft)));
  EXPECT_THAT(r.output, HasSubstr("fine-tuned from job " + std::to_string(base) + " step " + std::to_string(job.parent().step())));
  r = testing::RunCommand(Ctl("status " + std::to_string(ft)));
  EXPECT_THAT(r.output, HasSubstr("parent     job " + std::to_string(base)));
  r = testing::RunCommand(Ctl("logs " + std::to_string(ft)));
  EXPECT_THAT(r.output, HasSubstr("fine-tune: frozen: "));
  EXPECT_EQ(LossSteps(ft).front(), 1);  // a new run from step 0
}

// VITS under the daemon: a tiny two-speaker base (slt, rms) trains, then a fine-tune of it onto a new
// speaker (the espeak voice) with the text encoder and flow frozen runs as its own job, keeps the
// base's speakers and adds the new one, and the fine-tuned job speaks through the Synthesize RPC.
TEST_F(DaemonTest, VitsFineTuneFromATwoSpeakerBaseOntoANewSpeaker) {
  std::vector<testing::DatasetWav> wavs;
  std::string two_speakers, new_speaker;
  const char* texts[] = {"The quick brown fox.", "Seven heavy boxes.", "A quiet garden."};
  for (int i = 0; i < 9; ++i) {
    const char* src[] = {"slt-a.wav", "slt-b.wav", "rms-a.wav"};
    wavs.push_back({"b" + std::to_string(i), src[i % 3]});
    two_speakers += "b" + std::to_string(i) + "|" + (i % 3 == 2 ? "rms" : "slt") + "|" + texts[i % 3] + "\n";
  }
  testing::MakeDataset(tmp_.Join("two"), wavs, two_speakers);
  std::vector<testing::DatasetWav> espeak;
  for (int i = 0; i < 4; ++i) {
    espeak.push_back({"e" + std::to_string(i), "espeak-a.wav"});
    new_speaker += "e" + std::to_string(i) + "|Hello world, this is a test.\n";
  }
  testing::MakeDataset(tmp_.Join("new"), espeak, new_speaker);
  auto vits = [&](const std::string& data, const std::string& extra) {
    const std::string dir = tmp_.Join(data + "-cfg");
    std::filesystem::create_directories(dir);
    return testing::WriteConfig(dir, "seed: 3\nthreads: 1\ndata:\n  path: " + tmp_.Join(data) + "\n" + extra +
                                         "  validation:\n    count: 1\ntext:\n  mode: characters\nbatch:\n  size: 2\n"
                                         "model:\n  type: vits\n  preset: tiny\ntraining:\n  max_steps: 6\n  log_interval: 1\n"
                                         "validation:\n  interval_steps: 6\n  samples: 1\ncheckpoint:\n  interval_steps: 3\n");
  };
  uint64_t base = SubmitOk(vits("two", "  format: multispeaker\n"));
  Job job;
  ASSERT_TRUE(daemon_->WaitForState(base, ttsd::v1::JOB_STATE_SUCCEEDED, 180, &job)) << job.DebugString();
  const std::string finetune = "finetune:\n  pretrained_model_path: job:" + std::to_string(base) +
                               "@latest\n  speaker_name: espeak\n  freeze: [encoder, flow]\n";
  std::string config = vits("new", "");
  {
    std::ifstream in(config);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    testing::WriteTextFile(config, text + finetune);
  }
  uint64_t ft = SubmitOk(config);
  ASSERT_TRUE(daemon_->WaitForState(ft, ttsd::v1::JOB_STATE_SUCCEEDED, 180, &job)) << job.DebugString();
  EXPECT_EQ(job.parent().job_id(), base);
  testing::CommandResult r = testing::RunCommand(Ctl("logs " + std::to_string(ft)));
  EXPECT_THAT(r.output, HasSubstr("model vits (preset tiny)"));
  EXPECT_THAT(r.output, HasSubstr("3 speaker(s)"));  // rms, slt and the new espeak
  EXPECT_THAT(r.output, HasSubstr("fine-tune: frozen: "));
  EXPECT_EQ(LossSteps(ft).size(), 6u);
  const std::string out = tmp_.Join("vits.wav");
  r = testing::RunCommand(Ctl("synth --job " + std::to_string(ft) + " \"hello world\" -o " + out));
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_EQ(testing::RunCommand("head -c 4 " + out).output, "RIFF");
}

// Listening to any checkpoint: the daemon speaks with the job's best checkpoint in a child process and
// returns the WAV; `ttsd synth` does the same standalone from the file.
TEST_F(DaemonTest, SynthFromBestThroughTheDaemonAndStandalone) {
  uint64_t id = SubmitOk(Config(20));
  Job job;
  ASSERT_TRUE(daemon_->WaitForState(id, ttsd::v1::JOB_STATE_SUCCEEDED, 120, &job));
  const std::string out = tmp_.Join("best.wav");
  testing::CommandResult r = testing::RunCommand(Ctl("synth --job " + std::to_string(id) + " --checkpoint best \"the quick brown fox\" -o " + out));
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("spoken by " + job.job_dir() + "/checkpoints/ckpt-"));
  EXPECT_EQ(testing::RunCommand("head -c 4 " + out).output, "RIFF");
  EXPECT_GT(std::filesystem::file_size(out), 2000u);
  r = testing::RunCommand(Ctl("synth --job " + std::to_string(id) + " --checkpoint 7 hello -o " + out));
  EXPECT_NE(r.code, 0);
  EXPECT_THAT(r.output, HasSubstr("no checkpoint '7'"));
  r = testing::RunCommand(Ctl("synth --job " + std::to_string(id) + " --checkpoint newest hello -o " + out));
  EXPECT_EQ(r.code, 2) << r.output;  // bad input, and the daemon is still there
  EXPECT_THAT(r.output, HasSubstr("say best, latest or a step number"));
  r = testing::RunCommand(Ctl("synth --job " + std::to_string(id) + " -o " + out + " -- \"-starts with a dash\""));
  EXPECT_EQ(r.code, 0) << r.output;
  // The speaking rate per call; a value out of range is the caller's error, said by the daemon.
  const std::string slow = tmp_.Join("slow.wav"), fast = tmp_.Join("fast.wav");
  r = testing::RunCommand(Ctl("synth --job " + std::to_string(id) + " --length-scale 2 --noise-scale 0 \"the quick brown fox\" -o " + slow));
  ASSERT_EQ(r.code, 0) << r.output;
  r = testing::RunCommand(Ctl("synth --job " + std::to_string(id) + " --length-scale 0.5 --noise-scale 0 \"the quick brown fox\" -o " + fast));
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_GT(std::filesystem::file_size(slow), std::filesystem::file_size(fast) * 3 / 2);
  r = testing::RunCommand(Ctl("synth --job " + std::to_string(id) + " --length-scale 0 hello -o " + out));
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_THAT(r.output, HasSubstr("length_scale is 0: give a number > 0"));
  r = testing::RunCommand(Ctl("synth --job " + std::to_string(id) + " --noise-scale-w -1 hello -o " + out));
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_THAT(r.output, HasSubstr("noise_scale_w is -1: give a number >= 0"));
  r = testing::RunCommand(Ctl("synth --job 99 hello -o " + out));
  EXPECT_NE(r.code, 0);
  // No leftovers in the job folder.
  for (const auto& f : std::filesystem::directory_iterator(job.job_dir())) {
    EXPECT_EQ(f.path().filename().string().rfind(".synth-", 0), std::string::npos) << f.path();
  }
  const std::string standalone = tmp_.Join("standalone.wav");
  r = testing::RunCommand(std::string(TTSD_BINARY) + " synth --checkpoint " + job.job_dir() + " \"seven heavy boxes\" -o " +
                          standalone);
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_EQ(testing::RunCommand("head -c 4 " + standalone).output, "RIFF");
}

// `ttsd admin backup` while a job trains and writes events and metrics: the copy passes integrity_check
// and holds the job.
TEST_F(DaemonTest, AdminBackupCopiesTheLiveDatabase) {
  uint64_t id = SubmitOk(Config(100000, 1000));
  Job job;
  ASSERT_TRUE(daemon_->WaitFor(id, [&](const Job& j) { return Running(j); }, 120, &job));
  const std::string out = tmp_.Join("backup.db");
  testing::CommandResult r =
      testing::RunCommand(std::string(TTSD_BINARY) + " admin backup --data-dir " + daemon_->data_dir() + " --out " + out);
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("integrity_check ok"));
  r = testing::RunCommand("/usr/bin/python3 -c \"import sqlite3; c = sqlite3.connect('" + out +
                          "'); print(c.execute('pragma integrity_check').fetchone()[0], "
                          "c.execute('select count(*) from jobs').fetchone()[0], "
                          "c.execute('select count(*) from events where job_id = 1').fetchone()[0] > 5)\"");
  EXPECT_EQ(r.output, "ok 1 True\n");
  EXPECT_FALSE(std::filesystem::exists(out + ".tmp"));
  r = testing::RunCommand(std::string(TTSD_BINARY) + " admin backup --data-dir " + tmp_.Join("nowhere") + " --out " + out);
  EXPECT_NE(r.code, 0);
  ASSERT_TRUE(Command(&ttsd::v1::TrainingService::Stub::CancelJob, id).ok());
}

// Live control: checkpoint-now and validate-now reach the running worker and are acted on after its
// current step; in any other state they are refused, naming the state.
TEST_F(DaemonTest, CheckpointNowAndValidateNowActOnTheRunningJob) {
  const std::string config = testing::WriteConfig(
      tmp_.path(), "seed: 5\nthreads: 1\ndata:\n  path: data\n  validation:\n    count: 2\ntext:\n  mode: characters\n"
                   "batch:\n  size: 2\nmodel:\n  preset: tiny\ntraining:\n  max_steps: 100000\n  log_interval: 1\n"
                   "validation:\n  interval_steps: 100000\n  samples: 1\ncheckpoint:\n  interval_steps: 100000\n");
  uint64_t id = SubmitOk(config);
  Job job;
  ASSERT_TRUE(daemon_->WaitFor(id, [&](const Job& j) { return Running(j) && j.step() >= 3; }, 120, &job));
  testing::CommandResult r = testing::RunCommand(Ctl("checkpoint-now " + std::to_string(id)));
  ASSERT_EQ(r.code, 0) << r.output;
  r = testing::RunCommand(Ctl("validate-now " + std::to_string(id)));
  ASSERT_EQ(r.code, 0) << r.output;
  std::string logs;
  for (int i = 0; i < 600; ++i) {
    logs = testing::RunCommand(Ctl("logs " + std::to_string(id))).output;
    if (logs.find("validation step") != std::string::npos && logs.find("checkpoint /") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_THAT(logs, HasSubstr("(requested)"));
  EXPECT_THAT(logs, HasSubstr("validation step"));
  EXPECT_THAT(logs, HasSubstr("audio "));  // the validation's sample
  r = testing::RunCommand(Ctl("checkpoints " + std::to_string(id)));
  EXPECT_THAT(r.output, HasSubstr("ckpt-"));
  ASSERT_TRUE(Command(&ttsd::v1::TrainingService::Stub::CancelJob, id).ok());
  ASSERT_TRUE(daemon_->WaitForState(id, ttsd::v1::JOB_STATE_CANCELLED, 60));
  r = testing::RunCommand(Ctl("checkpoint-now " + std::to_string(id)));
  EXPECT_NE(r.code, 0);
  EXPECT_THAT(r.output, HasSubstr("is CANCELLED; only a RUNNING job can checkpoint now"));
}

TEST_F(DaemonTest, WatchReplaysEverythingAndResumesFromAnySeqWithoutGapOrDuplicate) {
  uint64_t id = SubmitOk(Config(20));
  ASSERT_TRUE(daemon_->WaitForState(id, ttsd::v1::JOB_STATE_SUCCEEDED, 120));
  Job job = daemon_->GetJob(id);
  std::vector<JobEvent> all = daemon_->Events(id, 0, /*follow=*/true);
  ASSERT_FALSE(all.empty());
  EXPECT_TRUE(all.back().has_end());
  EXPECT_EQ(all.back().end().final_state(), ttsd::v1::JOB_STATE_SUCCEEDED);
  EXPECT_EQ(all.size(), job.last_seq() + 1);  // every stored event, then the end
  ExpectGapFree(all, 1);
  // Reconnecting mid-stream: the rest, exactly.
  uint64_t mid = job.last_seq() / 2;
  std::vector<JobEvent> rest = daemon_->Events(id, mid, true);
  ASSERT_EQ(rest.size(), job.last_seq() - mid + 1);
  ExpectGapFree(rest, mid + 1);
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(rest.front(), all[mid]));
}

TEST_F(DaemonTest, LiveWatchSeesEveryEventOnceWhileTheJobRuns) {
  uint64_t id = SubmitOk(Config(60));
  std::vector<JobEvent> live = daemon_->Events(id, 0, /*follow=*/true);  // starts while QUEUED/STARTING
  ASSERT_FALSE(live.empty());
  ASSERT_TRUE(live.back().has_end());
  EXPECT_EQ(live.back().end().final_state(), ttsd::v1::JOB_STATE_SUCCEEDED);
  ExpectGapFree(live, 1);
  int progress = 0;
  for (const auto& e : live) progress += e.has_progress();
  EXPECT_EQ(progress, 60);
}

// A watcher that stops reading: its stream's flow-control window fills, its queue overflows and is
// dropped; the job runs on regardless, and when the watcher reads again it gets every event, in order,
// from the store.
TEST_F(DaemonTest, ASlowWatcherDoesNotHoldUpTrainingAndStillGetsEveryEvent) {
  // ~2500 progress events: more than the socket buffers and the stream's window hold.
  uint64_t id = SubmitOk(Config(2500, 5000, "", /*samples=*/0));
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);  // keep the receive window at its 64 KiB default
  auto stub = ttsd::v1::TrainingService::NewStub(
      grpc::CreateCustomChannel(daemon_->addr(), grpc::InsecureChannelCredentials(), args));
  grpc::ClientContext ctx;
  ttsd::v1::WatchJobRequest req;
  req.set_job_id(id);
  req.set_follow(true);
  auto reader = stub->WatchJob(&ctx, req);
  Job job;
  ASSERT_TRUE(daemon_->WaitForState(id, ttsd::v1::JOB_STATE_SUCCEEDED, 300, &job)) << job.DebugString();
  EXPECT_THAT(daemon_->log(), HasSubstr("fell behind"));
  std::vector<JobEvent> got;
  JobEvent e;
  while (reader->Read(&e)) {
    if (!e.has_heartbeat()) got.push_back(e);
  }
  ASSERT_TRUE(reader->Finish().ok());
  ASSERT_EQ(got.size(), job.last_seq() + 1);
  ExpectGapFree(got, 1);
  EXPECT_EQ(got.back().end().final_state(), ttsd::v1::JOB_STATE_SUCCEEDED);
}

TEST_F(DaemonTest, StopCheckpointsThenResumeContinuesFromTheStopStep) {
  uint64_t id = SubmitOk(Config(3000, 1000));
  Job job;
  ASSERT_TRUE(daemon_->WaitFor(id, [&](const Job& j) { return Running(j); }, 120, &job)) << job.DebugString();
  ASSERT_TRUE(Command(&ttsd::v1::TrainingService::Stub::StopJob, id, &job).ok());
  EXPECT_EQ(job.state(), ttsd::v1::JOB_STATE_STOPPING);
  ASSERT_TRUE(daemon_->WaitForState(id, ttsd::v1::JOB_STATE_STOPPED, 60, &job)) << job.DebugString();
  std::vector<int64_t> before = LossSteps(id);
  ASSERT_FALSE(before.empty());
  int64_t stop_step = before.back();
  EXPECT_TRUE(std::filesystem::exists(job.job_dir() + "/checkpoints/ckpt-" + std::string(9 - std::to_string(stop_step).size(), '0') +
                                      std::to_string(stop_step) + ".pt"))
      << "no checkpoint at the stop step " << stop_step;
  // Resume a STOPPED job; a second resume is refused with the state named.
  ASSERT_TRUE(Command(&ttsd::v1::TrainingService::Stub::ResumeJob, id, &job).ok());
  grpc::Status again = Command(&ttsd::v1::TrainingService::Stub::ResumeJob, id);
  EXPECT_EQ(again.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  ASSERT_TRUE(daemon_->WaitFor(id, [&](const Job& j) { return j.state() == ttsd::v1::JOB_STATE_RUNNING && j.step() > stop_step + 5; },
                               120, &job));
  ASSERT_TRUE(Command(&ttsd::v1::TrainingService::Stub::CancelJob, id, &job).ok());
  ASSERT_TRUE(daemon_->WaitForState(id, ttsd::v1::JOB_STATE_CANCELLED, 60, &job));
  // The curve continues from the stop step: every step once, in order, no step lost.
  std::vector<int64_t> steps = LossSteps(id);
  ASSERT_GT(steps.size(), before.size());
  for (size_t i = 0; i < steps.size(); ++i) EXPECT_EQ(steps[i], static_cast<int64_t>(i) + 1);
  EXPECT_EQ(job.attempt(), 2u);
  EXPECT_EQ(job.restarts(), 0u);
}

TEST_F(DaemonTest, CancelKillsTheWorkersWholeProcessGroup) {
  uint64_t id = SubmitOk(Config(100000, 1000));
  Job job;
  ASSERT_TRUE(daemon_->WaitFor(id, [&](const Job& j) { return Running(j) && j.worker_pid() > 0; }, 120, &job));
  const pid_t group = static_cast<pid_t>(job.worker_pid());
  ASSERT_EQ(::kill(-group, 0), 0);
  ASSERT_TRUE(Command(&ttsd::v1::TrainingService::Stub::CancelJob, id, &job).ok());
  EXPECT_EQ(job.state(), ttsd::v1::JOB_STATE_CANCELLING);
  ASSERT_TRUE(daemon_->WaitForState(id, ttsd::v1::JOB_STATE_CANCELLED, 60, &job));
  EXPECT_EQ(job.reason(), "USER_CANCEL");
  EXPECT_EQ(::kill(-group, 0), -1);
  EXPECT_EQ(errno, ESRCH) << "processes of the worker's group survived the cancel";
  EXPECT_EQ(Command(&ttsd::v1::TrainingService::Stub::CancelJob, id).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
}

TEST_F(DaemonTest, KilledWorkerRestartsFromItsCheckpoint) {
  uint64_t id = SubmitOk(Config(200, 10));
  Job job;
  ASSERT_TRUE(daemon_->WaitFor(id, [&](const Job& j) { return j.state() == ttsd::v1::JOB_STATE_RUNNING && j.step() >= 25; },
                               120, &job));
  ASSERT_EQ(::kill(static_cast<pid_t>(job.worker_pid()), SIGKILL), 0);
  ASSERT_TRUE(daemon_->WaitForState(id, ttsd::v1::JOB_STATE_SUCCEEDED, 180, &job)) << job.DebugString();
  EXPECT_EQ(job.restarts(), 1u);
  EXPECT_EQ(job.attempt(), 2u);
  std::vector<int64_t> steps = LossSteps(id);
  ASSERT_EQ(steps.size(), 200u);  // the rows past the checkpoint from the killed attempt were archived
  for (size_t i = 0; i < steps.size(); ++i) ASSERT_EQ(steps[i], static_cast<int64_t>(i) + 1);
  bool saw_restart = false;
  for (const auto& e : daemon_->Events(id)) {
    saw_restart |= e.has_state() && e.state().state() == ttsd::v1::JOB_STATE_RESTARTING;
  }
  EXPECT_TRUE(saw_restart);
}

TEST_F(DaemonTest, WorkerCrashesBeyondMaxRestartsFailTheJobWithTheReason) {
  uint64_t id = SubmitOk(Config(100000, 1000, "  max_restarts: 0\n"));
  Job job;
  ASSERT_TRUE(daemon_->WaitFor(id, [&](const Job& j) { return Running(j) && j.worker_pid() > 0; }, 120, &job));
  ASSERT_EQ(::kill(static_cast<pid_t>(job.worker_pid()), SIGKILL), 0);
  ASSERT_TRUE(daemon_->WaitForState(id, ttsd::v1::JOB_STATE_FAILED, 60, &job));
  EXPECT_EQ(job.reason(), "MAX_RESTARTS");
  EXPECT_THAT(job.message(), HasSubstr("signal 9"));
  testing::CommandResult r = testing::RunCommand(Ctl("watch " + std::to_string(id)));
  EXPECT_EQ(r.code, 1) << r.output;  // a watch of a failed job ends non-zero
  EXPECT_THAT(r.output, HasSubstr("FAILED"));
}

TEST_F(DaemonTest, DaemonKilledMidTrainingRequeuesAndTheJobFinishes) {
  uint64_t id = SubmitOk(Config(300, 20));
  Job job;
  ASSERT_TRUE(daemon_->WaitFor(id, [&](const Job& j) { return j.state() == ttsd::v1::JOB_STATE_RUNNING && j.step() >= 45; },
                               120, &job));
  daemon_->Kill(SIGKILL);
  ASSERT_TRUE(daemon_->Start()) << daemon_->log();
  ASSERT_TRUE(daemon_->WaitForState(id, ttsd::v1::JOB_STATE_SUCCEEDED, 180, &job)) << job.DebugString();
  EXPECT_EQ(job.restarts(), 0u) << "a daemon restart used the job's restart budget";
  EXPECT_GE(job.attempt(), 2u);
  std::vector<int64_t> steps = LossSteps(id);
  ASSERT_EQ(steps.size(), 300u);
  for (size_t i = 0; i < steps.size(); ++i) ASSERT_EQ(steps[i], static_cast<int64_t>(i) + 1);
  // Its whole history survived: one gap-free event sequence across both daemons.
  ExpectGapFree(daemon_->Events(id), 1);
}

// `ttsctl watch` across a daemon kill -9 and restart: it reconnects with its last seq and exits 0 when
// the job succeeds.
TEST_F(DaemonTest, TtsctlWatchReconnectsAcrossADaemonRestart) {
  uint64_t id = SubmitOk(Config(400, 20));
  std::string out = tmp_.Join("watch.txt");
  std::string cmd = Ctl("watch " + std::to_string(id) + " --stall-timeout 5") + " > " + out + " 2>&1; echo $? >> " + out;
  std::thread watcher([&] { testing::RunCommand(cmd); });
  Job job;
  ASSERT_TRUE(daemon_->WaitFor(id, [&](const Job& j) { return j.state() == ttsd::v1::JOB_STATE_RUNNING && j.step() >= 60; },
                               120, &job));
  daemon_->Kill(SIGKILL);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  ASSERT_TRUE(daemon_->Start()) << daemon_->log();
  watcher.join();
  testing::CommandResult r = testing::RunCommand("cat " + out);
  EXPECT_THAT(r.output, HasSubstr("reconnecting from event"));
  EXPECT_THAT(r.output, HasSubstr("job " + std::to_string(id) + " SUCCEEDED"));
  EXPECT_THAT(r.output, ::testing::EndsWith("0\n"));
}

TEST_F(DaemonTest, DuplicateRequestIdQueuesOneJob) {
  std::string config = Config(5);
  Job a, b;
  ASSERT_TRUE(daemon_->Submit(config, &a, "req-42").ok());
  ASSERT_TRUE(daemon_->Submit(config, &b, "req-42").ok());
  EXPECT_EQ(a.id(), b.id());
  grpc::ClientContext ctx;
  ttsd::v1::ListJobsRequest req;
  ttsd::v1::ListJobsResponse resp;
  ASSERT_TRUE(daemon_->stub().ListJobs(&ctx, req, &resp).ok());
  EXPECT_EQ(resp.jobs_size(), 1);
}

TEST_F(DaemonTest, InvalidConfigIsRefusedWithEveryFieldErrorAndNothingQueued) {
  std::string bad = testing::WriteConfig(tmp_.path(), "data:\n  path: data\nmodel:\n  preset: tiny\ntraining:\n"
                                                      "  max_steps: -3\n  optimiser: sgd\nbatch:\n  size: nope\n");
  grpc::Status st = daemon_->Submit(bad, nullptr);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(st.error_message(), HasSubstr("training.optimiser"));
  EXPECT_THAT(st.error_message(), HasSubstr("batch.size"));
  testing::CommandResult r = testing::RunCommand(Ctl("submit " + bad));
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_THAT(r.output, HasSubstr("nothing was queued"));
  EXPECT_THAT(r.output, HasSubstr(":7:"));  // line:col of the unknown key
  r = testing::RunCommand(Ctl("list"));
  EXPECT_THAT(r.output, HasSubstr("no jobs"));
}

TEST_F(DaemonTest, QueuedJobsRunByPriorityThenOrderAndReportTheirPosition) {
  uint64_t first = SubmitOk(Config(100000, 1000));
  ASSERT_TRUE(daemon_->WaitForState(first, ttsd::v1::JOB_STATE_RUNNING, 120));
  uint64_t low = SubmitOk(Config(5));
  std::string urgent_cfg = Config(5);
  {
    testing::CommandResult r = testing::RunCommand(Ctl("--output json submit --priority 5 " + urgent_cfg));
    ASSERT_EQ(r.code, 0) << r.output;
  }
  Job low_job = daemon_->GetJob(low);
  Job urgent_job = daemon_->GetJob(low + 1);
  EXPECT_EQ(urgent_job.queue_position(), 1u);
  EXPECT_EQ(low_job.queue_position(), 2u);
  ASSERT_TRUE(Command(&ttsd::v1::TrainingService::Stub::CancelJob, first).ok());
  ASSERT_TRUE(daemon_->WaitForState(low, ttsd::v1::JOB_STATE_SUCCEEDED, 120));
  urgent_job = daemon_->GetJob(low + 1);
  low_job = daemon_->GetJob(low);
  EXPECT_EQ(urgent_job.state(), ttsd::v1::JOB_STATE_SUCCEEDED);
  EXPECT_LT(urgent_job.updated().seconds() * 1000 + urgent_job.updated().nanos() / 1000000,
            low_job.updated().seconds() * 1000 + low_job.updated().nanos() / 1000000);
}

// examples/python_client.py with Debian's python3-grpcio and the generated stubs: submit, follow to the
// end, fetch the newest checkpoint with its sha256 checked.
TEST_F(DaemonTest, PythonClientSubmitsWatchesAndFetchesTheCheckpoint) {
  std::string config = Config(20);
  testing::CommandResult r = testing::RunCommand("PYTHONPATH=" TTSD_PYTHON_PROTO_DIR " /usr/bin/python3 " TTSD_SOURCE_DIR
                                                 "/examples/python_client.py --addr " + daemon_->addr() + " " + config +
                                                 " --checkpoint-out " + tmp_.Join("newest.pt"));
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("job 1 queued"));
  EXPECT_THAT(r.output, HasSubstr("step 20/20"));
  EXPECT_THAT(r.output, HasSubstr("job 1 SUCCEEDED"));
  EXPECT_THAT(r.output, HasSubstr("sha256 ok"));
  EXPECT_GT(std::filesystem::file_size(tmp_.Join("newest.pt")), 10000u);
}

// Server reflection is on: a generic client (grpcurl's way) lists the daemon's services.
TEST_F(DaemonTest, ReflectionListsTheServices) {
  auto channel = grpc::CreateChannel(daemon_->addr(), grpc::InsecureChannelCredentials());
  auto stub = grpc::reflection::v1alpha::ServerReflection::NewStub(channel);
  grpc::ClientContext ctx;
  auto stream = stub->ServerReflectionInfo(&ctx);
  grpc::reflection::v1alpha::ServerReflectionRequest req;
  req.set_list_services("*");
  ASSERT_TRUE(stream->Write(req));
  stream->WritesDone();
  grpc::reflection::v1alpha::ServerReflectionResponse resp;
  ASSERT_TRUE(stream->Read(&resp));
  std::set<std::string> names;
  for (const auto& s : resp.list_services_response().service()) names.insert(s.name());
  EXPECT_TRUE(names.count("ttsd.v1.TrainingService")) << ::testing::PrintToString(names);
  EXPECT_TRUE(names.count("grpc.health.v1.Health"));
  while (stream->Read(&resp)) {
  }
  EXPECT_TRUE(stream->Finish().ok());
}

TEST(DaemonSecurityTest, TcpWithoutATokenIsRefusedAndTheTokenIsChecked) {
  testing::TempDir tmp;
  testing::CommandResult r = testing::RunCommand(std::string(TTSD_BINARY) + " serve --data-dir " + tmp.Join("dd") +
                                                 " --listen tcp://127.0.0.1:0");
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_THAT(r.output, HasSubstr("--token-file"));

  testing::WriteTextFile(tmp.Join("token"), "s3cret-token\n");
  int port = testing::FreeTcpPort();
  ASSERT_GT(port, 0);
  std::string addr = "tcp://127.0.0.1:" + std::to_string(port);
  testing::TestDaemon d(TTSD_BINARY, tmp.Join("dd2"), {"--listen", addr, "--token-file", tmp.Join("token")});
  ASSERT_TRUE(d.Start()) << d.log();  // health answers without a token
  r = testing::RunCommand(std::string(TTSCTL_BINARY) + " --addr " + addr + " list");
  EXPECT_EQ(r.code, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr("needs a token"));
  testing::WriteTextFile(tmp.Join("wrong"), "s3cret-tokeN\n");
  r = testing::RunCommand(std::string(TTSCTL_BINARY) + " --addr " + addr + " --token-file " + tmp.Join("wrong") + " list");
  EXPECT_THAT(r.output, HasSubstr("wrong token"));
  r = testing::RunCommand("TTSD_TOKEN_FILE=" + tmp.Join("token") + " " + TTSCTL_BINARY + " --addr " + addr + " list");
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("no jobs"));
}

// The authorisation matrix over TCP: every method of the service (taken from its descriptor, so a
// method added later is covered too) with no token, a wrong token and the right one. The first two are
// UNAUTHENTICATED before the handler does anything; the right one gets past the check.
TEST(DaemonSecurityTest, EveryMethodRefusesAMissingOrWrongTokenAndAcceptsTheRightOne) {
  testing::TempDir tmp;
  testing::WriteTextFile(tmp.Join("token"), "matrix-token\n");
  int port = testing::FreeTcpPort();
  ASSERT_GT(port, 0);
  const std::string target = "127.0.0.1:" + std::to_string(port);
  testing::TestDaemon d(TTSD_BINARY, tmp.Join("dd"), {"--listen", "tcp://" + target, "--token-file", tmp.Join("token")});
  ASSERT_TRUE(d.Start()) << d.log();
  const auto* service =
      google::protobuf::DescriptorPool::generated_pool()->FindServiceByName("ttsd.v1.TrainingService");
  ASSERT_NE(service, nullptr);
  ASSERT_GE(service->method_count(), 13);
  grpc::GenericStub generic(grpc::CreateChannel(target, grpc::InsecureChannelCredentials()));
  auto call = [&](const std::string& method, const std::string& token) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    if (!token.empty()) ctx.AddMetadata("authorization", "Bearer " + token);
    grpc::Slice empty("", 0);
    grpc::ByteBuffer request(&empty, 1), response;  // an empty message: every field at its default
    std::promise<grpc::Status> done;
    generic.UnaryCall(&ctx, method, grpc::StubOptions(), &request, &response,
                      [&](grpc::Status st) { done.set_value(std::move(st)); });
    return done.get_future().get();
  };
  for (int i = 0; i < service->method_count(); ++i) {
    const std::string method = "/ttsd.v1.TrainingService/" + service->method(i)->name();
    EXPECT_EQ(call(method, "").error_code(), grpc::StatusCode::UNAUTHENTICATED) << method << " without a token";
    grpc::Status wrong = call(method, "matrix-tokeN");
    EXPECT_EQ(wrong.error_code(), grpc::StatusCode::UNAUTHENTICATED) << method << " with a wrong token";
    EXPECT_THAT(wrong.error_message(), HasSubstr("wrong token")) << method;
    grpc::Status right = call(method, "matrix-token");
    EXPECT_NE(right.error_code(), grpc::StatusCode::UNAUTHENTICATED) << method << ": " << right.error_message();
  }
}

// SIGHUP re-reads the token file: the old token stops working, on new calls and on a watch stream that
// was opened with it; the new one works.
TEST(DaemonSecurityTest, SighupRotatesTheTokenAndClosesStreamsOpenedWithTheOldOne) {
  testing::TempDir tmp;
  testing::MakeSmallCorpus(tmp.Join("data"), 12);
  const std::string config = testing::WriteConfig(
      tmp.path(), "threads: 1\ndata:\n  path: data\n  validation:\n    count: 2\ntext:\n  mode: characters\nbatch:\n"
                  "  size: 2\nmodel:\n  preset: tiny\ntraining:\n  max_steps: 100000\n");
  testing::WriteTextFile(tmp.Join("token"), "old-token\n");
  int port = testing::FreeTcpPort();
  ASSERT_GT(port, 0);
  const std::string target = "127.0.0.1:" + std::to_string(port), addr = "tcp://" + target;
  testing::TestDaemon d(TTSD_BINARY, tmp.Join("dd"), {"--listen", addr, "--token-file", tmp.Join("token")});
  ASSERT_TRUE(d.Start()) << d.log();
  const std::string ctl = std::string(TTSCTL_BINARY) + " --addr " + addr + " --token-file ";
  testing::CommandResult r = testing::RunCommand(ctl + tmp.Join("token") + " submit " + config);
  ASSERT_EQ(r.code, 0) << r.output;

  auto stub = ttsd::v1::TrainingService::NewStub(grpc::CreateChannel(target, grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  ctx.AddMetadata("authorization", "Bearer old-token");
  ttsd::v1::WatchJobRequest req;
  req.set_job_id(1);
  req.set_follow(true);
  auto stream = stub->WatchJob(&ctx, req);
  ttsd::v1::JobEvent e;
  ASSERT_TRUE(stream->Read(&e));  // the stream is open and authorised

  testing::WriteTextFile(tmp.Join("new-token"), "new-token\n");
  std::filesystem::rename(tmp.Join("new-token"), tmp.Join("token"));
  ASSERT_EQ(::kill(d.pid(), SIGHUP), 0);
  while (stream->Read(&e)) {
  }
  grpc::Status st = stream->Finish();
  EXPECT_EQ(st.error_code(), grpc::StatusCode::UNAUTHENTICATED) << st.error_message();
  EXPECT_THAT(st.error_message(), HasSubstr("revoked"));

  testing::WriteTextFile(tmp.Join("old"), "old-token\n");
  r = testing::RunCommand(ctl + tmp.Join("old") + " list");
  EXPECT_THAT(r.output, HasSubstr("wrong token"));
  r = testing::RunCommand(ctl + tmp.Join("token") + " cancel 1");
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_THAT(d.log(), HasSubstr("SIGHUP: token re-read"));
}

TEST(DaemonSecurityTest, TlsWithATokenServesAClientThatTrustsTheCertificate) {
  testing::TempDir tmp;
  testing::CommandResult gen = testing::RunCommand(
      "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost -addext subjectAltName=DNS:localhost "
      "-keyout " + tmp.Join("key.pem") + " -out " + tmp.Join("cert.pem"));
  ASSERT_EQ(gen.code, 0) << gen.output;
  testing::WriteTextFile(tmp.Join("token"), "tls-token\n");
  int port = testing::FreeTcpPort();
  ASSERT_GT(port, 0);
  std::string addr = "tcp://localhost:" + std::to_string(port);
  testing::TestDaemon d(TTSD_BINARY, tmp.Join("dd"), {"--listen", addr, "--token-file", tmp.Join("token"), "--tls-cert",
                                                      tmp.Join("cert.pem"), "--tls-key", tmp.Join("key.pem")});
  ASSERT_TRUE(d.Start(/*wait=*/false));  // the plaintext health probe cannot talk TLS: ttsctl waits below
  std::string ctl = std::string(TTSCTL_BINARY) + " --addr " + addr + " --token-file " + tmp.Join("token");
  testing::CommandResult r;
  for (int i = 0; i < 50; ++i) {
    r = testing::RunCommand(ctl + " --tls-ca " + tmp.Join("cert.pem") + " list");
    if (r.code == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  EXPECT_EQ(r.code, 0) << r.output << d.log();
  EXPECT_THAT(r.output, HasSubstr("no jobs"));
  r = testing::RunCommand(ctl + " list");  // plaintext to a TLS port
  EXPECT_NE(r.code, 0);
}

// mTLS (--tls-client-ca): a client certificate signed by that CA gets in; no certificate, or one signed
// by another CA, fails the handshake. Every certificate is made here with openssl.
TEST(DaemonSecurityTest, MutualTlsAcceptsOnlyClientsWithACertificateFromTheClientCa) {
  testing::TempDir tmp;
  auto sh = [&](const std::string& cmd) {
    testing::CommandResult r = testing::RunCommand("cd " + tmp.path() + " && " + cmd);
    EXPECT_EQ(r.code, 0) << cmd << "\n" << r.output;
  };
  const std::string key = "openssl req -newkey rsa:2048 -nodes -subj ";
  sh("openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=test-ca -keyout ca.key -out ca.pem");
  sh("openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=rogue-ca -keyout rogue.key -out rogue.pem");
  sh(key + "/CN=localhost -keyout server.key -out server.csr");
  sh("printf 'subjectAltName=DNS:localhost' > san.ext && openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key "
     "-CAcreateserial -days 2 -extfile san.ext -out server.pem");
  sh(key + "/CN=alice -keyout alice.key -out alice.csr");
  sh("openssl x509 -req -in alice.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -out alice.pem");
  sh(key + "/CN=mallory -keyout mallory.key -out mallory.csr");
  sh("openssl x509 -req -in mallory.csr -CA rogue.pem -CAkey rogue.key -CAcreateserial -days 2 -out mallory.pem");
  testing::WriteTextFile(tmp.Join("token"), "mtls-token\n");
  int port = testing::FreeTcpPort();
  ASSERT_GT(port, 0);
  const std::string addr = "tcp://localhost:" + std::to_string(port);
  testing::TestDaemon d(TTSD_BINARY, tmp.Join("dd"),
                        {"--listen", addr, "--token-file", tmp.Join("token"), "--tls-cert", tmp.Join("server.pem"),
                         "--tls-key", tmp.Join("server.key"), "--tls-client-ca", tmp.Join("ca.pem")});
  ASSERT_TRUE(d.Start(/*wait=*/false));
  const std::string ctl = std::string(TTSCTL_BINARY) + " --addr " + addr + " --token-file " + tmp.Join("token") +
                          " --tls-ca " + tmp.Join("ca.pem");
  const std::string alice = " --tls-cert " + tmp.Join("alice.pem") + " --tls-key " + tmp.Join("alice.key");
  testing::CommandResult r;
  for (int i = 0; i < 50; ++i) {
    r = testing::RunCommand(ctl + alice + " list");
    if (r.code == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  EXPECT_EQ(r.code, 0) << r.output << d.log();
  EXPECT_THAT(r.output, HasSubstr("no jobs"));
  r = testing::RunCommand(ctl + " list");  // no client certificate
  EXPECT_NE(r.code, 0) << r.output;
  r = testing::RunCommand(ctl + " --tls-cert " + tmp.Join("mallory.pem") + " --tls-key " + tmp.Join("mallory.key") + " list");
  EXPECT_NE(r.code, 0) << r.output;
  EXPECT_THAT(r.output, ::testing::Not(HasSubstr("no jobs")));
}

// A graceful shutdown says so first: a health Watch stream sees SERVING, then NOT_SERVING, then its end.
TEST(DaemonShutdownTest, HealthTurnsNotServingBeforeTheDaemonGoesAway) {
  testing::TempDir tmp;
  testing::TestDaemon d(TTSD_BINARY, tmp.Join("dd"));
  ASSERT_TRUE(d.Start()) << d.log();
  auto health = grpc::health::v1::Health::NewStub(grpc::CreateChannel(d.addr(), grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  grpc::health::v1::HealthCheckRequest req;
  auto stream = health->Watch(&ctx, req);
  grpc::health::v1::HealthCheckResponse resp;
  ASSERT_TRUE(stream->Read(&resp));
  EXPECT_EQ(resp.status(), grpc::health::v1::HealthCheckResponse::SERVING);
  std::thread stopper([&] { d.Kill(SIGTERM); });
  std::vector<int> seen;
  while (stream->Read(&resp)) seen.push_back(resp.status());
  stopper.join();
  EXPECT_EQ(seen, std::vector<int>{grpc::health::v1::HealthCheckResponse::NOT_SERVING});
}

// --allowed-roots: a config whose dataset lies elsewhere (here reached through a symlink inside the
// root) is refused at submit with PERMISSION_DENIED, and nothing is queued.
TEST(DaemonSecurityTest, AConfigReachingOutsideTheAllowedRootsIsRefused) {
  testing::TempDir tmp;
  testing::MakeSmallCorpus(tmp.Join("outside/data"), 4);
  std::filesystem::create_directories(tmp.Join("inside"));
  std::filesystem::create_directory_symlink(tmp.Join("outside/data"), tmp.Join("inside/data"));
  testing::TestDaemon d(TTSD_BINARY, tmp.Join("dd"), {"--allowed-roots", tmp.Join("inside") + "," + tmp.Join("dd")});
  ASSERT_TRUE(d.Start()) << d.log();
  const std::string config = testing::WriteConfig(tmp.Join("inside"), "data:\n  path: data\nmodel:\n  preset: tiny\n");
  Job job;
  grpc::Status st = d.Submit(config, &job);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(st.error_message(), HasSubstr("data.path: " + tmp.Join("inside/data") + " (resolves to " +
                                            tmp.Join("outside/data") + ") is outside the daemon's allowed roots"));
  grpc::ClientContext ctx;
  ttsd::v1::ListJobsRequest req;
  ttsd::v1::ListJobsResponse resp;
  ASSERT_TRUE(d.stub().ListJobs(&ctx, req, &resp).ok());
  EXPECT_EQ(resp.jobs_size(), 0);
}

// Hostile sizes and shapes are refused before any work: a config over 1 MiB, a request over 2 MiB (by
// gRPC, before parsing), and YAML nested deeper than a config could need.
TEST(DaemonSecurityTest, HugeRequestsAndDeeplyNestedYamlAreRefused) {
  testing::TempDir tmp;
  testing::TestDaemon d(TTSD_BINARY, tmp.Join("dd"));
  ASSERT_TRUE(d.Start()) << d.log();
  auto submit = [&](const std::string& yaml) {
    grpc::ClientContext ctx;
    ttsd::v1::SubmitJobRequest req;
    req.set_config_yaml(yaml);
    req.set_config_dir(tmp.path());
    ttsd::v1::SubmitJobResponse resp;
    return d.stub().SubmitJob(&ctx, req, &resp);
  };
  grpc::Status st = submit("# " + std::string(1500000, 'x') + "\n");
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(st.error_message(), HasSubstr("the limit is 1048576"));
  st = submit("# " + std::string(3000000, 'x') + "\n");
  EXPECT_EQ(st.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << st.error_message();
  st = submit("data: " + std::string(100000, '[') + std::string(100000, ']') + "\n");
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(st.error_message(), HasSubstr("1:39: nested more than 32 levels deep"));
  grpc::ClientContext ctx;
  ttsd::v1::ListJobsRequest req;
  ttsd::v1::ListJobsResponse resp;
  ASSERT_TRUE(d.stub().ListJobs(&ctx, req, &resp).ok()) << "the daemon stopped answering";
  EXPECT_EQ(resp.jobs_size(), 0);
}

TEST(DaemonSecurityTest, SocketIsOwnerOnlyAndOneDaemonPerDataDir) {
  testing::TempDir tmp;
  testing::TestDaemon d(TTSD_BINARY, tmp.Join("dd"));
  ASSERT_TRUE(d.Start()) << d.log();
  auto perms = std::filesystem::status(tmp.Join("dd/ttsd.sock")).permissions();
  EXPECT_EQ(perms & std::filesystem::perms::all, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  testing::CommandResult r = testing::RunCommand(std::string(TTSD_BINARY) + " serve --data-dir " + tmp.Join("dd"));
  EXPECT_NE(r.code, 0);
  EXPECT_THAT(r.output, HasSubstr("another ttsd serve is using"));
}

}  // namespace
}  // namespace ttsd
