#include "server/daemon/device_slots.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace ttsd::server::daemon {
namespace {

bool IsCpu(const std::string& d) { return d == "cpu"; }

}  // namespace

absl::StatusOr<std::vector<std::string>> ParseDeviceList(const std::string& flag) {
  std::vector<std::string> out;
  for (absl::string_view part : absl::StrSplit(flag, ',', absl::SkipWhitespace())) {
    std::string d(absl::StripAsciiWhitespace(part));
    int index = 0;
    bool cuda = d.rfind("cuda:", 0) == 0 && d.size() > 5 &&
                std::all_of(d.begin() + 5, d.end(), [](char c) { return c >= '0' && c <= '9'; }) &&
                absl::SimpleAtoi(d.substr(5), &index);
    if (!IsCpu(d) && !cuda) {
      return absl::InvalidArgumentError(absl::StrCat("--devices: '", d, "' is neither cpu nor cuda:N"));
    }
    if (std::find(out.begin(), out.end(), d) != out.end()) {
      return absl::InvalidArgumentError(absl::StrCat("--devices: ", d, " is listed twice"));
    }
    out.push_back(d);
  }
  if (out.empty()) return absl::InvalidArgumentError("--devices: empty; use cpu or cuda:0,cuda:1,...");
  if (out.size() > 1 && std::any_of(out.begin(), out.end(), IsCpu)) {
    return absl::InvalidArgumentError("--devices: cpu cannot be mixed with CUDA devices");
  }
  return out;
}

DeviceSlots::DeviceSlots(std::vector<std::string> devices, int max_concurrent_jobs)
    : devices_(std::move(devices)), users_(devices_.size(), 0), max_jobs_(std::max(1, max_concurrent_jobs)) {}

std::optional<std::vector<std::string>> DeviceSlots::Acquire(int n) {
  if (running_ >= max_jobs_ || n < 1) return std::nullopt;
  if (IsCpu(devices_[0])) {  // the ranks of a data-parallel job share the CPU
    users_[0]++;
    running_++;
    return std::vector<std::string>(n, devices_[0]);
  }
  std::vector<size_t> picked;
  for (size_t i = 0; i < devices_.size() && static_cast<int>(picked.size()) < n; ++i) {
    if (IsCpu(devices_[i]) || users_[i] == 0) picked.push_back(i);
  }
  if (static_cast<int>(picked.size()) < n) return std::nullopt;
  std::vector<std::string> out;
  for (size_t i : picked) {
    users_[i]++;
    out.push_back(devices_[i]);
  }
  running_++;
  return out;
}

bool DeviceSlots::Full() const {
  if (running_ >= max_jobs_) return true;
  for (size_t i = 0; i < devices_.size(); ++i) {
    if (IsCpu(devices_[i]) || users_[i] == 0) return false;
  }
  return true;
}

void DeviceSlots::Release(const std::vector<std::string>& devices) {
  if (!devices.empty() && IsCpu(devices[0])) {
    users_[0]--;
  } else {
    for (const auto& d : devices) {
      auto it = std::find(devices_.begin(), devices_.end(), d);
      if (it != devices_.end()) users_[it - devices_.begin()]--;
    }
  }
  running_--;
}

bool DeviceSlots::CanEverFit(int n) const {
  return n >= 1 && (IsCpu(devices_[0]) || n <= static_cast<int>(devices_.size()));
}

std::string DeviceSlots::Describe() const {
  std::string s = absl::StrJoin(devices_, ", ");
  return absl::StrCat(s, " (at most ", max_jobs_, max_jobs_ == 1 ? " job" : " jobs", " at a time)");
}

}  // namespace ttsd::server::daemon
