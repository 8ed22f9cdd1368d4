// The daemon's end of the worker pipe on arbitrary bytes (a worker that dies mid-write, or garbage):
// length-delimited frames become WorkerEvents or a DATA_LOSS error, never a crash or a huge allocation.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "server/worker/event_pipe.h"
#include "ttsd/v1/worker.pb.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 60000) return 0;  // stays inside one pipe buffer, so one thread can write then read
  int fds[2];
  if (::pipe(fds) != 0) return 0;
  if (::write(fds[1], data, size) != static_cast<ssize_t>(size)) std::abort();
  ::close(fds[1]);
  ttsd::server::worker::DelimitedReader reader(fds[0]);
  while (true) {
    auto next = reader.Next();
    if (!next.ok() || !next->has_value()) break;
    ttsd::v1::WorkerEvent event;
    if (event.ParseFromString(**next)) {
      std::string again;
      if (!event.SerializeToString(&again)) std::abort();
    }
  }
  ::close(fds[0]);
  return 0;
}
