// SPDX-License-Identifier: MIT
// The image operations on the CPU against OpenCV, the Gaussian taps, and image files.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "hetex/ops/image.hpp"
#include "hetex/ops/image_io.hpp"
#include "ops/image_reference.hpp"

using namespace hetex;
using namespace hetex::image;
using hetex_test::max_diff;
using hetex_test::test_image;

#define HETEX_REQUIRE_OPENCV()
#if !defined(HETEX_HAVE_OPENCV)
#undef HETEX_REQUIRE_OPENCV
#define HETEX_REQUIRE_OPENCV() GTEST_SKIP() << "OpenCV (core + imgproc) was not found at configure time"
#endif

TEST(ImageTaps, SumTo256AreSymmetricAndFollowOpenCVSizes) {
  EXPECT_EQ(gaussian_ksize(2.0), 13);
  EXPECT_EQ(gaussian_ksize(1.0), 7);
  EXPECT_EQ(gaussian_ksize(0.5), 5);  // round(4) | 1
  for (double sigma : {0.3, 0.8, 1.0, 2.0, 3.7, 10.0, 40.0}) {
    auto taps = gaussian_taps(sigma).value();
    ASSERT_EQ(int(taps.size()), gaussian_ksize(sigma));
    int sum = 0;
    for (std::size_t i = 0; i < taps.size(); ++i) {
      sum += taps[i];
      EXPECT_EQ(taps[i], taps[taps.size() - 1 - i]);
    }
    EXPECT_EQ(sum, 256) << "sigma " << sigma;
    EXPECT_GE(taps[taps.size() / 2], taps[0]);
  }
  EXPECT_EQ(gaussian_taps(0, 5).value(), (std::vector<std::uint16_t>{16, 64, 96, 64, 16}));
}

TEST(ImageTaps, BadSizesAreRefused) {
  EXPECT_EQ(gaussian_taps(2.0, 4).error().code(), Errc::invalid_argument);
  EXPECT_EQ(gaussian_taps(0, 0).error().code(), Errc::invalid_argument);
  EXPECT_EQ(gaussian_taps(1000.0).error().code(), Errc::invalid_argument);
  EXPECT_FALSE(validate(Pipeline{.sigma = -1}));
  EXPECT_FALSE(validate(Pipeline{.edges = Edges::binary, .threshold = 0}));
}

TEST(ImageOps, ShapesAndSizesAreChecked) {
  Image img = make_image({4, 3, 2});
  EXPECT_EQ(run_cpu(Pipeline{.gray = true}, view(img)).error().code(), Errc::invalid_argument);
  Image ok = make_image({4, 3, 3});
  std::vector<std::uint8_t> small(5);
  EXPECT_EQ(run_cpu(Pipeline{.gray = true}, view(ok), small).error().code(), Errc::invalid_argument);
  EXPECT_EQ(sobel_magnitude(view(ok)).error().code(), Errc::invalid_argument);  // not gray
  EXPECT_EQ(output_shape(Pipeline{.sigma = 1}, ok.shape), ok.shape);
  EXPECT_EQ(output_shape(Pipeline{.edges = Edges::magnitude}, ok.shape).channels, 1);
}

namespace {

struct Case {
  Shape shape;
  bool structured;
};
const Case kCases[] = {
    {{1, 1, 1}, false},   {{1, 1, 4}, false},   {{1, 17, 1}, true},    {{23, 1, 3}, true},
    {{2, 2, 4}, false},   {{7, 5, 1}, true},    {{13, 13, 3}, false},  {{37, 23, 4}, true},
    {{64, 48, 1}, false}, {{101, 67, 4}, true}, {{333, 211, 3}, true},
};

}  // namespace

TEST(ImageOpenCV, GrayMatches) {
  HETEX_REQUIRE_OPENCV();
  for (const auto& c : kCases) {
    if (c.shape.channels == 1) continue;
    Image in = test_image(c.shape, 7, c.structured);
    auto ours = to_gray(view(in)).value();
    EXPECT_EQ(max_diff(ours.pixels, hetex_test::opencv_pipeline(in, Pipeline{.gray = true})), 0)
        << c.shape.width << "x" << c.shape.height << "x" << c.shape.channels;
  }
}

TEST(ImageOpenCV, BlurMatchesForEverySigmaAndBorder) {
  HETEX_REQUIRE_OPENCV();
  for (const auto& c : kCases)
    for (double sigma : {0.5, 1.0, 1.5, 2.0, 3.3, 6.0}) {
      Image in = test_image(c.shape, 11, c.structured);
      const Pipeline p{.sigma = sigma};
      auto ours = run_cpu(p, view(in)).value();
      EXPECT_LE(max_diff(ours.pixels, hetex_test::opencv_pipeline(in, p)), 1)
          << c.shape.width << "x" << c.shape.height << "x" << c.shape.channels << " sigma " << sigma;
    }
}

