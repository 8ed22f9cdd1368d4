#include "core/interop/pickle.h"

#include <cstring>
#include <map>
#include <unordered_map>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace ttsd::core::interop {
namespace {

using Kind = PyValue::Kind;

// torch's dtype names, from the names of its dtype objects ("torch.half") or storage classes.
std::string CanonicalDtype(std::string_view name) {
  static const std::map<std::string_view, std::string_view> kNames = {
      {"float32", "float32"}, {"float", "float32"},    {"float64", "float64"}, {"double", "float64"},
      {"float16", "float16"}, {"half", "float16"},     {"bfloat16", "bfloat16"}, {"int64", "int64"},
      {"long", "int64"},      {"int32", "int32"},      {"int", "int32"},       {"int16", "int16"},
      {"short", "int16"},     {"int8", "int8"},        {"uint8", "uint8"},     {"bool", "bool"}};
  auto it = kNames.find(name);
  return it == kNames.end() ? "" : std::string(it->second);
}

class Machine {
 public:
  explicit Machine(std::string_view data) : data_(data) {}

  // The value, or an error. A pickle may make a container hold itself (Python allows it); ttsd never
  // needs that, and such a value could not be freed, so it is refused and every value is released.
  absl::StatusOr<PyRef> Parse() {
    absl::StatusOr<PyRef> out = Run();
    if (out.ok() && HasCycle(*out)) out = absl::InvalidArgumentError("pickle: a value that contains itself");
    if (!out.ok()) {
      stack_.clear();
      memo_.clear();
      for (auto& weak : made_) {
        if (PyRef v = weak.lock()) {
          v->items.clear();
          v->entries.clear();
          v->klass = v->args = v->state = v->storage = nullptr;
        }
      }
    }
    return out;
  }

 private:
  absl::StatusOr<PyRef> Run();
  static bool HasCycle(const PyRef& root);

  PyRef Make(Kind kind) {
    auto v = std::make_shared<PyValue>();
    v->kind = kind;
    made_.push_back(v);
    return v;
  }
  PyRef MakeString(std::string s, Kind kind = Kind::kString) {
    auto v = Make(kind);
    v->text = std::move(s);
    return v;
  }
  PyRef MakeInt(int64_t i) {
    auto v = Make(Kind::kInt);
    v->integer = i;
    return v;
  }

  absl::Status Error(const std::string& what) const {
    return absl::InvalidArgumentError(
        absl::StrCat("pickle: ", what, " (opcode 0x", absl::Hex(static_cast<unsigned char>(op_)), " at byte ", op_at_, ")"));
  }
  bool Need(size_t n) const { return pos_ + n <= data_.size(); }
  uint64_t Le(int bytes) {
    uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(data_[pos_ + static_cast<size_t>(i)]);
    pos_ += static_cast<size_t>(bytes);
    return v;
  }
  absl::StatusOr<std::string> Bytes(uint64_t n) {
    if (n > data_.size() - pos_) return Error(absl::StrCat("a length of ", n, " runs past the end"));
    std::string s(data_.substr(pos_, n));
    pos_ += n;
    return s;
  }
  absl::StatusOr<std::string> Line() {
    size_t end = data_.find('\n', pos_);
    if (end == std::string_view::npos) return Error("unterminated text argument");
    std::string s(data_.substr(pos_, end - pos_));
    pos_ = end + 1;
    return s;
  }
  absl::StatusOr<PyRef> Pop() {
    if (stack_.empty() || (!marks_.empty() && stack_.size() <= marks_.back())) return Error("stack underflow");
    PyRef v = std::move(stack_.back());
    stack_.pop_back();
    return v;
  }
  absl::StatusOr<std::vector<PyRef>> PopToMark() {
    if (marks_.empty()) return Error("no MARK on the stack");
    const size_t m = marks_.back();
    marks_.pop_back();
    std::vector<PyRef> out(std::make_move_iterator(stack_.begin() + static_cast<std::ptrdiff_t>(m)),
                           std::make_move_iterator(stack_.end()));
    stack_.resize(m);
    return out;
  }
  absl::StatusOr<PyRef> Top() {
    if (stack_.empty()) return Error("stack underflow");
    return stack_.back();
  }
  absl::Status Memoize(uint64_t index) {
    if (stack_.empty()) return Error("nothing to memoize");
    memo_[index] = stack_.back();
    return absl::OkStatus();
  }
  absl::Status Recall(uint64_t index) {
    auto it = memo_.find(index);
    if (it == memo_.end()) return Error(absl::StrCat("memo entry ", index, " was never stored"));
    stack_.push_back(it->second);
    return absl::OkStatus();
  }
  absl::Status SetItems(PyValue& target, std::vector<PyRef> kv) {
    if (target.kind != Kind::kDict && target.kind != Kind::kObject) return Error("SETITEM on a " + target.Describe());
    if (kv.size() % 2 != 0) return Error("SETITEMS with an odd number of values");
    for (size_t i = 0; i < kv.size(); i += 2) {
      bool replaced = false;
      if (kv[i]->kind == Kind::kString) {  // a dict key set twice keeps its first position, as Python's
        for (auto& [k, v] : target.entries) {
          if (k->kind == Kind::kString && k->text == kv[i]->text) {
            v = kv[i + 1];
            replaced = true;
            break;
          }
        }
      }
      if (!replaced) target.entries.emplace_back(kv[i], kv[i + 1]);
    }
    return absl::OkStatus();
  }
  absl::Status Append(PyValue& target, std::vector<PyRef> items) {
    if (target.kind != Kind::kList && target.kind != Kind::kObject) return Error("APPEND on a " + target.Describe());
    for (auto& v : items) target.items.push_back(std::move(v));
    return absl::OkStatus();
  }
  absl::StatusOr<PyRef> Reduce(const PyRef& callable, const PyRef& args);
  absl::StatusOr<PyRef> Storage(const PyRef& pid);

