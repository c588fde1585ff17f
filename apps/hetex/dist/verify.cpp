// SPDX-License-Identifier: MIT
// hetex verify across ranks. A chunk is a byte range of the input, cut after a newline: the
// lines that start in it. Where every rank sees the input file (a shared file system) a chunk
// travels as its range alone and its rank reads it; otherwise rank 0 reads the input (a file or
// standard input) and sends each chunk's bytes. Ranks parse and verify; rank 0 numbers the lines
// and prints the verdicts in input order.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "dist/session.hpp"
#include "hetex/dist/bytes.hpp"
#include "hetex/ops/ed25519.hpp"
#include "verify_line.hpp"

namespace hetex::cli {
namespace dist_cmd {
namespace {

enum class Mode : std::uint8_t { read_range = 0, bytes = 1 };
enum class LineStatus : std::uint8_t { invalid = 0, valid = 1, malformed = 2 };

Error read_error(const std::string& name) { return Error(Errc::io, name + ": read error: " + std::strerror(errno)); }

// pread, whole (short only at the end of the file).
Result<std::size_t> pread_all(int fd, std::uint8_t* p, std::size_t n, std::uint64_t at, const std::string& name) {
  std::size_t got = 0;
  while (got < n) {
    const ssize_t r = ::pread(fd, p + got, n - got, static_cast<off_t>(at + got));
    if (r < 0) {
      if (errno == EINTR) continue;
      return read_error(name);
    }
    if (r == 0) break;
    got += static_cast<std::size_t>(r);
  }
  return got;
}

// Longer lines are not read whole (as `hetex verify` bounds them).
constexpr std::size_t kMaxLine = std::size_t(64) << 20;

class Input {
 public:
  static Result<Input> open(const std::string& name) {
    Input in;
    in.name_ = name;
    if (name == "-") {
      in.fd_ = STDIN_FILENO;
      return in;
    }
    in.fd_ = ::open(name.c_str(), O_RDONLY | O_CLOEXEC);
    if (in.fd_ < 0) return Error(Errc::io, name + ": cannot open: " + std::strerror(errno));
    in.owned_ = true;
    return in;
  }
  Input() = default;
  Input(Input&& o) noexcept { *this = std::move(o); }
  Input& operator=(Input&& o) noexcept {
    std::swap(fd_, o.fd_);
    std::swap(owned_, o.owned_);
    name_ = std::move(o.name_);
    return *this;
  }
  ~Input() {
    if (owned_) ::close(fd_);
  }
  int fd() const { return fd_; }
  const std::string& name() const { return name_; }

 private:
  int fd_ = -1;
  bool owned_ = false;
  std::string name_;
};

class VerifyJob final : public dist::ChunkSource, public dist::ChunkWorker {
 public:
  VerifyJob(Session& s, Input in, bool shared, std::uint64_t size)
      : s_(s), in_(std::move(in)), shared_(shared), size_(size) {}

  // --- rank 0
  std::uint64_t position() const override { return pos_; }
  double total_cost() const override { return static_cast<double>(size_); }  // 0: a stream

  Result<std::optional<dist::Range>> next(double cost, std::uint64_t limit, bool, dist::ChunkPayload& chunk,
                                          double& actual) override {
    auto& payload = chunk.bytes();
    const auto want = std::max<std::uint64_t>(1, static_cast<std::uint64_t>(cost));
    std::uint64_t end = 0;
    if (shared_) {
      if (pos_ >= size_) return std::optional<dist::Range>{};
      end = HETEX_TRY(shared_cut(std::min(limit, pos_ + want)));
      payload.push_back(static_cast<std::uint8_t>(Mode::read_range));
    } else {
      HETEX_TRY_VOID(fill(want));
      if (buf_.size() == off_) return std::optional<dist::Range>{};
      // After the first newline at or past the wanted size; the whole rest at the end of input.
      std::size_t cut = 0;
      for (;;) {
        const std::size_t from = off_ + std::min<std::size_t>(want, buf_.size() - off_) - 1;
        const void* nl = std::memchr(buf_.data() + from, '\n', buf_.size() - from);
        if (nl) {
          cut = static_cast<const std::uint8_t*>(nl) - buf_.data() + 1;
          break;
        }
        if (eof_) {
          cut = buf_.size();
          break;
        }
        // Memory stays bounded: a line this long ends the job (the single-process command
        // reports it as a malformed line and goes on).
        if (buf_.size() - off_ > want + kMaxLine)
          return Error(Errc::invalid_argument, in_.name() + ": a line after byte " + std::to_string(pos_) +
                                                   " is longer than " + std::to_string(kMaxLine >> 20) + " MiB");
        HETEX_TRY_VOID(fill(buf_.size() - off_ + (std::size_t(1) << 20)));
      }
      if (pos_ + (cut - off_) > limit) cut = off_ + (limit - pos_);  // a journal chunk starts there
      end = pos_ + (cut - off_);
      payload.push_back(static_cast<std::uint8_t>(Mode::bytes));
      payload.insert(payload.end(), buf_.begin() + off_, buf_.begin() + cut);
      off_ = cut;
    }
    dist::Range r{pos_, end};
    actual = static_cast<double>(end - pos_);
    pos_ = end;
    return std::optional(r);
  }