TEST(ImageOpenCV, BlurWithExplicitKernelSize) {
  HETEX_REQUIRE_OPENCV();
  Image in = test_image({97, 61, 4}, 3, true);
  for (auto [sigma, k] : {std::pair{2.0, 11}, {0.0, 11}, {0.0, 5}, {0.0, 3}, {1.2, 3}}) {
    const Pipeline p{.sigma = sigma, .ksize = k};
    EXPECT_LE(max_diff(run_cpu(p, view(in)).value().pixels, hetex_test::opencv_pipeline(in, p)), 1)
        << "sigma " << sigma << " ksize " << k;
  }
}

TEST(ImageOpenCV, SobelDerivativesAreExact) {
  HETEX_REQUIRE_OPENCV();
  for (const auto& c : kCases) {
    Image in = test_image({c.shape.width, c.shape.height, 1}, 5, c.structured);
    std::vector<std::int16_t> dx(in.shape.pixels()), dy(in.shape.pixels());
    ASSERT_TRUE(sobel(view(in), dx, dy));
    cv::Mat m = hetex_test::as_mat(in), cx, cy;
    cv::Sobel(m, cx, CV_16S, 1, 0, 3, 1, 0, cv::BORDER_REFLECT_101);
    cv::Sobel(m, cy, CV_16S, 0, 1, 3, 1, 0, cv::BORDER_REFLECT_101);
    EXPECT_TRUE(std::equal(dx.begin(), dx.end(), cx.ptr<std::int16_t>())) << c.shape.width << "x" << c.shape.height;
    EXPECT_TRUE(std::equal(dy.begin(), dy.end(), cy.ptr<std::int16_t>())) << c.shape.width << "x" << c.shape.height;
  }
}

TEST(ImageOpenCV, FusedPipelineMatches) {
  HETEX_REQUIRE_OPENCV();
  for (const auto& c : kCases)
    for (const Pipeline& p :
         {Pipeline{.sigma = 2.0, .ksize = 11, .edges = Edges::magnitude},
          Pipeline{.sigma = 1.0, .edges = Edges::magnitude}, Pipeline{.edges = Edges::magnitude},
          Pipeline{.sigma = 1.4, .edges = Edges::binary, .threshold = 0.1}, Pipeline{.gray = true, .sigma = 3.0}}) {
      Image in = test_image(c.shape, 21, c.structured);
      auto ours = run_cpu(p, view(in)).value();
      auto ref = hetex_test::opencv_pipeline(in, p);
      if (p.edges == Edges::binary)
        EXPECT_EQ(ours.pixels, ref) << c.shape.width << "x" << c.shape.height;
      else
        EXPECT_LE(max_diff(ours.pixels, ref), 1) << c.shape.width << "x" << c.shape.height << " sigma " << p.sigma;
    }
}

TEST(ImageOpenCV, LargeImage) {
  HETEX_REQUIRE_OPENCV();
  Image in = test_image({1921, 1079, 4}, 99, true);
  const Pipeline p{.sigma = 2.0, .ksize = 11, .edges = Edges::magnitude};
  EXPECT_LE(max_diff(run_cpu(p, view(in)).value().pixels, hetex_test::opencv_pipeline(in, p)), 1);
  std::vector<std::uint8_t> serial(in.shape.pixels());
  ASSERT_TRUE(run_cpu_serial(p, view(in), serial));
  EXPECT_EQ(serial, run_cpu(p, view(in)).value().pixels);
}

TEST(ImageOps, EdgeMapIsBinaryAndFindsABox) {
  Image in = make_image({40, 30, 1});
  for (int y = 10; y < 20; ++y)
    for (int x = 10; x < 30; ++x) in.pixels[y * 40 + x] = 200;
  auto e = edge_map(view(in), 0.2).value();
  EXPECT_EQ(e.pixels[15 * 40 + 10], 255);  // on the box's left side
  EXPECT_EQ(e.pixels[15 * 40 + 20], 0);    // inside
  EXPECT_EQ(e.pixels[2 * 40 + 2], 0);      // outside
  for (auto v : e.pixels) EXPECT_TRUE(v == 0 || v == 255);
}

// --- files ---------------------------------------------------------------------------------

