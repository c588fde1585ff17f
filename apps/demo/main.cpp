#include <cstdio>
#include "hetex/core/runtime.hpp"
int main() {
  auto rt = hetex::Runtime::create();
  if (!rt) { std::fprintf(stderr, "hetex-demo: %s\n", rt.error().describe().c_str()); return 1; }
  for (auto& d : rt->devices()) std::printf("%s\n", d.describe().c_str());
}