  Status skip(std::uint64_t to) override {
    if (shared_ || ::lseek(in_.fd(), 0, SEEK_CUR) >= 0) {
      if (!shared_) {
        if (::lseek(in_.fd(), static_cast<off_t>(to), SEEK_SET) < 0) return read_error(in_.name());
        buf_.clear();
        off_ = 0;
      }
      pos_ = to;
      return {};
    }
    while (pos_ < to) {  // a stream: read past what is done
      HETEX_TRY_VOID(fill(1));
      const std::size_t n = std::min<std::uint64_t>(to - pos_, buf_.size() - off_);
      if (n == 0) return Error(Errc::io, in_.name() + " ended before the journal's chunks");
      off_ += n;
      pos_ += n;
    }
    return {};
  }

  Status deliver(dist::Range, std::span<const std::uint8_t> result) override {
    dist::ByteReader in(result);
    const auto status = HETEX_TRY(in.get_array<std::uint8_t>());
    std::string out;
    out.reserve(status.size() * 8);
    for (auto st : status) {
      ++lines_;
      switch (static_cast<LineStatus>(st)) {
        case LineStatus::valid:
          out += "valid\n";
          ++valid_;
          break;
        case LineStatus::invalid:
          out += "invalid\n";
          ++invalid_;
          break;
        default:
          out += "error: line " + std::to_string(lines_) + ": " + std::string(HETEX_TRY(in.get_string())) + "\n";
          ++malformed_;
      }
    }
    return s_.emit(out, this);
  }

  // --- every rank
  Result<std::vector<std::uint8_t>> run(dist::Range r, std::span<const std::uint8_t> payload) override {
    if (payload.empty()) return Error(Errc::internal, "verify chunk without a mode");
    std::vector<std::uint8_t> owned;
    std::span<const std::uint8_t> text;
    if (static_cast<Mode>(payload[0]) == Mode::read_range) {
      owned.resize(r.end - r.begin);
      const auto got = HETEX_TRY(pread_all(in_.fd(), owned.data(), owned.size(), r.begin, in_.name()));
      if (got != owned.size())
        return Error(Errc::io,
                     in_.name() + " is shorter on " + s_.comm().describe(s_.comm().rank()) + " than rank 0 said");
      text = owned;
    } else {
      text = payload.subspan(1);
    }
    // The lines that start in the range; a chunk's end is a newline or the end of the input.
    std::vector<std::uint8_t> status;
    std::vector<std::string> reasons;
    std::vector<ops::PublicKey> keys;
    std::vector<ops::Signature> sigs;
    ops::PackedMessages msgs;
    SignedLine parsed;
    const char* p = reinterpret_cast<const char*>(text.data());
    for (std::size_t at = 0; at < text.size();) {
      const void* nl = std::memchr(p + at, '\n', text.size() - at);
      const std::size_t stop = nl ? static_cast<const char*>(nl) - p : text.size();
      std::string_view line(p + at, stop - at);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);  // as the single-process reader does
      if (auto err = parse_verify_line(line, parsed)) {
        status.push_back(static_cast<std::uint8_t>(LineStatus::malformed));
        reasons.push_back(std::move(*err));
      } else {
        status.push_back(static_cast<std::uint8_t>(LineStatus::invalid));
        keys.push_back(parsed.key);
        sigs.push_back(parsed.signature);
        msgs.add(std::span<const std::uint8_t>(parsed.message));
      }
      at = stop + 1;
    }
    std::vector<ops::Verdict> verdicts(keys.size());
    if (!keys.empty()) {
      auto rep = HETEX_TRY(
          s_.scheduler().run(ops::ed25519_verify(), ops::VerifyBatch{keys, sigs, msgs.view()}, std::span(verdicts)));
      if (!rep.all_ok()) return rep.status().error();
    }
    std::size_t v = 0;
    for (auto& st : status)
      if (st != static_cast<std::uint8_t>(LineStatus::malformed))
        st = static_cast<std::uint8_t>(verdicts[v++] == ops::Verdict::valid ? LineStatus::valid : LineStatus::invalid);
    std::vector<std::uint8_t> out;
    dist::ByteWriter w(out);
    w.put_array(std::span<const std::uint8_t>(status));
    for (const auto& reason : reasons) w.put_string(reason);
    return out;
  }

