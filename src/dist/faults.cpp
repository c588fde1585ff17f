// SPDX-License-Identifier: MIT
#include "dist/faults.hpp"

#include <charconv>
#include <cstdlib>

namespace hetex::dist::detail {

namespace {
template <class T>
bool number(std::string_view s, T& v) {
  if constexpr (std::is_floating_point_v<T>) {
    try {
      std::size_t used = 0;
      v = std::stod(std::string(s), &used);
      return used == s.size();
    } catch (...) {
      return false;
    }
  } else {
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    return ec == std::errc() && p == s.data() + s.size();
  }
}
}  // namespace

Result<RankFaults> parse_faults(std::string_view spec, int rank) {
  RankFaults f;
  while (!spec.empty()) {
    const auto comma = spec.find(',');
    const auto item = spec.substr(0, comma);
    spec = comma == std::string_view::npos ? std::string_view{} : spec.substr(comma + 1);
    if (item.empty()) continue;
    auto bad = [&](const char* why) {
      return Error(Errc::invalid_argument, "HETEX_DIST_FAULTS: '" + std::string(item) + "': " + why);
    };
    const auto eq = item.find('=');
    if (eq == std::string_view::npos) return bad("expected kill=R@K, hang=R@K or speed=R:F");
    const auto key = item.substr(0, eq), value = item.substr(eq + 1);
    int r = -1;
    if (key == "kill" || key == "hang") {
      const auto at = value.find('@');
      int k = 0;
      if (at == std::string_view::npos || !number(value.substr(0, at), r) || !number(value.substr(at + 1), k) ||
          r < 0 || k < 1)
        return bad("expected RANK@CHUNK, e.g. 1@3 (the rank's third chunk)");
      if (r == rank) (key == "kill" ? f.kill_at : f.hang_at) = k;
    } else if (key == "speed") {
      const auto colon = value.find(':');
      double s = 0;
      if (colon == std::string_view::npos || !number(value.substr(0, colon), r) ||
          !number(value.substr(colon + 1), s) || r < 0 || !(s > 0 && s <= 1))
        return bad("expected RANK:FACTOR with 0 < FACTOR <= 1, e.g. 2:0.25");
      if (r == rank) f.speed = s;
    } else {
      return bad("unknown fault; expected kill, hang or speed");
    }
  }
  return f;
}

Result<RankFaults> faults_for(int rank) {
  const char* s = std::getenv("HETEX_DIST_FAULTS");
  return parse_faults(s ? s : "", rank);
}

}  // namespace hetex::dist::detail
