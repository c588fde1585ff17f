#include "vulkan/compiler.hpp"

#include <openssl/sha.h>
#include <shaderc/shaderc.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <mutex>

namespace hetex::vulkan {
namespace {

struct Cache {
  std::mutex m;
  std::map<std::string, std::shared_ptr<const Spirv>> entries;
  CompileCacheStats stats;
};
Cache& cache() {
  static Cache c;
  return c;
}

std::string hex_sha256(const std::string& data) {
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), md);
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char b : md) out += {digits[b >> 4], digits[b & 15]};
  return out;
}

std::shared_ptr<const Spirv> read_disk(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return nullptr;
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (bytes.size() < 20 || bytes.size() % 4 != 0) return nullptr;
  auto words = std::make_shared<Spirv>(bytes.size() / 4);
  std::memcpy(words->data(), bytes.data(), bytes.size());
  if ((*words)[0] != 0x07230203u) return nullptr;  // not SPIR-V: compile again
  return words;
}

// Best effort and atomic (write, then rename): a cache that cannot be written costs a compile.
void write_disk(const std::filesystem::path& file, const Spirv& words) {
  std::error_code ec;
  std::filesystem::create_directories(file.parent_path(), ec);
  if (ec) return;
  auto tmp = file;
  tmp += ".tmp" + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return;
    out.write(reinterpret_cast<const char*>(words.data()), static_cast<std::streamsize>(words.size() * 4));
    if (!out) {
      out.close();
      std::filesystem::remove(tmp, ec);
      return;
    }
  }
  std::filesystem::rename(tmp, file, ec);
  if (ec) std::filesystem::remove(tmp, ec);
}

Result<std::shared_ptr<const Spirv>> run_shaderc(std::string_view source, const GlslOptions& o) {
  struct Owned {
    shaderc_compiler_t compiler = shaderc_compiler_initialize();
    shaderc_compile_options_t options = shaderc_compile_options_initialize();
    shaderc_compilation_result_t result = nullptr;
    ~Owned() {
      if (result) shaderc_result_release(result);
      if (options) shaderc_compile_options_release(options);
      if (compiler) shaderc_compiler_release(compiler);
    }
  } s;
  if (!s.compiler || !s.options) return Error(Errc::out_of_memory, "initializing libshaderc failed");
  shaderc_compile_options_set_target_env(s.options, shaderc_target_env_vulkan, shaderc_env_version_vulkan_1_2);
  shaderc_compile_options_set_optimization_level(
      s.options, o.optimize ? shaderc_optimization_level_performance : shaderc_optimization_level_zero);
  for (const auto& [name, value] : o.defines)
    shaderc_compile_options_add_macro_definition(s.options, name.data(), name.size(), value.data(), value.size());
  s.result = shaderc_compile_into_spv(s.compiler, source.data(), source.size(), shaderc_compute_shader, o.file_name.c_str(),
                                      "main", s.options);
  if (!s.result) return Error(Errc::out_of_memory, "libshaderc returned no result for " + o.file_name);
  const shaderc_compilation_status status = shaderc_result_get_compilation_status(s.result);
  std::string log = shaderc_result_get_error_message(s.result) ? shaderc_result_get_error_message(s.result) : "";
  while (!log.empty() && log.back() == '\n') log.pop_back();
  switch (status) {
    case shaderc_compilation_status_success: break;
    case shaderc_compilation_status_compilation_error:
    case shaderc_compilation_status_invalid_stage:
      return Error(Errc::compile_error, "compiling GLSL kernel " + o.file_name + " failed (" +
                                            std::to_string(shaderc_result_get_num_errors(s.result)) + " errors):\n" + log);
    case shaderc_compilation_status_invalid_assembly:
    case shaderc_compilation_status_validation_error:
      return Error(Errc::compile_error, "GLSL kernel " + o.file_name + " compiled to invalid SPIR-V:\n" + log);
    default:
      return Error(Errc::internal, "libshaderc failed on " + o.file_name + " (status " + std::to_string(int(status)) +
                                       "):\n" + log);
  }
  const std::size_t bytes = shaderc_result_get_length(s.result);
  if (bytes % 4 != 0 || bytes < 20) return Error(Errc::internal, "libshaderc produced " + std::to_string(bytes) + " bytes of SPIR-V");
  auto words = std::make_shared<Spirv>(bytes / 4);
  std::memcpy(words->data(), shaderc_result_get_bytes(s.result), bytes);
  return std::shared_ptr<const Spirv>(std::move(words));
}

}  // namespace

Result<std::shared_ptr<const Spirv>> compile_glsl(std::string_view source, const GlslOptions& options) {
  unsigned spv_version = 0, spv_revision = 0;
  shaderc_get_spv_version(&spv_version, &spv_revision);
  std::string key_text = "hetex-glsl 1 shaderc spv " + std::to_string(spv_version) + "." + std::to_string(spv_revision) +
                         " vulkan1.2 " + (options.optimize ? "O" : "O0") + "\n" + options.file_name + "\n";
  for (const auto& [name, value] : options.defines) key_text += name + "=" + value + "\n";
  key_text += "\n";
  key_text += source;
  const std::string key = hex_sha256(key_text);

  auto& c = cache();
  {
    std::lock_guard lock(c.m);
    if (auto it = c.entries.find(key); it != c.entries.end()) {
      ++c.stats.memory_hits;
      return it->second;
    }
  }
  const std::filesystem::path file = (options.cache_dir ? *options.cache_dir : default_spirv_cache_dir()) / (key + ".spv");
  std::shared_ptr<const Spirv> words;
  const bool from_disk = options.disk_cache && (words = read_disk(file)) != nullptr;
  if (!words) {
    words = HETEX_TRY(run_shaderc(source, options));
    if (options.disk_cache) write_disk(file, *words);
  }
  std::lock_guard lock(c.m);
  ++(from_disk ? c.stats.disk_hits : c.stats.compiles);
  return c.entries.emplace(key, words).first->second;
}

CompileCacheStats compile_cache_stats() {
  auto& c = cache();
  std::lock_guard lock(c.m);
  return c.stats;
}

void clear_compile_memory_cache() {
  auto& c = cache();
  std::lock_guard lock(c.m);
  c.entries.clear();
}

std::filesystem::path default_spirv_cache_dir() {
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return std::filesystem::path(x) / "hetex" / "spirv";
  if (const char* h = std::getenv("HOME"); h && *h) return std::filesystem::path(h) / ".cache" / "hetex" / "spirv";
  return std::filesystem::temp_directory_path() / "hetex" / "spirv";
}

}  // namespace hetex::vulkan
