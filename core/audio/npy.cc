#include "core/audio/npy.h"

#include <cstring>
#include <regex>

#include "absl/strings/str_cat.h"
#include "core/common/file_util.h"
#include "core/common/status.h"

namespace ttsd::core {

absl::Status WriteNpy(const std::string& path, const FloatMatrix& m) {
  std::string header = absl::StrCat("{'descr': '<f4', 'fortran_order': False, 'shape': (", m.rows, ", ",
                                    m.cols, "), }");
  // Magic (6) + version (2) + header length (2) + header, padded with spaces to a multiple of 64.
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header.push_back('\n');
  std::string out("\x93NUMPY\x01\x00", 8);
  out.push_back(static_cast<char>(header.size() & 0xff));
  out.push_back(static_cast<char>(header.size() >> 8));
  out += header;
  out.append(reinterpret_cast<const char*>(m.data.data()), m.data.size() * sizeof(float));
  return WriteFileAtomic(path, out);
}

absl::StatusOr<FloatMatrix> ReadNpy(const std::string& path) {
  TTSD_ASSIGN_OR_RETURN(std::string bytes, ReadFileToString(path));
  auto bad = [&](const std::string& why) { return absl::DataLossError(absl::StrCat(path, ": ", why)); };
  if (bytes.size() < 10 || bytes.compare(0, 6, "\x93NUMPY") != 0) return bad("not a .npy file");
  size_t header_len = static_cast<unsigned char>(bytes[8]) | (static_cast<unsigned char>(bytes[9]) << 8);
  if (bytes.size() < 10 + header_len) return bad("truncated header");
  std::string header = bytes.substr(10, header_len);
  if (header.find("'<f4'") == std::string::npos) return bad("only little-endian float32 ('<f4') is supported");
  if (header.find("'fortran_order': False") == std::string::npos) return bad("only C order is supported");
  std::smatch sm;
  if (!std::regex_search(header, sm, std::regex(R"('shape': \((\d+),\s*(\d*)\))"))) return bad("no shape");
  FloatMatrix m;
  m.rows = sm[2].str().empty() ? 1 : std::stoll(sm[1].str());
  m.cols = sm[2].str().empty() ? std::stoll(sm[1].str()) : std::stoll(sm[2].str());
  size_t need = static_cast<size_t>(m.rows * m.cols) * sizeof(float);
  if (bytes.size() - 10 - header_len != need) return bad("data size does not match the shape");
  m.data.resize(m.rows * m.cols);
  std::memcpy(m.data.data(), bytes.data() + 10 + header_len, need);
  return m;
}

}  // namespace ttsd::core
