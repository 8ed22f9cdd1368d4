#include "server/store/store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "server/store/schema.h"
#include "tests/testing/temp_dir.h"

namespace ttsd::server::store {
namespace {

using ::testing::HasSubstr;

class StoreTest : public ::testing::Test {
 protected:
  std::unique_ptr<Store> OpenStore() {
    auto s = Store::Open({tmp_.Join("data/ttsd.db"), tmp_.Join("data/jobs")});
    EXPECT_TRUE(s.ok()) << s.status();
    return s.ok() ? std::move(*s) : nullptr;
  }
  JobRecord Create(Store& s, const std::string& name, const std::string& request_id = "", int64_t priority = 0) {
    bool created = false;
    auto j = s.CreateJob({name, request_id, priority, "model:\n  preset: tiny\n", 1, ""}, "queued", &created);
    EXPECT_TRUE(j.ok()) << j.status();
    return j.ok() ? *j : JobRecord{};
  }
  testing::TempDir tmp_;
};

TEST_F(StoreTest, MigratesOnceKeepsDataAcrossReopensAndRefusesANewerSchema) {
  int64_t id;
  {
    auto s = OpenStore();
    id = Create(*s, "first").id;
  }
  {
    auto s = OpenStore();  // second open: no migration runs again, the job is there
    auto j = s->GetJob(id);
    ASSERT_TRUE(j.ok()) << j.status();
    EXPECT_EQ(j->name, "first");
    EXPECT_EQ(j->state, JobState::kQueued);
    EXPECT_EQ(j->job_dir, tmp_.Join("data/jobs/" + std::to_string(id)));
  }
  {
    auto db = Database::Open(tmp_.Join("data/ttsd.db"));
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)->Exec("PRAGMA user_version = 99").ok());
  }
  auto newer = Store::Open({tmp_.Join("data/ttsd.db"), tmp_.Join("data/jobs")});
  ASSERT_FALSE(newer.ok());
  EXPECT_EQ(newer.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(newer.status().message()), HasSubstr("schema version 99"));
}

TEST_F(StoreTest, ARepeatedRequestIdReturnsTheSameJob) {
  auto s = OpenStore();
  JobRecord a = Create(*s, "voice", "req-1");
  bool created = true;
  auto b = s->CreateJob({"voice again", "req-1", 0, "x", 1, ""}, "queued", &created);
  ASSERT_TRUE(b.ok());
  EXPECT_FALSE(created);
  EXPECT_EQ(b->id, a.id);
  EXPECT_EQ(b->name, "voice");
  EXPECT_NE(Create(*s, "other", "req-2").id, a.id);
  EXPECT_NE(Create(*s, "no key").id, Create(*s, "no key").id);  // no request_id: always a new job
  auto all = s->ListJobs({}, 0, 100);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 4u);
}

TEST_F(StoreTest, TransitionsFollowTheStateMachineAndEachAppendsOneEvent) {
  auto s = OpenStore();
  JobRecord j = Create(*s, "voice");
  auto bad = s->Transition(j.id, JobState::kRunning, "", "", "");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("is QUEUED; it cannot become RUNNING"));

  for (JobState to : {JobState::kStarting, JobState::kRunning, JobState::kStopping, JobState::kStopped,
                      JobState::kQueued, JobState::kStarting, JobState::kRunning, JobState::kRestarting,
                      JobState::kQueued, JobState::kStarting, JobState::kRunning, JobState::kSucceeded}) {
    auto r = s->Transition(j.id, to, "", "", JobStateName(to));
    ASSERT_TRUE(r.ok()) << JobStateName(to) << ": " << r.status();
  }
  auto done = s->GetJob(j.id);
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(done->state, JobState::kSucceeded);
  EXPECT_EQ(done->attempt, 3);   // three STARTINGs
  EXPECT_EQ(done->restarts, 1);  // one RESTARTING
  EXPECT_EQ(done->last_seq, 13);
  auto cancel = s->Transition(j.id, JobState::kCancelling, "", "", "");
  EXPECT_EQ(cancel.status().code(), absl::StatusCode::kFailedPrecondition);  // terminal

  auto events = s->ReadEvents(j.id, 0, 100);
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 13u);
  for (size_t i = 0; i < events->size(); ++i) {
    EXPECT_EQ((*events)[i].seq, static_cast<int64_t>(i + 1));
    EXPECT_EQ((*events)[i].kind, "state");
  }
  EXPECT_EQ((*events)[0].payload, "queued");
  EXPECT_EQ(events->back().payload, "SUCCEEDED");
  auto tail = s->ReadEvents(j.id, 11, 100);
  ASSERT_TRUE(tail.ok());
  ASSERT_EQ(tail->size(), 2u);
  EXPECT_EQ(tail->front().seq, 12);
}

