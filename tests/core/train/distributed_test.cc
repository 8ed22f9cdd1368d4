// Collectives on real c10d: two ranks (threads of this process, each its own TCPStore client and Gloo
// group) rendezvous on loopback, as two worker processes would.
#include "core/train/distributed.h"
#include "core/train/gradient_reducer.h"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <thread>

namespace ttsd::core::train {
namespace {

using ::testing::HasSubstr;

// A port nobody listens on now (the kernel's pick for an ephemeral bind).
int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  socklen_t len = sizeof(a);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

DistributedEnv Rank(int rank, int world, int port) {
  DistributedEnv e;
  e.rank = rank;
  e.world_size = world;
  e.master_addr = "127.0.0.1";
  e.master_port = port;
  return e;
}

// Runs body(rank, collectives) on `world` ranks at once; each returns its tensors for the checks.
void OnRanks(int world, const std::function<void(int, Collectives&)>& body) {
  const int port = FreePort();
  std::vector<std::thread> threads;
  for (int r = 0; r < world; ++r) {
    threads.emplace_back([&, r] {
      auto c = Collectives::Join(Rank(r, world, port), "gloo", std::chrono::seconds(30));
      ASSERT_TRUE(c.ok()) << c.status();
      body(r, **c);
    });
  }
  for (auto& t : threads) t.join();
}

TEST(DistributedEnvTest, ReadsTorchrunAndSlurmAndRefusesHalfSets) {
  auto from = [](std::map<std::string, std::string> vars) {
    return ReadDistributedEnv([vars = std::move(vars)](const char* k) -> const char* {
      static thread_local std::string v;
      auto it = vars.find(k);
      if (it == vars.end()) return nullptr;
      v = it->second;
      return v.c_str();
    });
  };
  auto single = from({});
  ASSERT_TRUE(single.ok());
  EXPECT_FALSE(single->active());

  auto torchrun = from({{"RANK", "1"}, {"WORLD_SIZE", "4"}, {"LOCAL_RANK", "1"}, {"MASTER_ADDR", "node0"},
                        {"MASTER_PORT", "29400"}});
  ASSERT_TRUE(torchrun.ok()) << torchrun.status();
  EXPECT_EQ(torchrun->rank, 1);
  EXPECT_EQ(torchrun->world_size, 4);
  EXPECT_EQ(torchrun->local_rank, 1);
  EXPECT_EQ(torchrun->master_addr, "node0");
  EXPECT_EQ(torchrun->master_port, 29400);
  EXPECT_FALSE(torchrun->launcher_serves_store);
  auto agent = from({{"RANK", "1"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "node0"},
                     {"TORCHELASTIC_USE_AGENT_STORE", "True"}, {"TORCHELASTIC_RESTART_COUNT", "2"}});
  ASSERT_TRUE(agent.ok()) << agent.status();
  EXPECT_TRUE(agent->launcher_serves_store);
  EXPECT_EQ(agent->launcher_restart, 2);

  auto slurm = from({{"SLURM_PROCID", "3"}, {"SLURM_NTASKS", "4"}, {"SLURM_LOCALID", "1"}, {"MASTER_ADDR", "n0"}});
  ASSERT_TRUE(slurm.ok()) << slurm.status();
  EXPECT_EQ(slurm->rank, 3);
  EXPECT_EQ(slurm->local_rank, 1);
  EXPECT_EQ(slurm->master_port, 29500);

  auto half = from({{"RANK", "0"}});
  ASSERT_FALSE(half.ok());
  EXPECT_THAT(std::string(half.status().message()), HasSubstr("WORLD_SIZE"));
  auto outside = from({{"RANK", "2"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "x"}});
  ASSERT_FALSE(outside.ok());
  EXPECT_THAT(std::string(outside.status().message()), HasSubstr("outside 0..1"));
  auto no_master = from({{"RANK", "0"}, {"WORLD_SIZE", "2"}});
  ASSERT_FALSE(no_master.ok());
  EXPECT_THAT(std::string(no_master.status().message()), HasSubstr("MASTER_ADDR"));
  auto bad_port = from({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "x"}, {"MASTER_PORT", "70000"}});
  ASSERT_FALSE(bad_port.ok());
}

TEST(CollectivesTest, BroadcastCopiesRankZeroToEveryRank) {
  std::vector<torch::Tensor> broadcast(2);
  OnRanks(2, [&](int r, Collectives& c) {
    EXPECT_EQ(c.rank(), r);
    torch::manual_seed(100 + r);  // different "initialisations" on each rank
    torch::Tensor w = torch::randn({3, 4});
    ASSERT_TRUE(c.Broadcast({w}).ok());
    broadcast[r] = w.clone();
  });
  EXPECT_TRUE(torch::equal(broadcast[0], broadcast[1]));
}

// The reducer on real backward passes: a is used by both ranks (gradients 1 and 2: mean 1.5), b by
// rank 1 only (4 and nothing: mean 2), `none` by no rank, `frozen` needs no gradient. Buckets of 12
// bytes put each parameter in a bucket of its own, in reverse order: last, none, b, a. Backward
// completes `last`'s bucket, first in line, and it goes out at once; `none`'s never completes, so it and
// those behind it go out in Finish(), in order. Three steps: the reducer re-arms after each.
TEST(GradientReducerTest, AveragesGradientsDuringBackwardAndLeavesUnusedOnesEmpty) {
  std::vector<std::vector<torch::Tensor>> got(2);
  std::vector<int> buckets(2), early(2);
  OnRanks(2, [&](int r, Collectives& c) {
    torch::Tensor a = torch::zeros({5}, torch::requires_grad()), b = torch::zeros({2, 2}, torch::requires_grad()),
                  none = torch::zeros({1}, torch::requires_grad()), frozen = torch::zeros({1}),
                  last = torch::zeros({3}, torch::requires_grad());
    GradientReducer reducer(&c, {a, b, none, frozen, last}, 12);
    buckets[r] = reducer.buckets();
    for (int step = 0; step < 3; ++step) {
      for (auto* p : {&a, &b, &last}) p->mutable_grad() = torch::Tensor();
      torch::Tensor loss = (a * static_cast<float>(r + 1)).sum() + (last * static_cast<float>(step)).sum();
      if (r == 1) loss = loss + (b * 4.0f).sum();
      loss.backward();
      ASSERT_TRUE(reducer.Finish().ok());
    }
    early[r] = reducer.sent_during_backward();
    got[r] = {a.grad(), b.grad(), none.grad(), last.grad()};
  });
  for (int r = 0; r < 2; ++r) {
    EXPECT_EQ(buckets[r], 4) << "one bucket per trained parameter at 12 bytes";
    EXPECT_EQ(early[r], 1) << "the first bucket goes out during backward, the one behind `none` waits";
    EXPECT_TRUE(torch::allclose(got[r][0], torch::full({5}, 1.5f))) << got[r][0];
    EXPECT_TRUE(torch::allclose(got[r][1], torch::full({2, 2}, 2.0f))) << got[r][1];
    EXPECT_FALSE(got[r][2].defined()) << "a parameter no rank used keeps no gradient";
    EXPECT_TRUE(torch::allclose(got[r][3], torch::full({3}, 2.0f))) << "the third step's gradient, not a sum of steps";
  }
}

TEST(CollectivesTest, SumInPlaceAddsEveryRanksValues) {
  std::vector<torch::Tensor> sums(3);
  OnRanks(3, [&](int r, Collectives& c) {
    torch::Tensor v = torch::tensor({1.0, static_cast<double>(r)}, torch::kFloat64);
    ASSERT_TRUE(c.SumInPlace(v).ok());
    ASSERT_TRUE(c.Barrier().ok());
    sums[r] = v;
  });
  for (const auto& s : sums) EXPECT_TRUE(torch::equal(s, torch::tensor({3.0, 3.0}, torch::kFloat64))) << s;
}

TEST(CollectivesTest, ARankThatNeverComesIsATimeoutNotAHang) {
  const auto t0 = std::chrono::steady_clock::now();
  auto alone = Collectives::Join(Rank(0, 2, FreePort()), "gloo", std::chrono::seconds(2));
  ASSERT_FALSE(alone.ok());
  EXPECT_THAT(std::string(alone.status().message()), HasSubstr("rank 0 of 2"));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(30));
}

TEST(CollectivesTest, NcclIsRefusedWithWhatToDoInstead) {
  auto c = Collectives::Join(Rank(0, 2, FreePort()), "nccl", std::chrono::seconds(1));
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(std::string(c.status().message()), HasSubstr("gloo"));
}

}  // namespace
}  // namespace ttsd::core::train
