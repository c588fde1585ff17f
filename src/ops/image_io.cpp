// stb's decoders and encoders, compiled into this file alone (static, so they cannot clash with
// another copy of stb in the program).
#include "hetex/ops/image_io.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

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

// stb fills a truncated binary PNM with zeros instead of failing: check the pixel data is all
// there. The header is P5/P6, width, height, maxval (with # comments), then one whitespace byte.
Status check_pnm_length(std::span<const std::uint8_t> b, const std::string& name, int w, int h, int c) {
  if (b.size() < 2 || b[0] != 'P' || (b[1] != '5' && b[1] != '6')) return {};
  std::size_t i = 2;
  long fields[3] = {0, 0, 0};
  for (long& f : fields) {
    while (i < b.size() && (std::isspace(b[i]) || b[i] == '#')) {
      if (b[i] == '#')
        while (i < b.size() && b[i] != '\n') ++i;
      else
        ++i;
    }
    while (i < b.size() && std::isdigit(b[i])) f = std::min(f * 10 + (b[i++] - '0'), 1L << 30);
  }
  ++i;  // the single whitespace byte before the pixels
  const std::size_t need = std::size_t(w) * h * c * (fields[2] > 255 ? 2 : 1);
  if (b.size() < i || b.size() - i < need)
    return Error(Errc::io, name + ": truncated PPM/PGM file (" + std::to_string(b.size() - std::min(i, b.size())) +
                               " bytes of pixels, " + std::to_string(need) + " expected)");
  return {};
}

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
  const auto* data = reinterpret_cast<const stbi_uc*>(bytes.data());
  const int len = static_cast<int>(bytes.size());
  int w = 0, h = 0, c = 0;
  if (!stbi_info_from_memory(data, len, &w, &h, &c))
    return Error(Errc::io, name + ": not a readable PNG, JPEG or PPM/PGM image (" + stbi_failure_reason() + ")");
  HETEX_TRY_VOID(check_pnm_length(bytes, name, w, h, c));
  const int want = c == 2 ? 4 : c;  // gray + alpha becomes RGBA
  stbi_uc* px = stbi_load_from_memory(data, len, &w, &h, &c, want);
  if (!px) return Error(Errc::io, name + ": cannot decode (" + std::string(stbi_failure_reason()) + ")");
  Image img;
  img.shape = {w, h, want};
  if (auto s = check_shape(img.shape, name); !s) {
    stbi_image_free(px);
    return std::move(s).error();
  }
  img.pixels.assign(px, px + img.shape.bytes());
  stbi_image_free(px);
  return img;
}

Result<Image> load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in || std::filesystem::is_directory(path))
    return Error(Errc::io, path + ": cannot open (missing, a directory, or not readable)");
  std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return Error(Errc::io, path + ": read error");
  return decode(bytes, path);
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
      const std::string header =
          std::string(c == 1 ? "P5" : "P6") + "\n" + std::to_string(s.width) + " " + std::to_string(s.height) + "\n255\n";
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
  const auto& bytes = *encoded;
  const std::string tmp = path + ".hetex-tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return Error(Errc::io, path + ": cannot create (missing directory or no permission)");
    out.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
    out.close();
    if (!out) {
      std::error_code ec;
      std::filesystem::remove(tmp, ec);
      return Error(Errc::io, path + ": write failed (disk full?)");
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    return Error(Errc::io, path + ": cannot replace the file: " + ec.message());
  }
  return {};
}

}  // namespace hetex::image
