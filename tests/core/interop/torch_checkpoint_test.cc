// The native torch.save reader: the pickle machine on hand-written streams (what it tolerates and what
// it refuses), then real files written by PyTorch (tests/data/interop, made by fixtures.py):
// tensors of several dtypes, views that share a storage, and the classes checkpoints pickle besides
// tensors. Damaged files fail with messages that say so.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "core/interop/pickle.h"
#include "core/interop/torch_checkpoint.h"
#include "core/interop/zip_reader.h"
#include "tests/testing/temp_dir.h"

namespace ttsd::core::interop {
namespace {

using ::testing::HasSubstr;
using Kind = PyValue::Kind;

std::string Fixture(const std::string& name) { return testing::TestDataDir() + "/interop/" + name; }

// A byte string from a literal that holds NULs.
template <size_t N>
std::string Bytes(const char (&s)[N]) {
  return std::string(s, N - 1);
}

// Protocol 2, as torch.save writes: {"a": [1, True, None], "b": pathlib.PosixPath("/x")}.
const std::string kStream = Bytes(
    "\x80\x02}q\x00(X\x01\x00\x00\x00" "a" "q\x01]q\x02(K\x01\x88" "Ne" "X\x01\x00\x00\x00" "b"
    "cpathlib\nPosixPath\nq\x03X\x02\x00\x00\x00/x\x85R" "u.");

TEST(PickleTest, ReadsContainersScalarsAndUnknownClassesAsOpaqueObjects) {
  auto root = ParsePickle(kStream);
  ASSERT_TRUE(root.ok()) << root.status();
  ASSERT_EQ((*root)->kind, Kind::kDict);
  const PyValue* a = (*root)->Get("a");
  ASSERT_NE(a, nullptr);
  ASSERT_EQ(a->kind, Kind::kList);
  ASSERT_EQ(a->items.size(), 3u);
  EXPECT_EQ(a->items[0]->integer, 1);
  EXPECT_TRUE(a->items[1]->boolean);
  EXPECT_EQ(a->items[2]->kind, Kind::kNone);
  const PyValue* b = (*root)->Get("b");
  ASSERT_NE(b, nullptr);
  ASSERT_EQ(b->kind, Kind::kObject);
  EXPECT_EQ(b->klass->text, "pathlib.PosixPath");
  EXPECT_EQ(b->args->items[0]->text, "/x");
  EXPECT_EQ((*root)->Get("missing"), nullptr);
}

TEST(PickleTest, RefusesTruncatedAndMalformedStreamsWithTheOffset) {
  for (size_t cut : {size_t{1}, size_t{5}, size_t{20}, kStream.size() - 1}) {
    auto r = ParsePickle(kStream.substr(0, cut));
    ASSERT_FALSE(r.ok()) << cut;
    EXPECT_TRUE(absl::IsInvalidArgument(r.status()));
  }
  EXPECT_THAT(std::string(ParsePickle(kStream.substr(0, kStream.size() - 1)).status().message()), HasSubstr("without STOP"));
  EXPECT_THAT(std::string(ParsePickle(Bytes("\x80\x02h\x07.")).status().message()), HasSubstr("memo entry 7 was never stored"));
  EXPECT_THAT(std::string(ParsePickle("\x80\x02s.").status().message()), HasSubstr("stack underflow"));
  EXPECT_THAT(std::string(ParsePickle(Bytes("\x80\x02X\xff\xff\xff\x7f" "a.")).status().message()), HasSubstr("runs past the end"));
  EXPECT_THAT(std::string(ParsePickle("\x80\x02\xff.").status().message()), HasSubstr("unsupported opcode"));
  // A list appended to itself (through the memo): refused, and freed (LeakSanitizer checks under make fuzz).
  EXPECT_THAT(std::string(ParsePickle(Bytes("\x80\x02]q\x00h\x00" "a.")).status().message()),
              HasSubstr("contains itself"));
}

TEST(PickleTest, DeeplyNestedValuesAreReleasedWithoutRecursion) {
  // 200,000 lists, each appended into the one before through the memo, with one value on the stack:
  // a hostile file can nest this deep cheaply; building and freeing it must not recurse.
  std::string s = Bytes("\x80\x02]q\x00");
  const std::string nest = Bytes("]q\x01" "0" "h\x00" "h\x01" "a" "0" "h\x01" "q\x00" "0");
  for (int i = 0; i < 200000; ++i) s += nest;
  s += ".";
  auto r = ParsePickle(s);
  ASSERT_TRUE(r.ok()) << r.status();
  int depth = 0;
  for (const PyValue* v = r->get(); v->kind == Kind::kList && !v->items.empty(); v = v->items[0].get()) ++depth;
  EXPECT_EQ(depth, 200000);
}

TEST(TorchCheckpointTest, ReadsTensorsOfEveryDtypeAndViewsThatShareAStorage) {
  auto ckpt = TorchCheckpoint::Open(Fixture("oddities.pt"));
  ASSERT_TRUE(ckpt.ok()) << ckpt.status();
  const PyValue& root = (*ckpt)->root();
  auto tensor = [&](const char* key) {
    const PyValue* v = root.Get(key);
    EXPECT_NE(v, nullptr) << key;
    auto t = (*ckpt)->Materialize(*v);
    EXPECT_TRUE(t.ok()) << t.status();
    return *t;
  };
  auto base = torch::arange(12, torch::kFloat32).reshape({3, 4});
  EXPECT_TRUE(torch::equal(tensor("base"), base));
  EXPECT_TRUE(torch::equal(tensor("view"), base.t()));     // transposed strides
  EXPECT_TRUE(torch::equal(tensor("row"), base[1]));       // storage offset 4
  auto half = tensor("half");
  EXPECT_EQ(half.scalar_type(), torch::kFloat16);
  EXPECT_FLOAT_EQ(half[1].item<float>(), -2.0f);
  EXPECT_EQ(tensor("bf16").scalar_type(), torch::kBFloat16);
  // The classes a checkpoint pickles besides tensors are kept, never fatal.
  EXPECT_EQ(root.Get("path")->kind, Kind::kObject);
  const PyValue* hp = root.Get("hparams");
  ASSERT_TRUE(hp->IsDictLike()) << hp->Describe();  // Lightning's AttributeDict: a dict subclass
  EXPECT_EQ(hp->Get("sample_rate")->integer, 22050);
  EXPECT_EQ(hp->Get("resblock")->text, "2");
  EXPECT_EQ(root.Get("numpy_scalar")->kind, Kind::kObject);
  EXPECT_EQ(root.Get("big_int")->integer, int64_t{1} << 40);
  EXPECT_EQ(root.Get("neg")->integer, -3);
  EXPECT_EQ(root.Get("text")->text, "ɲ ŋ");
  auto all = (*ckpt)->Tensors(root);
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_TRUE(all->count("nested.deep.x"));
  EXPECT_TRUE(all->count("ordered.a"));
  EXPECT_EQ(all->at("ordered.a").scalar_type(), torch::kInt64);
}

TEST(TorchCheckpointTest, DamagedFilesFailWithWhatIsWrong) {
  testing::TempDir tmp;
  std::string bytes;
  {
    std::ifstream in(Fixture("piper-xlow/model.ckpt"), std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  auto write = [&](const std::string& name, const std::string& data) {
    std::ofstream(tmp.Join(name), std::ios::binary) << data;
    return tmp.Join(name);
  };
  // Cut in half: the central directory at the end is gone.
  auto cut = TorchCheckpoint::Open(write("cut.ckpt", bytes.substr(0, bytes.size() / 2)));
  ASSERT_FALSE(cut.ok());
  EXPECT_THAT(std::string(cut.status().message()), HasSubstr("truncated"));
  // A flipped byte inside a tensor record: its CRC no longer matches when the tensor is read.
  std::string flipped = bytes;
  const size_t data_at = flipped.find("archive/data/0");
  ASSERT_NE(data_at, std::string::npos);
  flipped[data_at + 200] = static_cast<char>(flipped[data_at + 200] ^ 0x55);
  auto damaged = TorchCheckpoint::Open(write("flip.ckpt", flipped));
  if (damaged.ok()) {
    auto all = (*damaged)->Tensors((*damaged)->root());
    ASSERT_FALSE(all.ok());
    EXPECT_THAT(std::string(all.status().message()), HasSubstr("damaged"));
  }
  auto text = TorchCheckpoint::Open(write("notes.txt", "just some text, not a checkpoint\n"));
  ASSERT_FALSE(text.ok());
  EXPECT_THAT(std::string(text.status().message()), HasSubstr("not a PyTorch checkpoint"));
  auto legacy = TorchCheckpoint::Open(write("legacy.pt", std::string("\x80\x02\x8a\x0a" "l\xfc\x9c" "F\xf9 j\xa8P\x19.")));
  ASSERT_FALSE(legacy.ok());
  EXPECT_THAT(std::string(legacy.status().message()), HasSubstr("before 1.6"));
  auto missing = TorchCheckpoint::Open(tmp.Join("nope.ckpt"));
  EXPECT_TRUE(absl::IsNotFound(missing.status()));
}

TEST(ZipReaderTest, ListsAPyTorchArchiveAndReadsItsRecords) {
  auto zip = ZipReader::Open(Fixture("oddities.pt"));
  ASSERT_TRUE(zip.ok()) << zip.status();
  ASSERT_NE((*zip)->Find("oddities/data.pkl"), nullptr);
  auto version = (*zip)->Read("oddities/version");
  ASSERT_TRUE(version.ok()) << version.status();
  EXPECT_FALSE(version->empty());
  EXPECT_TRUE(absl::IsNotFound((*zip)->Read("oddities/none").status()));
}

}  // namespace
}  // namespace ttsd::core::interop
