#include "server/store/sqlite.h"

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "core/common/status.h"

namespace ttsd::server::store {

absl::Status SqliteError(sqlite3* db, int code, const std::string& what) {
  std::string msg = absl::StrCat("sqlite: ", what, ": ", db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(code));
  switch (code & 0xff) {
    case SQLITE_FULL:
      return absl::ResourceExhaustedError(absl::StrCat(msg, " (the disk is full: free space and retry)"));
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return absl::UnavailableError(msg);
    case SQLITE_CONSTRAINT:
      return absl::AlreadyExistsError(msg);
    default:
      return absl::InternalError(msg);
  }
}

Statement::~Statement() {
  if (lent_ == nullptr) {
    sqlite3_finalize(stmt_);
    return;
  }
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  *lent_ = false;
}

Statement& Statement::Bind(int index, int64_t value) {
  sqlite3_bind_int64(stmt_, index, value);
  return *this;
}
Statement& Statement::Bind(int index, double value) {
  sqlite3_bind_double(stmt_, index, value);
  return *this;
}
Statement& Statement::Bind(int index, const std::string& value) {
  sqlite3_bind_text(stmt_, index, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT);
  return *this;
}
Statement& Statement::BindBlob(int index, const std::string& bytes) {
  sqlite3_bind_blob(stmt_, index, bytes.data(), static_cast<int>(bytes.size()), SQLITE_TRANSIENT);
  return *this;
}
Statement& Statement::BindNull(int index) {
  sqlite3_bind_null(stmt_, index);
  return *this;
}

absl::StatusOr<bool> Statement::Step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return SqliteError(db_, rc, sqlite3_sql(stmt_));
}

absl::Status Statement::Run() {
  for (;;) {
    auto row = Step();
    if (!row.ok()) return row.status();
    if (!*row) return absl::OkStatus();
  }
}

void Statement::Reset() { sqlite3_reset(stmt_); }

std::string Statement::Text(int column) const {
  const auto* p = sqlite3_column_text(stmt_, column);
  return p == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(p), sqlite3_column_bytes(stmt_, column));
}

std::string Statement::Blob(int column) const {
  const void* p = sqlite3_column_blob(stmt_, column);
  return p == nullptr ? std::string() : std::string(static_cast<const char*>(p), sqlite3_column_bytes(stmt_, column));
}

absl::StatusOr<std::unique_ptr<Database>> Database::Open(const std::string& path) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    absl::Status st = SqliteError(db, rc, absl::StrCat("open ", path));
    sqlite3_close(db);
    return st;
  }
  std::unique_ptr<Database> out(new Database(db, path));
  sqlite3_busy_timeout(db, 5000);
  for (const char* pragma : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL", "PRAGMA foreign_keys=ON"}) {
    if (auto st = out->Exec(pragma); !st.ok()) return st;
  }
  return out;
}

absl::StatusOr<int64_t> BackupDatabase(const std::string& src, const std::string& dest) {
  // RAII for the two raw handles: every return closes both.
  struct Handles {
    sqlite3* from = nullptr;
    sqlite3* to = nullptr;
    ~Handles() {
      sqlite3_close(to);
      sqlite3_close(from);
    }
  } h;
  int rc = sqlite3_open_v2(src.c_str(), &h.from, SQLITE_OPEN_READONLY, nullptr);
  if (rc != SQLITE_OK) return SqliteError(h.from, rc, absl::StrCat("open ", src));
  sqlite3_busy_timeout(h.from, 5000);
  const std::string tmp = dest + ".tmp";
  std::remove(tmp.c_str());
  rc = sqlite3_open_v2(tmp.c_str(), &h.to, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  if (rc != SQLITE_OK) return SqliteError(h.to, rc, absl::StrCat("create ", tmp));
  sqlite3_backup* b = sqlite3_backup_init(h.to, "main", h.from, "main");
  if (b == nullptr) return SqliteError(h.to, sqlite3_errcode(h.to), "backup");
  // A few pages at a time, so a daemon writing meanwhile is never locked out for long; a write restarts
  // the copy of what changed (the backup API handles it).
  do {
    rc = sqlite3_backup_step(b, 256);
    if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) sqlite3_sleep(20);
  } while (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED);
  const int64_t pages = sqlite3_backup_pagecount(b);
  sqlite3_backup_finish(b);
  if (rc != SQLITE_DONE) return SqliteError(h.to, rc, absl::StrCat("backup of ", src));
  sqlite3_stmt* check = nullptr;
  std::string verdict;
  if (sqlite3_prepare_v2(h.to, "PRAGMA integrity_check", -1, &check, nullptr) == SQLITE_OK &&
      sqlite3_step(check) == SQLITE_ROW) {
    verdict = reinterpret_cast<const char*>(sqlite3_column_text(check, 0));
  }
  sqlite3_finalize(check);
  if (verdict != "ok") return absl::DataLossError(absl::StrCat("the backup in ", tmp, " fails integrity_check: ", verdict));
  sqlite3_close(h.to);
  h.to = nullptr;
  if (std::rename(tmp.c_str(), dest.c_str()) != 0) {
    return absl::InternalError(absl::StrCat("cannot rename ", tmp, " to ", dest, ": ", std::strerror(errno)));
  }
  return pages;
}

absl::Status Database::Exec(const std::string& sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
  if (rc == SQLITE_OK) return absl::OkStatus();
  std::string what = err != nullptr ? err : sqlite3_errstr(rc);
  sqlite3_free(err);
  return SqliteError(nullptr, rc, absl::StrCat(sql.substr(0, 80), ": ", what));
}

Database::~Database() {
  for (auto& [sql, c] : cache_) sqlite3_finalize(c->stmt);
  sqlite3_close(db_);
}

absl::StatusOr<Statement> Database::Prepare(const std::string& sql) {
  auto it = cache_.find(sql);
  if (it != cache_.end() && !it->second->lent) {
    it->second->lent = true;
    return Statement(db_, it->second->stmt, &it->second->lent);
  }
  sqlite3_stmt* stmt = nullptr;
  const bool keep = it == cache_.end() && cache_.size() < kMaxCached;
  int rc = sqlite3_prepare_v3(db_, sql.c_str(), static_cast<int>(sql.size()), keep ? SQLITE_PREPARE_PERSISTENT : 0,
                              &stmt, nullptr);
  if (rc != SQLITE_OK) return SqliteError(db_, rc, absl::StrCat("prepare ", sql.substr(0, 80)));
  if (!keep) return Statement(db_, stmt);
  auto& c = cache_[sql];
  c = std::make_unique<Cached>();
  c->stmt = stmt;
  c->lent = true;
  return Statement(db_, stmt, &c->lent);
}

absl::Status Database::InTransaction(const std::function<absl::Status()>& body, Durability d) {
  const bool buffered = d == Durability::kBuffered;
  if (buffered) TTSD_RETURN_IF_ERROR(Exec("PRAGMA synchronous=NORMAL"));
  absl::Status st = Exec("BEGIN IMMEDIATE");
  if (st.ok()) {
    st = body();
    if (st.ok()) st = Exec("COMMIT");
    if (!st.ok()) (void)Exec("ROLLBACK");
  }
  if (buffered) {
    absl::Status back = Exec("PRAGMA synchronous=FULL");
    if (st.ok()) st = back;
  }
  return st;
}

}  // namespace ttsd::server::store
