// SPDX-License-Identifier: MIT
#include "vulkan/compiler.hpp"
#include "hetex/core/file.hpp"
#include "hetex/core/hex.hpp"

#include <glslang/Public/ResourceLimits.h>
#include <glslang/Public/ShaderLang.h>
#include <glslang/SPIRV/GlslangToSpv.h>
#include <glslang/build_info.h>
#include <openssl/sha.h>
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
  std::uint8_t md[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), md);
  return to_hex(md);
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
  (void)write_file_atomic(file, std::span(reinterpret_cast<const std::uint8_t*>(words.data()), words.size() * 4));
}

// glslang, the Khronos reference compiler that glslc and libshaderc wrap, through its C++ API:
// Debian 12's libshaderc1 was built against glslang 11 and cannot be linked with the glslang 12
// libraries of glslang-dev (their objects disagree on glslang's class layouts).
Result<std::shared_ptr<const Spirv>> run_glslang(std::string_view source, const GlslOptions& o) {
  static std::once_flag initialized;
  std::call_once(initialized, [] { glslang::InitializeProcess(); });
  glslang::TShader shader(EShLangCompute);
  const char* text = source.data();
  const int length = static_cast<int>(source.size());
  const char* name = o.file_name.c_str();
  shader.setStringsWithLengthsAndNames(&text, &length, &name, 1);
  std::string preamble;
  for (const auto& [macro, value] : o.defines) preamble += "#define " + macro + " " + value + "\n";
  shader.setPreamble(preamble.c_str());
  shader.setEntryPoint("main");
  shader.setSourceEntryPoint("main");
  shader.setEnvInput(glslang::EShSourceGlsl, EShLangCompute, glslang::EShClientVulkan, 100);
  shader.setEnvClient(glslang::EShClientVulkan, glslang::EShTargetVulkan_1_2);
  shader.setEnvTarget(glslang::EShTargetSpv, glslang::EShTargetSpv_1_5);
  const auto messages = static_cast<EShMessages>(EShMsgSpvRules | EShMsgVulkanRules);
  auto failed = [&](const char* log) {
    std::string text = log ? log : "";
    while (!text.empty() && text.back() == '\n') text.pop_back();
    std::size_t errors = 0;
    for (std::size_t at = text.find("ERROR:"); at != std::string::npos; at = text.find("ERROR:", at + 1)) ++errors;
    return Error(Errc::compile_error,
                 "compiling GLSL kernel " + o.file_name + " failed (" + std::to_string(errors) + " errors):\n" + text);
  };
  if (!shader.parse(GetDefaultResources(), 460, false, messages)) return failed(shader.getInfoLog());
  glslang::TProgram program;
  program.addShader(&shader);
  if (!program.link(messages)) return failed(program.getInfoLog());
  auto words = std::make_shared<Spirv>();
  spv::SpvBuildLogger logger;
  glslang::SpvOptions spv;
  spv.disableOptimizer = !o.optimize;
  glslang::GlslangToSpv(*program.getIntermediate(EShLangCompute), *words, &logger, &spv);
  if (words->size() < 5 || (*words)[0] != 0x07230203u)
    return Error(Errc::internal, "glslang produced no SPIR-V for " + o.file_name + ": " + logger.getAllMessages());
  return std::shared_ptr<const Spirv>(std::move(words));
}

}  // namespace

Result<std::shared_ptr<const Spirv>> compile_glsl(std::string_view source, const GlslOptions& options) {
  std::string key_text = "hetex-glsl 1 glslang " + std::to_string(GLSLANG_VERSION_MAJOR) + "." +
                         std::to_string(GLSLANG_VERSION_MINOR) + "." + std::to_string(GLSLANG_VERSION_PATCH) +
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
  const std::filesystem::path file =
      (options.cache_dir ? *options.cache_dir : default_spirv_cache_dir()) / (key + ".spv");
  std::shared_ptr<const Spirv> words;
  const bool from_disk = options.disk_cache && (words = read_disk(file)) != nullptr;
  if (!words) {
    words = HETEX_TRY(run_glslang(source, options));
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

std::filesystem::path default_spirv_cache_dir() { return cache_directory() / "spirv"; }

}  // namespace hetex::vulkan
