// SPDX-License-Identifier: MIT
// hetex devices as a rank of an MPI job: every rank describes its own devices and rank 0 prints
// them all, rank by rank (text), or as {"mpi": {...}, "ranks": [{rank, host, cpu, gpus}, ...]}.
#include <cstdio>

#include "dist/session.hpp"

namespace hetex::cli {

int dist_devices(bool json, bool skip_bandwidth) {
  auto c = dist::Comm::init();
  if (!c) {
    std::fprintf(stderr, "hetex devices: %s\n", c.error().describe().c_str());
    return 2;
  }
  auto listing = describe_devices(skip_bandwidth);
  nlohmann::json mine;
  if (listing) {
    mine = listing->json;
    mine["text"] = listing->text;
  } else {
    mine["error"] = listing.error().describe();
  }
  mine["rank"] = c->rank();
  mine["host"] = c->host(c->rank());
  auto all = c->gather(mine.dump());
  if (!all) {
    std::fprintf(stderr, "hetex devices: %s\n", all.error().describe().c_str());
    return 2;
  }
  if (!c->is_root()) return listing ? 0 : 2;
  nlohmann::json out = {{"mpi", {{"library", c->library()}, {"ranks", c->size()}, {"cuda_aware", c->cuda_aware()}}},
                        {"ranks", nlohmann::json::array()}};
  int status = 0;
  std::string text = "mpi     " + c->library() + ", " + std::to_string(c->size()) + " rank" +
                     (c->size() > 1 ? "s" : "") +
                     (c->cuda_aware() ? ", CUDA-aware" : ", not CUDA-aware (data moves through host memory)") + "\n";
  for (const auto& s : *all) {
    auto r = nlohmann::json::parse(s);
    text += "\nrank " + std::to_string(r["rank"].get<int>()) + " on " + r["host"].get<std::string>() + "\n";
    if (r.contains("error")) {
      text += "  error: " + r["error"].get<std::string>() + "\n";
      status = 2;
    } else {
      text += r["text"].get<std::string>();
    }
    r.erase("text");
    out["ranks"].push_back(std::move(r));
  }
  std::fputs(json ? (out.dump(2) + "\n").c_str() : text.c_str(), stdout);
  return status;
}

}  // namespace hetex::cli