  std::string_view data_;
  size_t pos_ = 0, op_at_ = 0;
  char op_ = 0;
  std::vector<PyRef> stack_;
  std::vector<size_t> marks_;
  std::unordered_map<uint64_t, PyRef> memo_;  // Python's memo is a dict: indices need not be dense
  std::vector<std::weak_ptr<PyValue>> made_;  // every value made, to break what a failed parse leaves
};

// Depth-first over children with an explicit stack: grey while a value's children are being visited.
bool Machine::HasCycle(const PyRef& root) {
  struct Visit {
    const PyValue* value;
    std::vector<const PyValue*> children;
    size_t next = 0;
  };
  auto visit = [](const PyValue* v) {
    Visit out{v, {}, 0};
    for (const auto& x : v->items) out.children.push_back(x.get());
    for (const auto& [k, x] : v->entries) {
      out.children.push_back(k.get());
      out.children.push_back(x.get());
    }
    for (const PyRef* x : {&v->klass, &v->args, &v->state, &v->storage}) out.children.push_back(x->get());
    return out;
  };
  std::map<const PyValue*, bool> done;  // false: grey (on the current path), true: black
  std::vector<Visit> path;
  path.push_back(visit(root.get()));
  done[root.get()] = false;
  while (!path.empty()) {
    Visit& top = path.back();
    if (top.next == top.children.size()) {
      done[top.value] = true;
      path.pop_back();
      continue;
    }
    const PyValue* child = top.children[top.next++];
    if (child == nullptr) continue;
    auto it = done.find(child);
    if (it == done.end()) {
      done[child] = false;
      path.push_back(visit(child));
    } else if (!it->second) {
      return true;
    }
  }
  return false;
}

absl::StatusOr<PyRef> Machine::Storage(const PyRef& pid) {
  // torch.save's persistent id: ("storage", storage class, key, location, numel).
  if (pid->kind != Kind::kTuple || pid->items.size() < 4 || pid->items[0]->kind != Kind::kString ||
      pid->items[0]->text != "storage") {
    return Error("a persistent id that is not a torch storage");
  }
  const auto& cls = pid->items[1];
  auto v = Make(Kind::kStorage);
  std::string name = cls->kind == Kind::kGlobal ? cls->text : "";
  if (auto dot = name.rfind('.'); dot != std::string::npos) name = name.substr(dot + 1);
  v->dtype = name == "UntypedStorage" ? "uint8" : DtypeOfStorageClass(name);
  if (v->dtype.empty()) return Error(absl::StrCat("unknown storage type '", cls->text, "'"));
  const auto& key = pid->items[2];
  if (key->kind == Kind::kString) {
    v->text = key->text;
  } else if (key->kind == Kind::kInt) {
    v->text = std::to_string(key->integer);
  } else {
    return Error("a storage key that is not a string");
  }
  if (pid->items[3]->kind == Kind::kString) v->location = pid->items[3]->text;
  return v;
}

absl::StatusOr<PyRef> Machine::Reduce(const PyRef& callable, const PyRef& args) {
  const std::string name = callable->kind == Kind::kGlobal ? callable->text : "";
  const auto& a = args->items;
  auto ints = [&](const PyRef& t, std::vector<int64_t>* out) {
    if (t->kind != Kind::kTuple && t->kind != Kind::kList) return false;
    for (const auto& x : t->items) {
      if (x->kind != Kind::kInt) return false;
      out->push_back(x->integer);
    }
    return true;
  };
  if (name == "torch._utils._rebuild_tensor_v2" || name == "torch._utils._rebuild_tensor" ||
      name == "torch._utils._rebuild_tensor_v3") {
    if (args->kind != Kind::kTuple || a.size() < 4 || a[0]->kind != Kind::kStorage || a[1]->kind != Kind::kInt) {
      return Error(absl::StrCat(name, " with unexpected arguments"));
    }
    auto t = Make(Kind::kTensor);
    t->storage = a[0];
    t->dtype = a[0]->dtype;
    t->offset = a[1]->integer;
    if (!ints(a[2], &t->sizes) || !ints(a[3], &t->strides) || t->sizes.size() != t->strides.size()) {
      return Error("a tensor's sizes or strides are not integer tuples of one length");
    }
    if (name == "torch._utils._rebuild_tensor_v3" && a.size() > 6 && a[6]->kind == Kind::kGlobal) {
      std::string dt = a[6]->text.substr(a[6]->text.rfind('.') + 1);
      t->dtype = CanonicalDtype(dt);
      if (t->dtype.empty()) return Error("unknown tensor dtype " + a[6]->text);
    }
    return t;
  }
  if (name == "torch._utils._rebuild_parameter" || name == "torch._utils._rebuild_parameter_with_state") {
    if (args->kind != Kind::kTuple || a.empty() || a[0]->kind != Kind::kTensor) return Error(name + " without a tensor");
    return a[0];
  }
  if (name == "collections.OrderedDict") {
    auto d = Make(Kind::kDict);
    if (!a.empty() && (a[0]->kind == Kind::kList || a[0]->kind == Kind::kTuple)) {
      for (const auto& pair : a[0]->items) {
        if ((pair->kind == Kind::kList || pair->kind == Kind::kTuple) && pair->items.size() == 2) {
          d->entries.emplace_back(pair->items[0], pair->items[1]);
        }
      }
    }
    return d;
  }
  if (name == "torch.Size" && !a.empty() && a[0]->kind == Kind::kTuple) return a[0];
  // Anything else is kept as an opaque object; copyreg's reconstructor names the real class.
  auto o = Make(Kind::kObject);
  o->klass = (name == "copyreg._reconstructor" && !a.empty()) ? a[0] : callable;
  o->args = args;
  return o;
}

absl::StatusOr<PyRef> Machine::Run() {
  while (pos_ < data_.size()) {
    op_at_ = pos_;
    op_ = data_[pos_++];
    const unsigned char op = static_cast<unsigned char>(op_);
    auto need = [&](size_t n) { return Need(n) ? absl::OkStatus() : Error("truncated argument"); };
#define TTSD_NEED(n) \
  if (auto s = need(n); !s.ok()) return s
#define TTSD_TRY(expr) \
  if (auto s = (expr); !s.ok()) return s
    switch (op) {
      case 0x80:  // PROTO
        TTSD_NEED(1);
        if (Le(1) > 5) return Error("pickle protocol newer than 5");
        break;
      case 0x95:  // FRAME: a length prefix only
        TTSD_NEED(8);
        Le(8);
        break;
      case '.': {  // STOP
        if (stack_.empty()) return Error("STOP with an empty stack");
        return stack_.back();
      }
      case '(':
        marks_.push_back(stack_.size());
        break;
      case '}':
        stack_.push_back(Make(Kind::kDict));
        break;
      case ']':
        stack_.push_back(Make(Kind::kList));
        break;
      case ')':
        stack_.push_back(Make(Kind::kTuple));
        break;
      case 0x8f:  // EMPTY_SET
        stack_.push_back(Make(Kind::kList));
        break;
      case 'N':
        stack_.push_back(Make(Kind::kNone));
        break;
      case 0x88:
      case 0x89: {
        auto v = Make(Kind::kBool);
        v->boolean = op == 0x88;
        stack_.push_back(v);
        break;
      }
      case 'J':
        TTSD_NEED(4);
        stack_.push_back(MakeInt(static_cast<int32_t>(Le(4))));
        break;
      case 'K':
        TTSD_NEED(1);
        stack_.push_back(MakeInt(static_cast<int64_t>(Le(1))));
        break;
      case 'M':
        TTSD_NEED(2);
        stack_.push_back(MakeInt(static_cast<int64_t>(Le(2))));
        break;
      case 0x8a:    // LONG1
      case 0x8b: {  // LONG4
        const int len_bytes = op == 0x8a ? 1 : 4;
        TTSD_NEED(static_cast<size_t>(len_bytes));
        const uint64_t n = Le(len_bytes);
        if (n > 8) return Error("an integer wider than 64 bits");
        TTSD_NEED(n);
        uint64_t v = n == 0 ? 0 : Le(static_cast<int>(n));
        if (n > 0 && n < 8 && (v >> (8 * n - 1)) & 1) v |= ~uint64_t{0} << (8 * n);  // sign-extend
        stack_.push_back(MakeInt(static_cast<int64_t>(v)));
        break;
      }
      case 'I':  // INT (text; "01" / "00" are True / False)
      case 'L': {
        auto line = Line();
        if (!line.ok()) return line.status();
        std::string t = *line;
        if (!t.empty() && t.back() == 'L') t.pop_back();
        if (op == 'I' && (t == "01" || t == "00")) {
          auto v = Make(Kind::kBool);
          v->boolean = t == "01";
          stack_.push_back(v);
          break;
        }
        int64_t i = 0;
        if (!absl::SimpleAtoi(t, &i)) return Error("a text integer that is not one");
        stack_.push_back(MakeInt(i));
        break;
      }
      case 'G': {  // BINFLOAT: big-endian double
        TTSD_NEED(8);
        uint64_t bits = 0;
        for (int i = 0; i < 8; ++i) bits = (bits << 8) | static_cast<unsigned char>(data_[pos_++]);
        auto v = Make(Kind::kFloat);
        std::memcpy(&v->number, &bits, 8);
        stack_.push_back(v);
        break;
      }
      case 'F': {
        auto line = Line();
        if (!line.ok()) return line.status();
        auto v = Make(Kind::kFloat);
        if (!absl::SimpleAtod(*line, &v->number)) return Error("a text float that is not one");
        stack_.push_back(v);
        break;
      }
      case 'X':
      case 0x8c:
      case 0x8d:
      case 'B':
      case 'C':
      case 0x8e:
      case 0x96:
      case 'T':
      case 'U': {
        int len_bytes = 4;
        if (op == 0x8c || op == 'C' || op == 'U') len_bytes = 1;
        if (op == 0x8d || op == 0x8e || op == 0x96) len_bytes = 8;
        TTSD_NEED(static_cast<size_t>(len_bytes));
        auto s = Bytes(Le(len_bytes));
        if (!s.ok()) return s.status();
        const bool text = op == 'X' || op == 0x8c || op == 0x8d || op == 'T' || op == 'U';
        stack_.push_back(MakeString(std::move(*s), text ? Kind::kString : Kind::kBytes));
        break;
      }
      case 'V': {  // UNICODE (raw-unicode-escape text; ASCII in practice)
        auto line = Line();
        if (!line.ok()) return line.status();
        stack_.push_back(MakeString(*line));
        break;
      }
      case 'c': {  // GLOBAL "module\nname\n"
        auto module = Line();
        if (!module.ok()) return module.status();
        auto name = Line();
        if (!name.ok()) return name.status();
        stack_.push_back(MakeString(absl::StrCat(*module, ".", *name), Kind::kGlobal));
        break;
      }
      case 0x93: {  // STACK_GLOBAL
        auto name = Pop();
        if (!name.ok()) return name.status();
        auto module = Pop();
        if (!module.ok()) return module.status();
        if ((*name)->kind != Kind::kString || (*module)->kind != Kind::kString) return Error("STACK_GLOBAL of non-strings");
        stack_.push_back(MakeString(absl::StrCat((*module)->text, ".", (*name)->text), Kind::kGlobal));
        break;
      }
      case 'q':
        TTSD_NEED(1);
        TTSD_TRY(Memoize(Le(1)));
        break;
      case 'r':
        TTSD_NEED(4);
        TTSD_TRY(Memoize(Le(4)));
        break;
      case 0x94:  // MEMOIZE: the next index, which is the memo's size
        TTSD_TRY(Memoize(memo_.size()));
        break;
      case 'p': {
        auto line = Line();
        if (!line.ok()) return line.status();
        uint64_t i = 0;
        if (!absl::SimpleAtoi(*line, &i)) return Error("bad PUT index");
        TTSD_TRY(Memoize(i));
        break;
      }
      case 'h':
        TTSD_NEED(1);
        TTSD_TRY(Recall(Le(1)));
        break;
      case 'j':
        TTSD_NEED(4);
        TTSD_TRY(Recall(Le(4)));
        break;
      case 'g': {
        auto line = Line();
        if (!line.ok()) return line.status();
        uint64_t i = 0;
        if (!absl::SimpleAtoi(*line, &i)) return Error("bad GET index");
        TTSD_TRY(Recall(i));
        break;
      }
      case '0':
        if (auto v = Pop(); !v.ok()) return v.status();
        break;
      case '1': {
        auto v = PopToMark();
        if (!v.ok()) return v.status();
        break;
      }
      case '2': {
        auto v = Top();
        if (!v.ok()) return v.status();
        stack_.push_back(*v);
        break;
      }
      case 't':
      case 0x91: {  // TUPLE, FROZENSET
        auto items = PopToMark();
        if (!items.ok()) return items.status();
        auto v = Make(op == 't' ? Kind::kTuple : Kind::kList);
        v->items = std::move(*items);
        stack_.push_back(v);
        break;
      }
      case 0x85:
      case 0x86:
      case 0x87: {
        const size_t n = op - 0x84;
        if (stack_.size() < n || (!marks_.empty() && stack_.size() - n < marks_.back())) return Error("stack underflow");
        auto v = Make(Kind::kTuple);
        v->items.assign(std::make_move_iterator(stack_.end() - static_cast<std::ptrdiff_t>(n)),
                        std::make_move_iterator(stack_.end()));
        stack_.resize(stack_.size() - n);
        stack_.push_back(v);
        break;
      }
      case 'l': {  // LIST
        auto items = PopToMark();
        if (!items.ok()) return items.status();
        auto v = Make(Kind::kList);
        v->items = std::move(*items);
        stack_.push_back(v);
        break;
      }
      case 'd': {  // DICT
        auto items = PopToMark();
        if (!items.ok()) return items.status();
        auto v = Make(Kind::kDict);
        TTSD_TRY(SetItems(*v, std::move(*items)));
        stack_.push_back(v);
        break;
      }
      case 's': {
        auto value = Pop();
        if (!value.ok()) return value.status();
        auto key = Pop();
        if (!key.ok()) return key.status();
        auto target = Top();
        if (!target.ok()) return target.status();
        TTSD_TRY(SetItems(**target, {*key, *value}));
        break;
      }
      case 'u': {
        auto items = PopToMark();
        if (!items.ok()) return items.status();
        auto target = Top();
        if (!target.ok()) return target.status();
        TTSD_TRY(SetItems(**target, std::move(*items)));
        break;
      }
      case 'a': {
        auto value = Pop();
        if (!value.ok()) return value.status();
        auto target = Top();
        if (!target.ok()) return target.status();
        TTSD_TRY(Append(**target, {*value}));
        break;
      }
      case 'e':
      case 0x90: {  // APPENDS, ADDITEMS
        auto items = PopToMark();
        if (!items.ok()) return items.status();
        auto target = Top();
        if (!target.ok()) return target.status();
        TTSD_TRY(Append(**target, std::move(*items)));
        break;
      }
      case 'R': {
        auto args = Pop();
        if (!args.ok()) return args.status();
        auto callable = Pop();
        if (!callable.ok()) return callable.status();
        if ((*args)->kind != Kind::kTuple) return Error("REDUCE arguments are not a tuple");
        auto v = Reduce(*callable, *args);
        if (!v.ok()) return v.status();
        stack_.push_back(*v);
        break;
      }
      case 0x81:    // NEWOBJ
      case 0x92: {  // NEWOBJ_EX (kwargs dropped)
        if (op == 0x92) {
          if (auto k = Pop(); !k.ok()) return k.status();
        }
        auto args = Pop();
        if (!args.ok()) return args.status();
        auto cls = Pop();
        if (!cls.ok()) return cls.status();
        PyRef v;
        if ((*cls)->kind == Kind::kGlobal && (*cls)->text == "collections.OrderedDict") {
          v = Make(Kind::kDict);
        } else {
          v = Make(Kind::kObject);
          v->klass = *cls;
          v->args = *args;
        }
        stack_.push_back(v);
        break;
      }
      case 'b': {  // BUILD: only objects keep their state; dicts and tensors ignore theirs
        auto state = Pop();
        if (!state.ok()) return state.status();
        auto target = Top();
        if (!target.ok()) return target.status();
        if ((*target)->kind == Kind::kObject) (*target)->state = *state;
        break;
      }
      case 'Q': {  // BINPERSID
        auto pid = Pop();
        if (!pid.ok()) return pid.status();
        auto v = Storage(*pid);
        if (!v.ok()) return v.status();
        stack_.push_back(*v);
        break;
      }
      default:
        return Error("unsupported opcode");
    }
#undef TTSD_NEED
#undef TTSD_TRY
  }
  return absl::InvalidArgumentError("pickle: ends without STOP (truncated)");
}

}  // namespace

