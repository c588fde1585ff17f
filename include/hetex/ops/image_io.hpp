// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// Reading and writing PNG, JPEG and PPM/PGM files (stb underneath). Images load as 8-bit gray,
/// RGB or RGBA (gray + alpha becomes RGBA); 16-bit files are reduced to 8 bits.
///
/// @code
/// auto img = hetex::image::load("photo.jpg");   // Result<Image>; Errc::io naming the file
/// hetex::image::save("edges.png", view(*img));
/// @endcode
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "hetex/ops/image.hpp"

namespace hetex::image {

enum class FileFormat : std::uint8_t { png, jpeg, pnm };  ///< the image file formats hetex reads and writes
/// From the extension (.png, .jpg/.jpeg, .ppm/.pgm/.pnm, any case); invalid_argument otherwise.
Result<FileFormat> format_for(const std::string& path);

/// Errc::io naming `path` when it cannot be read (not a regular file, missing, unreadable, or
/// changed while read) or is not a decodable image.
Result<Image> load(const std::string& path);
/// As load(), from bytes in memory; `name` is used in errors.
Result<Image> decode(std::span<const std::uint8_t> bytes, const std::string& name = "image");

/// PNM writes P5 (gray) or P6 (RGB); RGBA is written as RGB (PNM has no alpha). JPEG drops alpha.
Result<std::vector<std::uint8_t>> encode(ImageView img, FileFormat format, int jpeg_quality = 95);
/// Writes through a temporary file renamed into place (hetex::write_file_atomic), so a failed or
/// interrupted save leaves no partial file.
Status save(const std::string& path, ImageView img, int jpeg_quality = 95);

/// Whether `path` holds a whole image, from its header and its end, without decoding the pixels:
/// PNG up to its IEND chunk, JPEG up to its end-of-image marker, PPM/PGM every pixel byte.
/// Errc::io naming the file and what is missing otherwise.
Status check_complete(const std::string& path);
/// As above, for bytes in memory.
Status check_complete(std::span<const std::uint8_t> bytes, const std::string& name = "image");

}  // namespace hetex::image