  std::size_t lines_ = 0, valid_ = 0, invalid_ = 0, malformed_ = 0;

 private:
  // The end of a chunk of a shared file that should end near `want`: just past the first
  // newline at or after it (the file's end at most).
  Result<std::uint64_t> shared_cut(std::uint64_t want) {
    if (want >= size_) return size_;
    std::uint8_t block[1 << 16];
    for (std::uint64_t at = want - 1; at < size_; at += sizeof block) {
      const auto got = HETEX_TRY(pread_all(in_.fd(), block, sizeof block, at, in_.name()));
      if (const void* nl = std::memchr(block, '\n', got))
        return at + (static_cast<const std::uint8_t*>(nl) - block) + 1;
      if (got < sizeof block) break;
    }
    return size_;
  }
  // Rank 0's read buffer holds at least `want` unsent bytes, or everything to the end.
  Status fill(std::size_t want) {
    if (off_ > (std::size_t(64) << 20) || (off_ && off_ == buf_.size())) {
      buf_.erase(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(off_));
      off_ = 0;
    }
    while (!eof_ && buf_.size() - off_ < want) {
      const std::size_t have = buf_.size(), grow = std::max<std::size_t>(std::size_t(1) << 20, want - (have - off_));
      buf_.resize(have + grow);
      auto r = read_some(in_.fd(), buf_.data() + have, grow, this, in_.name());
      buf_.resize(have + (r ? *r : 0));
      if (!r) return r.error();
      if (*r == 0) eof_ = true;
    }
    return {};
  }

  Session& s_;
  Input in_;
  bool shared_;
  std::uint64_t size_;
  std::uint64_t pos_ = 0;
  std::vector<std::uint8_t> buf_;
  std::size_t off_ = 0;
  bool eof_ = false;
};

}  // namespace
}  // namespace dist_cmd

int dist_verify(const std::string& input, const Common& common, const DistArgs& args) {
  using namespace dist_cmd;
  if (!args.journal.empty() && input == "-") {
    std::fprintf(stderr, "hetex verify: --journal needs --input FILE: standard input cannot be read again to resume\n");
    return 2;
  }
  auto s = Session::open("verify", common, args);
  if (!s) return 2;
  // Every rank that sees the same file reads its own chunks; otherwise rank 0 reads for all.
  const std::string identity = dist_cmd::file_identity(input);
  const bool shared = s->comm().size() > 1 && s->everyone_sees(identity.empty() ? "" : input + "|" + identity);
  Result<Input> in = (s->is_root() || shared) ? Input::open(input) : Result<Input>(Input{});
  const bool opened = static_cast<bool>(in);
  if (!opened && s->is_root()) std::fprintf(stderr, "hetex verify: %s\n", in.error().message().c_str());
  auto all_opened = s->comm().all(opened);
  if (!all_opened || !*all_opened) return 2;
  const std::uint64_t size = identity.empty() ? 0 : std::stoull(identity.substr(0, identity.find(':')));
  VerifyJob job(*s, std::move(*in), shared, size);
  auto o = s->job_options(input + "|" + identity, 256 << 10, 1, 64 << 20);
  auto r = dist::run_job(s->comm(), s->is_root() ? &job : nullptr, job, o);
  s->conclude(r);
  if (!s->is_root()) return 0;
  std::fprintf(stderr, "hetex verify: %zu lines: %zu valid, %zu invalid, %zu malformed\n", job.lines_, job.valid_,
               job.invalid_, job.malformed_);
  s->summarize(*r, "bytes of input");
  return job.malformed_ ? 1 : 0;
}

}  // namespace hetex::cli
