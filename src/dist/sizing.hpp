// SPDX-License-Identifier: MIT
#pragma once
// How rank 0 measures each rank's throughput and sizes the chunk it gives it next
// (docs/design/distributed.md, "The engine").
#include <algorithm>
#include <chrono>

#include "hetex/dist/job.hpp"

namespace hetex::dist::detail {

// A rank's throughput while busy: the cost it finished since it last held no chunk, over the
// time since then. Chunks in flight together may run one after the other or side by side and
// finish almost at once, so the time between two results says nothing of the rank's speed.
class BusyRate {
 public:
  using Clock = std::chrono::steady_clock;
  // A chunk goes to the rank; `held` is how many it held before.
  void assigned(std::size_t held, Clock::time_point now) {
    if (held == 0) {
      since_ = now;
      cost_ = 0;
    }
  }
  // The rank finished a chunk of this cost.
  void finished(double cost, Clock::time_point now) {
    cost_ += cost;
    rate_ = cost_ / std::max(1e-6, std::chrono::duration<double>(now - since_).count());
  }
  double rate() const noexcept { return rate_; }  // cost per second; 0 until a chunk finished

 private:
  Clock::time_point since_{};
  double cost_ = 0, rate_ = 0;
};

// What rank 0 knows when it sizes a rank's next chunk.
struct SizingState {
  double rate = 0;       // the rank's BusyRate (0: not yet known)
  double last_cost = 0;  // its previous chunk (0: none yet)
  double held = 0;       // cost of the chunks it holds
  bool total_known = false;
  double left = 0;       // cost not yet given to any rank
  double in_flight = 0;  // cost every rank holds, this one's included
  double job_rate = 0;   // the computing ranks' rates summed; 0 while any is unknown
  int ranks = 1;         // computing ranks
};

// The next chunk's cost: about chunk_seconds at the rank's rate (a probe while unknown), at most
// `growth` times its last. Near the end chunks shrink, so that no rank is left with a long one
// while the others idle: to half of what this rank still has to do for every rank to finish
// together (its share of the work not yet done, at its rate, less what it holds), where every
// rank's rate is known, else of an equal share of what is left (one computing rank takes chunks
// of chunk_seconds to the end). 0: nothing for this rank now.
// A slow rank would finish even the smallest chunk after the job's other ranks are done with
// everything; it waits, and another rank takes the work (unless no other rank holds any).
inline double chunk_cost(const JobOptions& o, double probe, const SizingState& s) {
  double c = s.rate > 0 ? s.rate * o.chunk_seconds : probe;
  if (s.last_cost > 0) c = std::min(c, s.last_cost * o.growth);
  if (s.total_known && s.ranks > 1) {  // alone, a rank has no one to finish together with
    double share = s.left / std::max(1, s.ranks);
    if (s.rate > 0 && s.job_rate > 0) share = (s.left + s.in_flight) * s.rate / s.job_rate - s.held;
    c = std::min(c, std::max(probe, share / 2.0));
  }
  c = std::clamp(c, o.min_cost, o.max_cost);
  if (s.total_known && s.rate > 0 && s.job_rate > 0 && s.in_flight > s.held) {
    const double job_seconds_left = (s.left + s.in_flight) / s.job_rate;
    if ((s.held + c) / s.rate > job_seconds_left) return 0;
  }
  return c;
}

}  // namespace hetex::dist::detail