TEST_F(StoreTest, EventSequencesStayGapFreeUnderConcurrentWriters) {
  auto s = OpenStore();
  JobRecord a = Create(*s, "a"), b = Create(*s, "b");
  std::vector<std::thread> writers;
  for (int t = 0; t < 4; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; i < 100; ++i) {
        ASSERT_TRUE(s->AppendEvent(t % 2 == 0 ? a.id : b.id, "log", std::to_string(i)).ok());
      }
    });
  }
  for (auto& w : writers) w.join();
  for (int64_t id : {a.id, b.id}) {
    auto events = s->ReadEvents(id, 0, 1000);
    ASSERT_TRUE(events.ok());
    ASSERT_EQ(events->size(), 201u);  // the creation event + 2 writers x 100
    for (size_t i = 0; i < events->size(); ++i) EXPECT_EQ((*events)[i].seq, static_cast<int64_t>(i + 1));
  }
}

TEST_F(StoreTest, QueueOrderIsPriorityThenFirstIn) {
  auto s = OpenStore();
  int64_t low = Create(*s, "low", "", 0).id;
  int64_t high = Create(*s, "high", "", 5).id;
  int64_t low2 = Create(*s, "low2", "", 0).id;
  ASSERT_TRUE(s->SetDesired(low, Desired::kStop).ok());  // a pending command keeps its place in line
  auto q = s->QueuedJobs();
  ASSERT_TRUE(q.ok());
  ASSERT_EQ(q->size(), 3u);
  EXPECT_EQ((*q)[0].id, high);
  EXPECT_EQ((*q)[1].id, low);
  EXPECT_EQ((*q)[2].id, low2);
  auto page = s->ListJobs({JobState::kQueued}, /*page_after_id=*/low2, 10);  // newest first, after low2
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->size(), 2u);
  EXPECT_EQ((*page)[0].id, high);
}

TEST_F(StoreTest, MetricsAreBatchedQueryableAndAResumeArchivesTheAbandonedTail) {
  auto s = OpenStore();
  int64_t id = Create(*s, "voice").id;
  for (int64_t step = 1; step <= 100; ++step) {
    s->AddMetrics({{id, 1, step, "train/loss", 10.0 - step * 0.05}, {id, 1, step, "lr", 1e-3}});
  }
  ASSERT_TRUE(s->FlushMetrics().ok());
  auto loss = s->QueryMetrics(id, {"train/loss"}, 20, 29);
  ASSERT_TRUE(loss.ok());
  ASSERT_EQ(loss->size(), 10u);
  EXPECT_EQ(loss->front().step, 20);
  EXPECT_DOUBLE_EQ(loss->front().value, 9.0);

  // Attempt 1 died at step 100; attempt 2 resumes from the checkpoint at step 60.
  auto moved = s->ArchiveMetricsAfter(id, 60);
  ASSERT_TRUE(moved.ok());
  EXPECT_EQ(*moved, 80);  // 40 steps x 2 keys
  for (int64_t step = 61; step <= 70; ++step) s->AddMetrics({{id, 2, step, "train/loss", 1.0}});
  ASSERT_TRUE(s->FlushMetrics().ok());
  auto all = s->QueryMetrics(id, {}, 0, -1);
  ASSERT_TRUE(all.ok());
  std::set<std::pair<std::string, int64_t>> seen;
  int64_t last_loss_step = 0;
  for (const auto& r : *all) {
    EXPECT_TRUE(seen.insert({r.key, r.step}).second) << "duplicate " << r.key << "@" << r.step;
    if (r.key == "train/loss") {
      EXPECT_GT(r.step, last_loss_step);  // the curve never doubles back
      last_loss_step = r.step;
      EXPECT_EQ(r.attempt, r.step <= 60 ? 1 : 2);
    }
  }
  EXPECT_EQ(last_loss_step, 70);
}

