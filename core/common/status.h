// Error-propagation macros for absl::Status / absl::StatusOr. Errors are values across modules.
#pragma once

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define TTSD_CONCAT_INNER_(a, b) a##b
#define TTSD_CONCAT_(a, b) TTSD_CONCAT_INNER_(a, b)

#define TTSD_RETURN_IF_ERROR(expr)                  \
  do {                                              \
    ::absl::Status ttsd_status_ = (expr);           \
    if (!ttsd_status_.ok()) return ttsd_status_;    \
  } while (0)

#define TTSD_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                \
  if (!tmp.ok()) return tmp.status();               \
  lhs = std::move(tmp).value()

#define TTSD_ASSIGN_OR_RETURN(lhs, expr) \
  TTSD_ASSIGN_OR_RETURN_IMPL_(TTSD_CONCAT_(ttsd_statusor_, __LINE__), lhs, expr)
