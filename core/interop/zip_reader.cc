#include "core/interop/zip_reader.h"

#include <zlib.h>

#include <algorithm>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "core/common/status.h"

namespace ttsd::core::interop {
namespace {

constexpr uint32_t kEndOfDirectory = 0x06054b50;
constexpr uint32_t kZip64EndLocator = 0x07064b50;
constexpr uint32_t kZip64End = 0x06064b50;
constexpr uint32_t kDirectoryEntry = 0x02014b50;
constexpr uint32_t kLocalHeader = 0x04034b50;

uint64_t Le(const std::string& b, size_t at, int bytes) {
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(b[at + static_cast<size_t>(i)]);
  return v;
}

}  // namespace

absl::StatusOr<std::unique_ptr<ZipReader>> ZipReader::Open(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return absl::NotFoundError(absl::StrCat(path, ": no such file"));
  std::unique_ptr<ZipReader> r(new ZipReader());
  r->path_ = path;
  r->file_.open(path, std::ios::binary);
  if (!r->file_) return absl::PermissionDeniedError(absl::StrCat(path, ": cannot open for reading"));
  r->file_size_ = std::filesystem::file_size(path, ec);
  TTSD_RETURN_IF_ERROR(r->ReadDirectory());
  return r;
}

absl::Status ZipReader::ReadDirectory() {
  auto bad = [&](const std::string& why) {
    return absl::InvalidArgumentError(absl::StrCat(path_, ": not a readable ZIP archive (", why, ")"));
  };
  // The end-of-directory record is in the last 64 KiB + 22 bytes (its comment is at most 65535 bytes).
  const uint64_t tail_size = std::min<uint64_t>(file_size_, 65535 + 22);
  if (tail_size < 22) return bad("file too short");
  std::string tail(tail_size, '\0');
  file_.seekg(static_cast<std::streamoff>(file_size_ - tail_size));
  file_.read(tail.data(), static_cast<std::streamsize>(tail_size));
  size_t eocd = std::string::npos;
  for (size_t i = tail_size - 22 + 1; i-- > 0;) {
    if (Le(tail, i, 4) == kEndOfDirectory) {
      eocd = i;
      break;
    }
  }
  if (eocd == std::string::npos) return bad("no end-of-directory record: truncated, or not a ZIP file");
  uint64_t count = Le(tail, eocd + 10, 2), dir_size = Le(tail, eocd + 12, 4), dir_offset = Le(tail, eocd + 16, 4);
  if (eocd >= 20 && Le(tail, eocd - 20, 4) == kZip64EndLocator) {
    const uint64_t z64_offset = Le(tail, eocd - 20 + 8, 8);
    if (z64_offset + 56 > file_size_) return bad("ZIP64 end record past the end of the file");
    std::string z(56, '\0');
    file_.seekg(static_cast<std::streamoff>(z64_offset));
    file_.read(z.data(), 56);
    if (!file_ || Le(z, 0, 4) != kZip64End) return bad("ZIP64 end record missing");
    count = Le(z, 32, 8);
    dir_size = Le(z, 40, 8);
    dir_offset = Le(z, 48, 8);
  }
  if (dir_offset + dir_size > file_size_) return bad("central directory past the end of the file");
  std::string dir(dir_size, '\0');
  file_.seekg(static_cast<std::streamoff>(dir_offset));
  file_.read(dir.data(), static_cast<std::streamsize>(dir_size));
  if (!file_) return bad("central directory cannot be read");
  size_t at = 0;
  for (uint64_t n = 0; n < count; ++n) {
    if (at + 46 > dir.size() || Le(dir, at, 4) != kDirectoryEntry) return bad("damaged central directory");
    Entry e;
    e.method = static_cast<uint16_t>(Le(dir, at + 10, 2));
    e.crc32 = static_cast<uint32_t>(Le(dir, at + 16, 4));
    e.compressed_size = Le(dir, at + 20, 4);
    e.size = Le(dir, at + 24, 4);
    const size_t name_len = Le(dir, at + 28, 2), extra_len = Le(dir, at + 30, 2), comment_len = Le(dir, at + 32, 2);
    e.local_header_offset = Le(dir, at + 42, 4);
    if (at + 46 + name_len + extra_len + comment_len > dir.size()) return bad("damaged central directory");
    e.name = dir.substr(at + 46, name_len);
    // ZIP64 extra field (id 1): the 8-byte values of whichever 32-bit fields are saturated, in order.
    for (size_t x = at + 46 + name_len; x + 4 <= at + 46 + name_len + extra_len;) {
      const uint64_t id = Le(dir, x, 2), len = Le(dir, x + 2, 2);
      if (id == 1) {
        size_t v = x + 4;
        for (uint64_t* field : {&e.size, &e.compressed_size, &e.local_header_offset}) {
          if (*field == 0xFFFFFFFFu && v + 8 <= x + 4 + len) {
            *field = Le(dir, v, 8);
            v += 8;
          }
        }
      }
      x += 4 + len;
    }
    index_[e.name] = entries_.size();
    entries_.push_back(std::move(e));
    at += 46 + name_len + extra_len + comment_len;
  }
  return absl::OkStatus();
}

const ZipReader::Entry* ZipReader::Find(const std::string& name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &entries_[it->second];
}

absl::StatusOr<std::string> ZipReader::Read(const std::string& name) {
  const Entry* e = Find(name);
  if (e == nullptr) return absl::NotFoundError(absl::StrCat(path_, ": no entry '", name, "' in the archive"));
  return Read(*e);
}

absl::StatusOr<std::string> ZipReader::Read(const Entry& e) {
  auto lost = [&](const std::string& why) {
    return absl::DataLossError(absl::StrCat(path_, ": entry '", e.name, "': ", why));
  };
  if (e.local_header_offset + 30 > file_size_) return lost("its header is past the end of the file (truncated?)");
  std::string header(30, '\0');
  file_.clear();
  file_.seekg(static_cast<std::streamoff>(e.local_header_offset));
  file_.read(header.data(), 30);
  if (!file_ || Le(header, 0, 4) != kLocalHeader) return lost("damaged local header");
  const uint64_t data_at = e.local_header_offset + 30 + Le(header, 26, 2) + Le(header, 28, 2);
  if (data_at + e.compressed_size > file_size_) {
    return lost(absl::StrCat("needs ", e.compressed_size, " bytes at offset ", data_at, " but the file has ", file_size_,
                             " bytes: the file is truncated"));
  }
  std::string raw(e.compressed_size, '\0');
  file_.seekg(static_cast<std::streamoff>(data_at));
  file_.read(raw.data(), static_cast<std::streamsize>(raw.size()));
  if (!file_) return lost("read failed");
  std::string out;
  if (e.method == 0) {
    out = std::move(raw);
  } else if (e.method == 8) {
    out.resize(e.size);
    z_stream zs{};
    if (inflateInit2(&zs, -MAX_WBITS) != Z_OK) return absl::InternalError("zlib inflateInit2 failed");
    zs.next_in = reinterpret_cast<Bytef*>(raw.data());
    zs.avail_in = static_cast<uInt>(raw.size());
    zs.next_out = reinterpret_cast<Bytef*>(out.data());
    zs.avail_out = static_cast<uInt>(out.size());
    const int rc = inflate(&zs, Z_FINISH);
    const uint64_t produced = zs.total_out;
    inflateEnd(&zs);
    if (rc != Z_STREAM_END || produced != e.size) return lost("deflated data is damaged");
  } else {
    return absl::UnimplementedError(absl::StrCat(path_, ": entry '", e.name, "' uses ZIP compression method ", e.method,
                                                 " (only stored and deflated are read)"));
  }
  if (out.size() != e.size) return lost("size does not match the directory");
  const uLong crc = ::crc32(0L, reinterpret_cast<const Bytef*>(out.data()), static_cast<uInt>(0));
  uLong c = crc;
  for (size_t off = 0; off < out.size();) {  // crc32() takes uInt lengths: feed it in pieces
    const size_t n = std::min<size_t>(out.size() - off, 1u << 30);
    c = ::crc32(c, reinterpret_cast<const Bytef*>(out.data() + off), static_cast<uInt>(n));
    off += n;
  }
  if (static_cast<uint32_t>(c) != e.crc32) return lost("CRC mismatch: the file is damaged");
  return out;
}

}  // namespace ttsd::core::interop
