// SPDX-License-Identifier: MIT
// stb's decoders and encoders, compiled into this file alone (static, so they cannot clash with
// another copy of stb in the program).
#include "hetex/ops/image_io.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <optional>

#include "hetex/core/file.hpp"

#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_PNG
#define STBI_ONLY_JPEG
#define STBI_ONLY_PNM
#define STBI_FAILURE_USERMSG
#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wunused-but-set-variable"
#endif
#include <stb/stb_image.h>
#include <stb/stb_image_write.h>
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

namespace hetex::image {
namespace {

std::string lower_extension(const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  return ext;
}

void append_bytes(void* context, void* data, int size) {
  auto* out = static_cast<std::vector<std::uint8_t>*>(context);
  const auto* p = static_cast<const std::uint8_t*>(data);
  out->insert(out->end(), p, p + size);
}

// Drops the alpha channel (JPEG and PNM have none).
std::vector<std::uint8_t> rgb_of(ImageView img) {
  std::vector<std::uint8_t> rgb(img.shape.pixels() * 3);
  for (std::size_t i = 0, n = img.shape.pixels(); i < n; ++i) std::memcpy(&rgb[3 * i], img.data + 4 * i, 3);
  return rgb;
}

// A binary PNM header: P5/P6, width, height, maxval (whitespace and # comments between, a comment
// ending at \r or \n, as stb reads it), then one whitespace byte before the pixels. Numbers are
// clamped at 2^30 rather than overflowing.
struct PnmHeader {
  long width = 0, height = 0, maxval = 0;
  std::size_t pixels_at = 0;
};
std::optional<PnmHeader> pnm_header(std::span<const std::uint8_t> b) {
  if (b.size() < 2 || b[0] != 'P' || (b[1] != '5' && b[1] != '6')) return std::nullopt;
  std::size_t i = 2;
  PnmHeader h;
  for (long* f : {&h.width, &h.height, &h.maxval}) {
    while (i < b.size() && (std::isspace(b[i]) || b[i] == '#')) {
      if (b[i] == '#')
        while (i < b.size() && b[i] != '\n' && b[i] != '\r') ++i;
      else
        ++i;
    }
    while (i < b.size() && std::isdigit(b[i])) *f = std::min(*f * 10 + (b[i++] - '0'), 1L << 30);
  }
  h.pixels_at = i + 1;
  return h;
}

// stb fills a truncated binary PNM with zeros instead of failing: check the pixel data is all there.
Status check_pnm_length(std::span<const std::uint8_t> b, const std::string& name, int w, int h, int c) {
  const auto header = pnm_header(b);
  if (!header) return {};
  const std::size_t i = header->pixels_at;
  const std::size_t need = std::size_t(w) * h * c * (header->maxval > 255 ? 2 : 1);
  if (b.size() < i || b.size() - i < need)
    return Error(Errc::io, name + ": truncated PPM/PGM file (" + std::to_string(b.size() - std::min(i, b.size())) +
                               " bytes of pixels, " + std::to_string(need) + " expected)");
  return {};
}

// stb_image 2.27 reads a PNM header's numbers into an int without an overflow check (undefined,
// and a width of 2^32 + 1 would wrap to 1; fuzz_image_decode's corpus holds such a header).
// Numbers beyond what stb accepts anyway are refused first.
Status check_pnm_header(std::span<const std::uint8_t> b, const std::string& name) {
  const auto h = pnm_header(b);
  if (h && (h->width > (1L << 24) || h->height > (1L << 24) || h->maxval > 65535))
    return Error(Errc::io, name + ": corrupt PPM/PGM header (width, height or maximum value out of range)");
  return {};
}

// stb_image 2.27 (Debian 12's) trusts the code counts of a JPEG Huffman table: counts adding up
// to more than 256 make it write past its tables (tests/fuzz/fuzz_image_decode covers it). Such a
// file is corrupt; every DHT segment is checked before stb sees the file. Markers are found as
// stb finds them: fill bytes (0xFF) may precede the start-of-image marker, segments are skipped by
// their length, and every 0xFF between them is looked at.
Status check_jpeg_tables(std::span<const std::uint8_t> b, const std::string& name) {
  std::size_t soi = 0;
  while (soi < b.size() && b[soi] == 0xff) ++soi;
  if (soi == 0 || soi == b.size() || b[soi] != 0xd8) return {};
  auto at = [&](std::size_t i) -> unsigned { return i < b.size() ? b[i] : 0; };  // stb reads zeros past the end
  for (std::size_t i = soi + 1; i + 1 < b.size();) {
    const unsigned m = b[i + 1];
    if (b[i] != 0xff || m == 0xff || m == 0x00) {  // entropy-coded data, a fill byte, a stuffed zero
      ++i;
      continue;
    }
    if ((m >= 0xd0 && m <= 0xd9) || m == 0x01) {  // RSTn, SOI, EOI, TEM: no length
      i += 2;
      continue;
    }
    const std::size_t length = at(i + 2) << 8 | at(i + 3);
    if (m == 0xc4) {
      for (std::size_t t = i + 4; t < i + 2 + length;) {  // tables while the segment lasts
        unsigned codes = 0;
        for (std::size_t k = 1; k <= 16; ++k) codes += at(t + k);
        if (codes > 256)
          return Error(Errc::io,
                       name + ": corrupt JPEG (a Huffman table of " + std::to_string(codes) + " codes; at most 256)");
        t += 17 + codes;
      }
    }
    i += 2 + std::max<std::size_t>(length, 2);
  }
  return {};
}

// stb_image 2.27 allocates a PNG chunk's stated length (up to 1 GiB) before it reads the chunk:
// a hundred-byte file could cost a gigabyte (fuzz_image_decode covers it). Every chunk must fit in
// what is left of the file.
Status check_png_chunks(std::span<const std::uint8_t> b, const std::string& name) {
  static constexpr std::uint8_t signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  if (b.size() < 8 || !std::equal(signature, signature + 8, b.begin())) return {};
  for (std::size_t i = 8; i + 8 <= b.size();) {
    const std::size_t length =
        std::size_t(b[i]) << 24 | std::size_t(b[i + 1]) << 16 | std::size_t(b[i + 2]) << 8 | b[i + 3];
    const std::size_t left = b.size() - i - 8;  // after the length and type fields
    if (length > left)
      return Error(Errc::io, name + ": truncated or corrupt PNG (a chunk of " + std::to_string(length) +
                                 " bytes where " + std::to_string(left) + " are left)");
    if (std::equal(b.begin() + long(i) + 4, b.begin() + long(i) + 8, "IEND")) break;
    i += 12 + length;  // length, type, data, CRC
  }
  return {};
}

// What stb would otherwise trust, checked before it sees the file.
Status check_before_stb(std::span<const std::uint8_t> b, const std::string& name) {
  HETEX_TRY_VOID(check_pnm_header(b, name));
  HETEX_TRY_VOID(check_jpeg_tables(b, name));
  return check_png_chunks(b, name);
}

// Decoded bytes per file byte that real images stay far below (an all-black 8K x 8K PNG is
// about 1000:1); small files may claim up to the floor whatever their size.
constexpr std::size_t kPlausibleRatio = 4096;
constexpr std::size_t kPlausibleFloor = std::size_t(4) << 20;

}  // namespace

Result<FileFormat> format_for(const std::string& path) {
  const std::string ext = lower_extension(path);
  if (ext == ".png") return FileFormat::png;
  if (ext == ".jpg" || ext == ".jpeg") return FileFormat::jpeg;
  if (ext == ".ppm" || ext == ".pgm" || ext == ".pnm") return FileFormat::pnm;
  return Error(Errc::invalid_argument,
               path + ": unknown image format '" + ext + "' (use .png, .jpg, .jpeg, .ppm, .pgm or .pnm)");
}

Result<Image> decode(std::span<const std::uint8_t> bytes, const std::string& name) {
  if (bytes.size() > std::size_t(INT32_MAX)) return Error(Errc::io, name + ": file too large to decode (over 2 GiB)");
  HETEX_TRY_VOID(check_before_stb(bytes, name));
  const auto* data = reinterpret_cast<const stbi_uc*>(bytes.data());
  const int len = static_cast<int>(bytes.size());
  int w = 0, h = 0, c = 0;
  if (!stbi_info_from_memory(data, len, &w, &h, &c))
    return Error(Errc::io, name + ": not a readable PNG, JPEG or PPM/PGM image (" + stbi_failure_reason() + ")");
  const int want = c == 2 ? 4 : c;  // gray + alpha becomes RGBA
  if (auto s = check_shape({w, h, want}, name); !s) return Error(Errc::io, s.error().message());
  HETEX_TRY_VOID(check_pnm_length(bytes, name, w, h, c));
  // stb allocates the whole image before it reads the pixel data: a header that claims far more
  // pixels than the file could hold is refused first, so a small file cannot cost gigabytes.
  const std::size_t claimed = std::size_t(w) * std::size_t(h) * std::size_t(want);
  if (claimed > std::max(kPlausibleFloor, bytes.size() * kPlausibleRatio))
    return Error(Errc::io, name + ": implausible image: " + std::to_string(w) + "x" + std::to_string(h) +
                               " pixels from " + std::to_string(bytes.size()) + " bytes (more than " +
                               std::to_string(kPlausibleRatio) + " times the file size)");
  const int info_w = w, info_h = h;
  stbi_uc* px = stbi_load_from_memory(data, len, &w, &h, &c, want);
  if (!px) return Error(Errc::io, name + ": cannot decode (" + std::string(stbi_failure_reason()) + ")");
  if (w != info_w || h != info_h) {
    stbi_image_free(px);
    return Error(Errc::io, name + ": the header and the image disagree on its size");
  }
  Image img;
  img.shape = {w, h, want};
  img.pixels.assign(px, px + img.shape.bytes());
  stbi_image_free(px);
  return img;
}

Result<Image> load(const std::string& path) {
  // Regular files only: a FIFO in a directory of images must not block a batch.
  auto bytes = HETEX_TRY(read_file(path, {.special_files = false}));
  return decode(bytes, path);
}

Status check_complete(std::span<const std::uint8_t> b, const std::string& name) {
  if (b.size() > std::size_t(INT32_MAX)) return Error(Errc::io, name + ": too large to be a hetex output");
  HETEX_TRY_VOID(check_before_stb(b, name));
  int w = 0, h = 0, c = 0;
  if (!stbi_info_from_memory(b.data(), static_cast<int>(b.size()), &w, &h, &c))
    return Error(Errc::io, name + ": not a readable PNG, JPEG or PPM/PGM image (" + stbi_failure_reason() + ")");
  static constexpr std::uint8_t png_signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  static constexpr std::uint8_t png_end[12] = {0, 0, 0, 0, 'I', 'E', 'N', 'D', 0xae, 0x42, 0x60, 0x82};
  if (b.size() >= 8 && std::equal(png_signature, png_signature + 8, b.begin())) {
    if (b.size() < 8 + 12 || !std::equal(png_end, png_end + 12, b.end() - 12))
      return Error(Errc::io, name + ": truncated PNG file (no IEND chunk at its end)");
    return {};
  }
  if (b.size() >= 2 && b[0] == 0xff && b[1] == 0xd8) {
    if (b.size() < 4 || b[b.size() - 2] != 0xff || b[b.size() - 1] != 0xd9)
      return Error(Errc::io, name + ": truncated JPEG file (no end-of-image marker)");
    return {};
  }
  return check_pnm_length(b, name, w, h, c);
}

Status check_complete(const std::string& path) {
  auto bytes = HETEX_TRY(read_file(path, {.special_files = false}));
  return check_complete(bytes, path);
}

Result<std::vector<std::uint8_t>> encode(ImageView img, FileFormat format, int jpeg_quality) {
  HETEX_TRY_VOID(check_shape(img.shape, "image to encode"));
  std::vector<std::uint8_t> out;
  const Shape& s = img.shape;
  std::vector<std::uint8_t> rgb;
  const std::uint8_t* px = img.data;
  int c = s.channels;
  if (format != FileFormat::png && c == 4) {
    rgb = rgb_of(img);
    px = rgb.data();
    c = 3;
  }
  switch (format) {
    case FileFormat::png:
      if (!stbi_write_png_to_func(append_bytes, &out, s.width, s.height, c, px, int(s.row_bytes())))
        return Error(Errc::io, "PNG encoding failed");
      break;
    case FileFormat::jpeg:
      if (!stbi_write_jpg_to_func(append_bytes, &out, s.width, s.height, c, px, std::clamp(jpeg_quality, 1, 100)))
        return Error(Errc::io, "JPEG encoding failed");
      break;
    case FileFormat::pnm: {
      const std::string header = std::string(c == 1 ? "P5" : "P6") + "\n" + std::to_string(s.width) + " " +
                                 std::to_string(s.height) + "\n255\n";
      out.assign(header.begin(), header.end());
      out.insert(out.end(), px, px + s.pixels() * std::size_t(c));
      break;
    }
  }
  return out;
}

Status save(const std::string& path, ImageView img, int jpeg_quality) {
  auto format = HETEX_TRY(format_for(path));
  auto encoded = encode(img, format, jpeg_quality);
  if (!encoded) return encoded.error().with_context(path);
  return write_file_atomic(path, *encoded);
}

}  // namespace hetex::image
