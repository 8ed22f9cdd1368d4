#include "server/worker/event_pipe.h"

#include <gtest/gtest.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "server/worker/worker_sink.h"
#include "tests/testing/command.h"
#include "tests/testing/temp_dir.h"

namespace ttsd::server::worker {
namespace {

struct Pipe {
  Pipe() { EXPECT_EQ(::pipe(fds), 0); }
  ~Pipe() {
    CloseWrite();
    if (fds[0] >= 0) ::close(fds[0]);
  }
  void CloseWrite() {
    if (fds[1] >= 0) ::close(fds[1]);
    fds[1] = -1;
  }
  int fds[2] = {-1, -1};
};

ttsd::v1::WorkerEvent Parse(const std::optional<std::string>& bytes) {
  ttsd::v1::WorkerEvent ev;
  EXPECT_TRUE(bytes.has_value());
  if (bytes) {
    EXPECT_TRUE(ev.ParseFromString(*bytes));
  }
  return ev;
}

TEST(WorkerSinkTest, EveryTrainerEventArrivesInOrderAsAWorkerEvent) {
  Pipe p;
  const std::string big(300000, 'x');  // bigger than a pipe buffer: written in pieces, read whole
  std::thread worker([&] {  // the worker side writes while this side reads, as across processes
    WorkerSink sink(p.fds[1], nullptr);
    core::train::StepEvent step;
    step.step = 20;
    step.total_steps = 100;
    step.epoch = 1;
    step.values = {{"train/loss", 1.5}, {"lr", 1e-3}, {"grad_norm", 2.0}};
    step.eta_seconds = 12;
    sink.OnStep(step);
    core::train::ValidationEvent v;
    v.step = 20;
    v.epoch = 1;
    v.values = {{"val/loss", 0.75}};
    v.is_best = true;
    sink.OnValidation(v);
    sink.OnCheckpoint({20, "/jobs/1/checkpoints/ckpt-000000020.pt", "abc", 1000, true});
    sink.OnLog("hello");
    sink.OnLog(big);
    p.CloseWrite();
  });

  DelimitedReader reader(p.fds[0]);
  auto progress = Parse(*reader.Next());
  ASSERT_TRUE(progress.has_progress());
  EXPECT_EQ(progress.progress().step(), 20);
  EXPECT_EQ(progress.progress().total_steps(), 100);
  EXPECT_DOUBLE_EQ(progress.progress().losses().at("train/loss"), 1.5);
  EXPECT_DOUBLE_EQ(progress.progress().learning_rate(), 1e-3);
  EXPECT_DOUBLE_EQ(progress.progress().grad_norm(), 2.0);
  EXPECT_EQ(progress.progress().losses().count("lr"), 0u);
  auto validation = Parse(*reader.Next());
  ASSERT_TRUE(validation.has_validation());
  EXPECT_TRUE(validation.validation().is_best());
  EXPECT_DOUBLE_EQ(validation.validation().metrics().at("val/loss"), 0.75);
  auto ckpt = Parse(*reader.Next());
  ASSERT_TRUE(ckpt.has_checkpoint());
  EXPECT_EQ(ckpt.checkpoint().sha256(), "abc");
  EXPECT_EQ(Parse(*reader.Next()).log().text(), "hello");
  EXPECT_EQ(Parse(*reader.Next()).log().text(), big);
  auto end = reader.Next();
  ASSERT_TRUE(end.ok());
  EXPECT_FALSE(end->has_value());  // clean end of stream
  worker.join();
}

// Found by fuzz/worker_pipe_fuzzer: protobuf will not parse a string field that is not UTF-8, so a
// Latin-1 byte in a log line (a file name, a transcript) made the daemon drop the whole event.
TEST(WorkerSinkTest, ALineThatIsNotUtf8ArrivesRepaired) {
  Pipe p;
  {
    WorkerSink sink(p.fds[1], nullptr);
    sink.OnLog("caf\xe9 ok \xc3\xa9");  // Latin-1 e-acute, then a real UTF-8 one
  }
  p.CloseWrite();
  DelimitedReader reader(p.fds[0]);
  auto next = reader.Next();
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(Parse(*next).log().text(), "caf\xef\xbf\xbd ok \xc3\xa9");
}

TEST(DelimitedReaderTest, ATornMessageIsDataLossNotAnEvent) {
  Pipe p;
  ttsd::v1::WorkerEvent ev;
  ev.mutable_log()->set_text("a line that will be cut");
  ASSERT_TRUE(WriteDelimited(p.fds[1], ev).ok());
  std::string whole;
  ASSERT_TRUE(ev.SerializeToString(&whole));
  const char header = static_cast<char>(whole.size());
  ASSERT_EQ(::write(p.fds[1], &header, 1), 1);
  ASSERT_EQ(::write(p.fds[1], whole.data(), 5), 5);  // the worker died mid-write
  p.CloseWrite();
  DelimitedReader reader(p.fds[0]);
  EXPECT_EQ(Parse(*reader.Next()).log().text(), "a line that will be cut");
  auto torn = reader.Next();
  ASSERT_FALSE(torn.ok());
  EXPECT_EQ(torn.status().code(), absl::StatusCode::kDataLoss);
}

TEST(WorkerSinkTest, KeepsGoingWhenTheDaemonIsGone) {
  ::signal(SIGPIPE, SIG_IGN);
  Pipe p;
  ::close(p.fds[0]);
  p.fds[0] = -1;
  WorkerSink sink(p.fds[1], nullptr);
  sink.OnLog("nobody listens");  // EPIPE: no crash, no exception
  sink.OnLog("still fine");
  ttsd::v1::WorkerEvent ev;
  EXPECT_EQ(WriteDelimited(p.fds[1], ev).code(), absl::StatusCode::kUnavailable);
}

// The real `ttsd worker` on a tiny model, its event fd pointed at a file: the daemon's view of a job.
TEST(TtsdWorkerTest, ReportsStartProgressCheckpointsAndFinishOnTheEventFd) {
  testing::TempDir tmp;
  testing::MakeSmallCorpus(tmp.Join("data"), 8);
  std::string cfg = testing::WriteConfig(
      tmp.path(), "data:\n  path: data\n  cache_dir: cache\n  validation:\n    count: 2\nbatch:\n  size: 2\n"
                  "model:\n  preset: tiny\ntraining:\n  max_steps: 6\n  log_interval: 2\n"
                  "validation:\n  interval_steps: 3\ncheckpoint:\n  interval_steps: 3\n");
  auto r = testing::RunCommand(std::string(TTSD_BINARY) + " worker --threads 1 --config " + cfg + " --output-dir " +
                               tmp.Join("job") + " --events-fd 3 3>" + tmp.Join("events.bin"));
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_EQ(r.output.find("step 2/6"), std::string::npos) << "a worker prints nothing; events go to the fd";

  int fd = ::open(tmp.Join("events.bin").c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  DelimitedReader reader(fd);
  std::vector<ttsd::v1::WorkerEvent> events;
  for (;;) {
    auto next = reader.Next();
    ASSERT_TRUE(next.ok()) << next.status();
    if (!next->has_value()) break;
    events.push_back(Parse(*next));
  }
  ::close(fd);
  ASSERT_GE(events.size(), 6u);
  EXPECT_TRUE(events.front().has_started());
  ASSERT_TRUE(events.back().has_finished());
  EXPECT_EQ(events.back().finished().outcome(), ttsd::v1::WorkerFinished::OUTCOME_COMPLETED);
  EXPECT_EQ(events.back().finished().step(), 6);
  std::vector<int64_t> progress_steps, checkpoint_steps;
  int validations = 0;
  for (const auto& e : events) {
    if (e.has_progress()) progress_steps.push_back(e.progress().step());
    if (e.has_checkpoint()) checkpoint_steps.push_back(e.checkpoint().step());
    validations += e.has_validation();
  }
  EXPECT_EQ(progress_steps, (std::vector<int64_t>{2, 4, 6}));
  EXPECT_EQ(checkpoint_steps.back(), 6);
  EXPECT_EQ(validations, 2);  // steps 3 and 6
  // The job folder holds what a standalone run folder holds.
  for (const char* f : {"train.log", "metrics.jsonl", "config.yaml", "checkpoints/latest"}) {
    EXPECT_TRUE(std::filesystem::exists(tmp.Join(std::string("job/") + f))) << f;
  }
}

}  // namespace
}  // namespace ttsd::server::worker