PyValue::~PyValue() {
  // Release children iteratively: a value nested a million deep would otherwise recurse as deep.
  std::vector<PyRef> pending;
  auto take = [&](PyValue& v) {
    for (auto& c : v.items) pending.push_back(std::move(c));
    for (auto& [k, c] : v.entries) {
      pending.push_back(std::move(k));
      pending.push_back(std::move(c));
    }
    for (PyRef* c : {&v.klass, &v.args, &v.state, &v.storage}) pending.push_back(std::move(*c));
    v.items.clear();
    v.entries.clear();
  };
  take(*this);
  while (!pending.empty()) {
    PyRef p = std::move(pending.back());
    pending.pop_back();
    if (p && p.use_count() == 1) take(*p);
  }
}

const PyValue* PyValue::Get(std::string_view key) const {
  for (const auto& [k, v] : entries) {
    if (k->kind == Kind::kString && k->text == key) return v.get();
  }
  return nullptr;
}

std::string PyValue::Describe() const {
  switch (kind) {
    case Kind::kNone: return "None";
    case Kind::kBool: return "a bool";
    case Kind::kInt: return "an int";
    case Kind::kFloat: return "a float";
    case Kind::kString: return "a str";
    case Kind::kBytes: return "bytes";
    case Kind::kList: return absl::StrCat("a list of ", items.size());
    case Kind::kTuple: return absl::StrCat("a tuple of ", items.size());
    case Kind::kDict: return absl::StrCat("a dict of ", entries.size(), " entries");
    case Kind::kGlobal: return "the global " + text;
    case Kind::kObject: return "an object of class " + (klass ? klass->text : std::string("?"));
    case Kind::kStorage: return "a storage";
    case Kind::kTensor: return "a tensor";
  }
  return "?";
}

absl::StatusOr<PyRef> ParsePickle(std::string_view data) { return Machine(data).Parse(); }

std::string DtypeOfStorageClass(std::string_view c) {
  static const std::map<std::string_view, std::string_view> kStorages = {
      {"FloatStorage", "float32"}, {"DoubleStorage", "float64"}, {"HalfStorage", "float16"},
      {"BFloat16Storage", "bfloat16"}, {"LongStorage", "int64"}, {"IntStorage", "int32"},
      {"ShortStorage", "int16"},   {"CharStorage", "int8"},     {"ByteStorage", "uint8"},
      {"BoolStorage", "bool"}};
  auto it = kStorages.find(c);
  return it == kStorages.end() ? "" : std::string(it->second);
}

int ElementSize(std::string_view dtype) {
  if (dtype == "float64" || dtype == "int64") return 8;
  if (dtype == "float32" || dtype == "int32") return 4;
  if (dtype == "float16" || dtype == "bfloat16" || dtype == "int16") return 2;
  if (dtype == "int8" || dtype == "uint8" || dtype == "bool") return 1;
  return 0;
}

}  // namespace ttsd::core::interop
