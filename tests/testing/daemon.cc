#include "tests/testing/daemon.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "grpc/health/v1/health.grpc.pb.h"

namespace ttsd::testing {
namespace {

using Clock = std::chrono::steady_clock;

double Since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

}  // namespace

int FreeTcpPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(a);
  int port = 0;
  if (fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
    port = ntohs(a.sin_port);
  }
  if (fd >= 0) ::close(fd);
  return port;
}

TestDaemon::TestDaemon(std::string binary, std::string data_dir, std::vector<std::string> extra)
    : binary_(std::move(binary)), data_dir_(std::move(data_dir)), extra_(std::move(extra)) {
  std::filesystem::create_directories(data_dir_);
}

TestDaemon::~TestDaemon() {
  if (pid_ > 0) Kill(SIGKILL);
}

bool TestDaemon::Start(bool wait) {
  std::vector<std::string> args = {binary_, "serve", "--data-dir", data_dir_, "--heartbeat", "1", "--cancel-grace", "5"};
  // A test's data lives beside its data dir, in the test's temp folder, not under $HOME.
  if (std::find(extra_.begin(), extra_.end(), "--allowed-roots") == extra_.end()) {
    args.insert(args.end(), {"--allowed-roots", std::filesystem::path(data_dir_).parent_path().string()});
  }
  args.insert(args.end(), extra_.begin(), extra_.end());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::string log = data_dir_ + "/daemon.log";
  pid_ = ::fork();
  if (pid_ == 0) {
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  std::string target = addr().rfind("tcp://", 0) == 0 ? addr().substr(6) : addr();
  grpc::ChannelArguments ch_args;  // retry the connection quickly while the daemon starts
  ch_args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 50);
  ch_args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 50);
  ch_args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 200);
  channel_ = grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), ch_args);
  stub_ = ttsd::v1::TrainingService::NewStub(channel_);
  auto start = Clock::now();
  while (wait && Since(start) < 60) {
    int status;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return false;
    }
    // A fresh channel each try: a channel that failed to connect waits out gRPC's reconnect backoff.
    auto health = grpc::health::v1::Health::NewStub(grpc::CreateChannel(target, grpc::InsecureChannelCredentials()));
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(500));
    grpc::health::v1::HealthCheckRequest req;
    grpc::health::v1::HealthCheckResponse resp;
    if (health->Check(&ctx, req, &resp).ok()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return !wait;
}

void TestDaemon::Kill(int sig) {
  if (pid_ <= 0) return;
  ::kill(pid_, sig);
  int status;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

std::string TestDaemon::addr() const {
  for (size_t i = 0; i + 1 < extra_.size(); ++i) {
    if (extra_[i] == "--listen") return extra_[i + 1];
  }
  return "unix://" + data_dir_ + "/ttsd.sock";
}

std::string TestDaemon::log() const {
  std::ifstream in(data_dir_ + "/daemon.log");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

ttsd::v1::Job TestDaemon::GetJob(uint64_t id) {
  grpc::ClientContext ctx;
  ttsd::v1::JobRef ref;
  ref.set_job_id(id);
  ttsd::v1::Job job;
  grpc::Status st = stub_->GetJob(&ctx, ref, &job);
  EXPECT_TRUE(st.ok()) << st.error_message();
  return job;
}

bool TestDaemon::WaitFor(uint64_t id, const std::function<bool(const ttsd::v1::Job&)>& pred, double timeout_s,
                         ttsd::v1::Job* last) {
  auto start = Clock::now();
  while (Since(start) < timeout_s) {
    grpc::ClientContext ctx;
    ttsd::v1::JobRef ref;
    ref.set_job_id(id);
    ttsd::v1::Job job;
    if (stub_->GetJob(&ctx, ref, &job).ok()) {
      if (last) *last = job;
      if (pred(job)) return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

bool TestDaemon::WaitForState(uint64_t id, ttsd::v1::JobState state, double timeout_s, ttsd::v1::Job* last) {
  return WaitFor(id, [state](const ttsd::v1::Job& j) { return j.state() == state; }, timeout_s, last);
}

grpc::Status TestDaemon::Submit(const std::string& config_path, ttsd::v1::Job* job, const std::string& request_id) {
  std::ifstream in(config_path);
  std::stringstream text;
  text << in.rdbuf();
  ttsd::v1::SubmitJobRequest req;
  req.set_config_yaml(text.str());
  req.set_config_dir(std::filesystem::path(config_path).parent_path().string());
  req.set_request_id(request_id);
  ttsd::v1::SubmitJobResponse resp;
  grpc::ClientContext ctx;
  grpc::Status st = stub_->SubmitJob(&ctx, req, &resp);
  if (job) *job = resp.job();
  return st;
}

std::vector<ttsd::v1::JobEvent> TestDaemon::Events(uint64_t id, uint64_t after_seq, bool follow) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(120));
  ttsd::v1::WatchJobRequest req;
  req.set_job_id(id);
  req.set_after_seq(after_seq);
  req.set_follow(follow);
  auto reader = stub_->WatchJob(&ctx, req);
  std::vector<ttsd::v1::JobEvent> out;
  ttsd::v1::JobEvent e;
  while (reader->Read(&e)) {
    if (!e.has_heartbeat()) out.push_back(e);
  }
  grpc::Status st = reader->Finish();
  EXPECT_TRUE(st.ok()) << st.error_message();
  return out;
}

}  // namespace ttsd::testing