TEST_F(StoreTest, CheckpointsAndSamplesRoundTrip) {
  auto s = OpenStore();
  int64_t id = Create(*s, "voice").id;
  ASSERT_TRUE(s->AddCheckpoint({id, 200, 3, 1234, "/x/ckpt-200.pt", "ab12", R"({"val/loss":0.5})", true, 0}).ok());
  ASSERT_TRUE(s->AddCheckpoint({id, 100, 1, 1200, "/x/ckpt-100.pt", "cd34", "", false, 0}).ok());
  auto c = s->ListCheckpoints(id);
  ASSERT_TRUE(c.ok());
  ASSERT_EQ(c->size(), 2u);
  EXPECT_EQ((*c)[0].step, 100);
  EXPECT_EQ((*c)[0].metrics_json, "{}");
  EXPECT_TRUE((*c)[1].is_best);
  EXPECT_EQ((*c)[1].sha256, "ab12");
  ASSERT_TRUE(s->AddSample({id, 200, 22050, "val-0", "/x/samples/200-val-0.wav", 1.5, 0}).ok());
  auto smp = s->ListSamples(id);
  ASSERT_TRUE(smp.ok());
  ASSERT_EQ(smp->size(), 1u);
  EXPECT_EQ(smp->front().tag, "val-0");
  EXPECT_DOUBLE_EQ(smp->front().duration_s, 1.5);
  EXPECT_GT(smp->front().created_ms, 0);
}

TEST(JobStateTest, NamesRoundTripAndTerminalStatesHaveNoWayOut) {
  for (int i = 0; i <= static_cast<int>(JobState::kCancelled); ++i) {
    JobState s = static_cast<JobState>(i), back;
    ASSERT_TRUE(ParseJobState(JobStateName(s), &back));
    EXPECT_EQ(back, s);
    for (int k = 0; k <= static_cast<int>(JobState::kCancelled); ++k) {
      if (IsTerminal(s)) {
        EXPECT_FALSE(TransitionAllowed(s, static_cast<JobState>(k)));
      }
    }
    if (!IsTerminal(s) && s != JobState::kCancelling) {
      EXPECT_TRUE(TransitionAllowed(s, JobState::kCancelling)) << JobStateName(s);  // cancel from anywhere
    }
  }
}

TEST_F(StoreTest, ACachedStatementComesBackResetAndTheSameSqlCanBeOpenTwice) {
  auto db = Database::Open(tmp_.Join("cache.db"));
  ASSERT_TRUE(db.ok()) << db.status();
  Database& d = **db;
  ASSERT_TRUE(d.Exec("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1), (2), (3)").ok());
  const std::string sql = "SELECT x FROM t WHERE x >= ? ORDER BY x";
  {
    auto outer = d.Prepare(sql);
    ASSERT_TRUE(outer.ok());
    outer->Bind(1, int64_t{2});
    ASSERT_TRUE(*outer->Step());  // mid-iteration: the cached statement is lent out
    EXPECT_EQ(outer->Int(0), 2);
    auto inner = d.Prepare(sql);  // the same SQL again: compiled afresh, not the one in use
    ASSERT_TRUE(inner.ok());
    inner->Bind(1, int64_t{1});
    ASSERT_TRUE(*inner->Step());
    EXPECT_EQ(inner->Int(0), 1);
    ASSERT_TRUE(*outer->Step());
    EXPECT_EQ(outer->Int(0), 3);
  }
  // Back from the cache, reset with no bindings left over: NULL matches nothing.
  auto again = d.Prepare(sql);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(*again->Step());
  again->Reset();
  again->Bind(1, int64_t{3});
  ASSERT_TRUE(*again->Step());
  EXPECT_EQ(again->Int(0), 3);
}

}  // namespace
}  // namespace ttsd::server::store
