// SPDX-License-Identifier: MIT
// hetex sha256 across ranks. A chunk is a run of files in argument order, sized by bytes. Where
// every rank sees every regular file alike (a shared file system) a chunk travels as its file
// indices and its rank reads the files; anything else (standard input, FIFOs, or files only
// rank 0 sees) rank 0 reads, in argument order, and sends. Rank 0 prints the digests in order.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "dist/session.hpp"
#include "hetex/dist/bytes.hpp"
#include "hetex/ops/sha256.hpp"
#include "sha256_line.hpp"

namespace hetex::cli {
namespace dist_cmd {
namespace {

enum class Item : std::uint8_t { read_path = 0, bytes = 1, error = 2 };
constexpr double kCostPerFile = 4096;  // opening and reading a file costs something, however small

// The whole file; `source` (rank 0 reading a pipe) keeps the job alive while it waits.
Result<std::vector<std::uint8_t>> read_whole(const std::string& name, const dist::ChunkSource* source = nullptr) {
  int fd = STDIN_FILENO;
  if (name != "-") {
    fd = ::open(name.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Error(Errc::io, name + ": cannot open: " + std::strerror(errno));
    struct stat st {};
    if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
      ::close(fd);
      return Error(Errc::io, name + ": is a directory");
    }
  }
  std::vector<std::uint8_t> bytes;
  for (;;) {
    const std::size_t have = bytes.size();
    bytes.resize(have + (std::size_t(1) << 20));
    auto r = read_some(fd, bytes.data() + have, bytes.size() - have, source, name);
    bytes.resize(have + (r ? *r : 0));
    if (!r) {
      if (fd != STDIN_FILENO) ::close(fd);
      return r.error();
    }
    if (*r == 0) break;
  }
  if (fd != STDIN_FILENO) ::close(fd);
  return bytes;
}

class Sha256Job final : public dist::ChunkSource, public dist::ChunkWorker {
 public:
  Sha256Job(Session& s, const std::vector<std::string>& files, std::vector<std::string> identity, bool shared)
      : s_(s), files_(files), identity_(std::move(identity)), shared_(shared) {
    for (std::size_t i = 0; i < files.size(); ++i) total_ += cost_of(i);
  }

  // --- rank 0
  std::uint64_t position() const override { return pos_; }
  double total_cost() const override { return total_; }
  Result<std::optional<dist::Range>> next(double cost, std::uint64_t limit, bool for_root, dist::ChunkPayload& payload,
                                          double& actual) override {
    if (pos_ >= files_.size()) return std::optional<dist::Range>{};
    dist::ByteWriter w(payload);
    const std::uint64_t begin = pos_;
    actual = 0;
    while (pos_ < files_.size() && pos_ < limit && (pos_ == begin || actual + cost_of(pos_) <= cost)) {
      actual += cost_of(pos_);
      const bool regular = !identity_[pos_].empty();
      if (regular && (shared_ || for_root)) {
        w.put(Item::read_path);
      } else {
        // Rank 0 reads it now, in argument order (standard input and FIFOs can be read once).
        auto bytes = read_whole(files_[pos_], this);
        if (bytes) {
          w.put(Item::bytes);
          w.put_array(std::span<const std::uint8_t>(*bytes));
        } else {
          w.put(Item::error);
          w.put_string(bytes.error().message());
        }
      }
      ++pos_;
    }
    return std::optional(dist::Range{begin, pos_});
  }
  Status skip(std::uint64_t to) override {
    pos_ = to;
    return {};
  }
  Status deliver(dist::Range r, std::span<const std::uint8_t> result) override {
    dist::ByteReader in(result);
    std::string out;
    for (auto i = r.begin; i < r.end; ++i) {
      if (HETEX_TRY(in.get<Item>()) == Item::error) {
        HETEX_TRY_VOID(s_.emit(out, this));
        out.clear();
        std::fprintf(stderr, "hetex sha256: %s\n", std::string(HETEX_TRY(in.get_string())).c_str());
        ++failed_;
        continue;
      }
      ops::Digest d;
      auto raw = HETEX_TRY(in.get_raw(d.size()));
      std::copy(raw.begin(), raw.end(), d.begin());
      out += sha256_line(d, files_[i]);
    }
    return s_.emit(out, this);
  }

  // --- every rank
  Result<std::vector<std::uint8_t>> run(dist::Range r, std::span<const std::uint8_t> payload) override {
    dist::ByteReader in(payload);
    ops::PackedMessages packed;
    std::vector<std::optional<std::string>> errors;
    for (auto i = r.begin; i < r.end; ++i) {
      switch (HETEX_TRY(in.get<Item>())) {
        case Item::read_path: {
          auto bytes = read_whole(files_[i]);
          if (!bytes) {
            errors.emplace_back(bytes.error().message());
            continue;
          }
          packed.add(std::span<const std::uint8_t>(*bytes));
          break;
        }
        case Item::bytes: packed.add(HETEX_TRY(in.get_array<std::uint8_t>())); break;
        default: errors.emplace_back(std::string(HETEX_TRY(in.get_string()))); continue;
      }
      errors.emplace_back();
    }
    std::vector<ops::Digest> digests(packed.size());
    if (!digests.empty()) {
      auto rep = HETEX_TRY(s_.scheduler().run(ops::sha256(), packed.view(), std::span(digests)));
      if (!rep.all_ok()) return rep.status().error();
    }
    std::vector<std::uint8_t> out;
    dist::ByteWriter w(out);
    std::size_t k = 0;
    for (const auto& e : errors) {
      if (e) {
        w.put(Item::error);
        w.put_string(*e);
      } else {
        w.put(Item::bytes);
        w.put_raw(std::as_bytes(std::span(digests[k++])));
      }
    }
    return out;
  }

  std::size_t failed_ = 0;

 private:
  double cost_of(std::size_t i) const {
    const auto& id = identity_[i];
    return kCostPerFile + (id.empty() ? 0 : std::stod(id.substr(0, id.find(':'))));
  }

  Session& s_;
  const std::vector<std::string>& files_;
  std::vector<std::string> identity_;  // per file: "size:mtime" of a regular file, else ""
  bool shared_;
  double total_ = 0;
  std::uint64_t pos_ = 0;
};

}  // namespace
}  // namespace dist_cmd

int dist_sha256(const std::vector<std::string>& files, const Common& common, const DistArgs& args) {
  using namespace dist_cmd;
  std::vector<std::string> identity;
  std::string fingerprint;
  for (const auto& f : files) {
    identity.push_back(dist_cmd::file_identity(f));
    fingerprint += f + "|" + identity.back() + "\n";
  }
  for (std::size_t i = 0; i < files.size(); ++i)
    if (!args.journal.empty() && identity[i].empty() && files[i] == "-") {
      std::fprintf(stderr, "hetex sha256: --journal needs files: standard input cannot be read again to resume\n");
      return 2;
    }
  auto s = Session::open("sha256", common, args);
  if (!s) return 2;
  const bool shared = s->comm().size() > 1 && s->everyone_sees(fingerprint);
  Sha256Job job(*s, files, identity, shared);
  auto o = s->job_options(fingerprint, 1 << 20, 1, 256 << 20);
  auto r = dist::run_job(s->comm(), s->is_root() ? &job : nullptr, job, o);
  s->conclude(r);
  if (!s->is_root()) return 0;
  s->summarize(*r, "files");
  return job.failed_ ? 1 : 0;
}

}  // namespace hetex::cli