namespace {

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    path = std::filesystem::temp_directory_path() / ("hetex_image_test_" + std::to_string(::getpid()));
    std::filesystem::create_directories(path);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string operator/(const std::string& name) const { return (path / name).string(); }
};

void write_file(const std::string& path, const std::string& bytes) { std::ofstream(path, std::ios::binary) << bytes; }

}  // namespace

TEST(ImageFiles, LosslessFormatsRoundTrip) {
  TempDir dir;
  for (int channels : {1, 3, 4}) {
    Image img = test_image({31, 17, channels}, 4);
    for (std::string ext : {".png", channels == 1 ? ".pgm" : ".ppm"}) {
      const std::string path = dir / ("rt" + std::to_string(channels) + ext);
      ASSERT_TRUE(save(path, view(img))) << path;
      auto back = load(path);
      ASSERT_TRUE(back) << back.error().describe();
      if (ext == ".ppm" && channels == 4) {  // PNM drops alpha
        EXPECT_EQ(back->shape, (Shape{31, 17, 3}));
        continue;
      }
      EXPECT_EQ(back->shape, img.shape) << path;
      EXPECT_EQ(back->pixels, img.pixels) << path;
    }
  }
}

TEST(ImageFiles, JpegIsCloseAndUpperCaseExtensionsWork) {
  TempDir dir;
  Image img = test_image({64, 40, 3}, 8, true);
  ASSERT_TRUE(save(dir / "a.JPG", view(img)));
  auto back = load(dir / "a.JPG").value();
  EXPECT_EQ(back.shape, img.shape);
  double err = 0;
  for (std::size_t i = 0; i < img.pixels.size(); ++i) err += std::abs(int(img.pixels[i]) - int(back.pixels[i]));
  EXPECT_LT(err / img.pixels.size(), 12.0);
}

TEST(ImageFiles, HandWrittenPpmDecodes) {
  TempDir dir;
  write_file(dir / "p.ppm", std::string("P6\n2 1\n255\n") + std::string("\x0a\x14\x1e\xff\x00\x80", 6));
  auto img = load(dir / "p.ppm").value();
  EXPECT_EQ(img.shape, (Shape{2, 1, 3}));
  EXPECT_EQ(img.pixels, (std::vector<std::uint8_t>{10, 20, 30, 255, 0, 128}));
}

TEST(ImageFiles, CorruptAndMissingFilesNameTheFile) {
  TempDir dir;
  write_file(dir / "junk.png", "this is not an image at all");
  Image img = test_image({50, 50, 3}, 1);
  ASSERT_TRUE(save(dir / "good.png", view(img)));
  std::string png;
  {
    std::ifstream in(dir / "good.png", std::ios::binary);
    png.assign(std::istreambuf_iterator<char>(in), {});
  }
  write_file(dir / "truncated.png", png.substr(0, png.size() / 2));
  write_file(dir / "empty.jpg", "");
  write_file(dir / "short.ppm", "P6\n# a comment\n4 4\n255\nabc");
  for (std::string name : {"junk.png", "truncated.png", "empty.jpg", "missing.png", "short.ppm"}) {
    auto r = load(dir / name);
    ASSERT_FALSE(r) << name;
    EXPECT_EQ(r.error().code(), Errc::io);
    EXPECT_NE(r.error().message().find(name), std::string::npos) << r.error().message();
  }
  auto dirload = load(dir.path.string());
  EXPECT_FALSE(dirload);
}

TEST(ImageFiles, UnknownExtensionAndUnwritablePath) {
  TempDir dir;
  Image img = test_image({4, 4, 1}, 1);
  EXPECT_EQ(save(dir / "x.gif", view(img)).error().code(), Errc::invalid_argument);
  auto s = save(dir / "no/such/dir/x.png", view(img));
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), Errc::io);
  EXPECT_FALSE(std::filesystem::exists(dir / "no"));
}

TEST(ImageFiles, CompleteFilesAreToldFromTruncatedOnes) {
  TempDir dir;
  Image img = test_image({23, 9, 3}, 5);
  for (std::string name : {"c.png", "c.jpg", "c.ppm"}) {
    ASSERT_TRUE(save(dir / name, view(img)));
    EXPECT_TRUE(check_complete(dir / name)) << name;
    std::string bytes;
    {
      std::ifstream in(dir / name, std::ios::binary);
      bytes.assign(std::istreambuf_iterator<char>(in), {});
    }
    write_file(dir / ("short_" + name), bytes.substr(0, bytes.size() - 1));
    auto s = check_complete(dir / ("short_" + name));
    ASSERT_FALSE(s) << name;
    EXPECT_EQ(s.error().code(), Errc::io);
    EXPECT_NE(s.error().message().find("short_" + name), std::string::npos) << s.error().message();
  }
  EXPECT_FALSE(check_complete(dir / "missing.png"));
  write_file(dir / "junk.png", "not an image");
  EXPECT_FALSE(check_complete(dir / "junk.png"));
}

