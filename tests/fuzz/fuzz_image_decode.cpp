// SPDX-License-Identifier: MIT
// Image files as `hetex image` reads them: decode (stb, with hetex's size checks), the
// completeness check a batch re-run uses to skip finished outputs, and for small images the
// CPU pipeline the command runs on them.
#include <cstdio>
#include <cstdlib>
#include <span>

#include "hetex/ops/image.hpp"
#include "hetex/ops/image_io.hpp"

using namespace hetex;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> bytes(data, size);
  (void)image::check_complete(bytes, "fuzz");
  auto img = image::decode(bytes, "fuzz");
  if (!img) return 0;
  if (img->pixels.size() != img->shape.bytes()) {
    std::fprintf(stderr, "fuzz_image_decode: %zu pixel bytes for a shape of %zu\n", img->pixels.size(),
                 img->shape.bytes());
    std::abort();
  }
  if (img->shape.pixels() > 4096) return 0;
  for (const image::Pipeline& p :
       {image::Pipeline{.gray = true, .sigma = 1.5, .ksize = 0, .edges = image::Edges::magnitude},
        image::Pipeline{.gray = false, .sigma = 0.8, .ksize = 0, .edges = image::Edges::none}}) {
    // The serial kernel: the same row code as run_cpu, without waking a thread pool per input.
    auto out = image::make_image(image::output_shape(p, img->shape));
    if (!image::run_cpu_serial(p, image::view(*img), out.pixels)) continue;
    if (auto encoded = image::encode(image::view(out), image::FileFormat::png); encoded) {
      auto back = image::decode(*encoded, "round trip");
      if (!back || back->pixels != out.pixels || !image::check_complete(*encoded, "round trip")) {
        std::fprintf(stderr, "fuzz_image_decode: a PNG hetex wrote does not read back\n");
        std::abort();
      }
    }
  }
  return 0;
}
