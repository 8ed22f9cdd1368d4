#include "server/daemon/device_slots.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace ttsd::server::daemon {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(DeviceListTest, ParsesCpuOrCudaListsAndRefusesTheRest) {
  EXPECT_THAT(*ParseDeviceList("cpu"), ElementsAre("cpu"));
  EXPECT_THAT(*ParseDeviceList("cuda:0, cuda:1"), ElementsAre("cuda:0", "cuda:1"));
  EXPECT_THAT(std::string(ParseDeviceList("gpu0").status().message()), HasSubstr("neither cpu nor cuda:N"));
  EXPECT_THAT(std::string(ParseDeviceList("cuda:0,cuda:0").status().message()), HasSubstr("twice"));
  EXPECT_THAT(std::string(ParseDeviceList("cpu,cuda:0").status().message()), HasSubstr("cannot be mixed"));
  EXPECT_FALSE(ParseDeviceList("").ok());
}

TEST(DeviceSlotsTest, AGpuRunsOneJobAndAJobGetsAllItsDevicesAtOnce) {
  DeviceSlots slots({"cuda:0", "cuda:1"}, 8);
  auto a = slots.Acquire(1);
  ASSERT_TRUE(a);
  EXPECT_THAT(*a, ElementsAre("cuda:0"));
  EXPECT_FALSE(slots.Acquire(2)) << "only one GPU is free";
  auto b = slots.Acquire(1);
  ASSERT_TRUE(b);
  EXPECT_THAT(*b, ElementsAre("cuda:1"));
  slots.Release(*a);
  slots.Release(*b);
  auto both = slots.Acquire(2);
  ASSERT_TRUE(both);
  EXPECT_THAT(*both, ElementsAre("cuda:0", "cuda:1"));
  EXPECT_FALSE(slots.CanEverFit(3));
}

TEST(DeviceSlotsTest, TheCpuIsSharedUpToTheJobCap) {
  DeviceSlots slots({"cpu"}, 2);
  EXPECT_TRUE(slots.Acquire(1));
  auto second = slots.Acquire(1);
  EXPECT_TRUE(second);
  EXPECT_FALSE(slots.Acquire(1)) << "--max-concurrent-jobs 2";
  slots.Release(*second);
  EXPECT_TRUE(slots.Acquire(1));
}

TEST(DeviceSlotsTest, ADataParallelJobsRanksShareTheCpuAsOneJob) {
  DeviceSlots slots({"cpu"}, 2);
  EXPECT_TRUE(slots.CanEverFit(4));
  auto ranks = slots.Acquire(3);
  ASSERT_TRUE(ranks);
  EXPECT_THAT(*ranks, ElementsAre("cpu", "cpu", "cpu"));
  auto other = slots.Acquire(1);
  ASSERT_TRUE(other) << "three ranks are one job of the two allowed";
  EXPECT_TRUE(slots.Full());
  slots.Release(*ranks);
  EXPECT_FALSE(slots.Full());
  EXPECT_TRUE(slots.Acquire(2));
}

TEST(DeviceSlotsTest, FullWhenNoJobCouldStart) {
  DeviceSlots gpus({"cuda:0", "cuda:1"}, 8);
  auto a = gpus.Acquire(1);
  EXPECT_FALSE(gpus.Full()) << "cuda:1 is free";
  auto b = gpus.Acquire(1);
  EXPECT_TRUE(gpus.Full());
  gpus.Release(*b);
  EXPECT_FALSE(gpus.Full());
  DeviceSlots cpu({"cpu"}, 1);
  EXPECT_FALSE(cpu.Full());
  auto c = cpu.Acquire(1);
  EXPECT_TRUE(cpu.Full()) << "--max-concurrent-jobs 1";
}

}  // namespace
}  // namespace ttsd::server::daemon