TEST(ImageFiles, ASmallFileClaimingAHugeImageIsRefusedBeforeDecoding) {
  Image img = test_image({4, 4, 3}, 1);
  auto png = encode(view(img), FileFormat::png).value();
  // IHDR's width and height (big endian, bytes 16-23) say 8000 x 8000: 192 MB of pixels from a
  // file of under a hundred bytes, within stb's own limit (1 GiB). stb does not check chunk CRCs,
  // so only hetex's check stops it.
  for (int at : {16, 20}) {
    png[at] = 0;
    png[at + 1] = 0;
    png[at + 2] = 0x1f;
    png[at + 3] = 0x40;
  }
  auto r = decode(png, "bomb.png");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Errc::io);
  EXPECT_NE(r.error().message().find("implausible image: 8000x8000"), std::string::npos) << r.error().message();
}

// Found by fuzz_image_decode: stb_image 2.27 writes past its Huffman tables when a JPEG's DHT
// segment declares more than 256 codes. hetex refuses the file before stb reads it.
TEST(ImageFiles, AJpegHuffmanTableOfMoreThan256CodesIsRefused) {
  Image img = test_image({16, 8, 3}, 2);
  auto jpeg = encode(view(img), FileFormat::jpeg).value();
  ASSERT_TRUE(decode(jpeg, "good.jpg"));
  std::size_t dht = 2;
  while (dht + 1 < jpeg.size() && !(jpeg[dht] == 0xff && jpeg[dht + 1] == 0xc4)) ++dht;
  ASSERT_LT(dht + 21, jpeg.size()) << "the encoder wrote no DHT segment";
  for (std::size_t k = 0; k < 16; ++k) jpeg[dht + 5 + k] = 255;  // after the marker, length and class byte
  auto r = decode(jpeg, "bad.jpg");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("bad.jpg: corrupt JPEG (a Huffman table of 4080 codes"), std::string::npos)
      << r.error().message();
  EXPECT_FALSE(check_complete(jpeg, "bad.jpg"));
  // stb also takes a file whose start-of-image marker follows fill bytes (0xFF) for a JPEG.
  jpeg.insert(jpeg.begin(), 40, 0xff);
  r = decode(jpeg, "filled.jpg");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("filled.jpg: corrupt JPEG (a Huffman table of 4080 codes"), std::string::npos)
      << r.error().message();
}

// Found by fuzz_image_decode: stb_image 2.27 allocates a PNG chunk's stated length before
// reading it, so a tiny file made it allocate a gigabyte. hetex refuses a chunk the file cannot hold.
TEST(ImageFiles, APngChunkLongerThanTheFileIsRefusedBeforeDecoding) {
  Image img = test_image({5, 5, 1}, 3);
  auto png = encode(view(img), FileFormat::png).value();
  std::size_t idat = 8;
  while (idat + 8 <= png.size() && !std::equal(png.begin() + long(idat) + 4, png.begin() + long(idat) + 8, "IDAT"))
    ++idat;
  ASSERT_LE(idat + 8, png.size());
  png[idat] = 0x3f, png[idat + 1] = 0xff, png[idat + 2] = 0xff, png[idat + 3] = 0xff;
  auto r = decode(png, "claims.png");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("claims.png: truncated or corrupt PNG (a chunk of 1073741823 bytes"),
            std::string::npos)
      << r.error().message();
}

// Found by fuzz_image_decode: stb_image 2.27 reads PNM header numbers into an int unchecked; a
// width of 2^32 + 1 wraps to 1 (a wrong image, not an error). hetex refuses such a header first.
TEST(ImageFiles, APnmHeaderNumberBeyondRangeIsRefused) {
  for (std::string header :
       {"P5\n4294967297 1\n255\n", "P6\n1 1\n66666666666666666666\n", "P5\n# c\r99999999 1\n255\n"}) {
    auto r = decode(std::vector<std::uint8_t>(header.begin(), header.end()), "big.pgm");
    ASSERT_FALSE(r) << header;
    EXPECT_NE(r.error().message().find("big.pgm: corrupt PPM/PGM header"), std::string::npos) << r.error().message();
  }
  const std::string ok = "P5\n2 1\n255\nab";
  EXPECT_TRUE(decode(std::vector<std::uint8_t>(ok.begin(), ok.end()), "ok.pgm"));
}
