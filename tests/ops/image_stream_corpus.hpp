// SPDX-License-Identifier: MIT
#pragma once
// A directory of small images of mixed sizes and formats (a few corrupt) for the streaming tests.
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "hetex/ops/image_io.hpp"
#include "hetex/ops/image_stream.hpp"
#include "ops/image_reference.hpp"

namespace hetex_test {

struct StreamCorpus {
  std::filesystem::path dir;
  std::vector<hetex::image::FileJob> jobs;
  std::vector<hetex::image::Image> inputs;  // empty shape for the corrupt ones
  std::vector<bool> corrupt;

  StreamCorpus(const std::string& tag, std::size_t n) {
    dir = std::filesystem::temp_directory_path() / ("hetex_stream_" + tag + "_" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir / "in");
    std::filesystem::create_directories(dir / "out");
    static const char* ext[] = {".png", ".ppm", ".pgm", ".png"};
    for (std::size_t i = 0; i < n; ++i) {
      const bool bad = i % 97 == 13;
      const int channels = i % 4 == 2 ? 1 : (i % 4 == 3 ? 4 : 3);
      const hetex::image::Shape s{int(1 + (i * 7) % 29), int(1 + (i * 11) % 23), channels};
      const std::string name = "img" + std::to_string(10000 + i) + ext[i % 4];
      const std::string in = (dir / "in" / name).string();
      hetex::image::Image img = test_image(s, std::uint32_t(i), i % 2 == 0);
      if (bad) {
        std::ofstream(in, std::ios::binary) << "corrupt";
        img = {};
      } else {
        (void)hetex::image::save(in, hetex::image::view(img));
      }
      jobs.push_back({in, (dir / "out" / name).string()});
      inputs.push_back(std::move(img));
      corrupt.push_back(bad);
    }
  }
  ~StreamCorpus() { std::filesystem::remove_all(dir); }
};

}  // namespace hetex_test
