// SPDX-License-Identifier: MIT
#pragma once
/// @file
/// MetricsServer: a registry over HTTP, for Prometheus to scrape.
/// @code
/// GET /metrics       text exposition format 0.0.4
/// GET /metrics.json  Registry::json_snapshot()
/// @endcode
/// Anything else is 404. It serves from its own threads until stop() or destruction; the registry
/// must outlive it. Constructing one makes the process ignore SIGPIPE (cpp-httplib does so, so
/// that a scraper hanging up mid-response cannot kill the process).

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "hetex/core/error.hpp"
#include "hetex/metrics/registry.hpp"

namespace hetex::metrics {

/// An HTTP server for a registry's /metrics (see the file's description), on threads of its own.
/// Move-only; stops when destroyed.
class MetricsServer {
 public:
  /// port 0 lets the system pick a free port (see port()). A port already in use, or an address
  /// that cannot be bound, is an Errc::unavailable error naming both.
  static Result<MetricsServer> start(Registry& registry, std::uint16_t port, std::string bind = "127.0.0.1");

  /// Pages of any text, each made afresh per request (the server's threads call body()). The
  /// registry form above serves two such pages.
  struct Page {
    std::string path;                   ///< exact, e.g. "/metrics"
    std::string content_type;           ///< e.g. "text/plain; version=0.0.4"
    std::function<std::string()> body;  ///< called per request, from the server's threads
  };
  /// Errors as the registry form's.
  static Result<MetricsServer> start(std::vector<Page> pages, std::uint16_t port, std::string bind = "127.0.0.1");

  MetricsServer(MetricsServer&&) noexcept;
  MetricsServer& operator=(MetricsServer&&) noexcept;  ///< stops the server being replaced
  ~MetricsServer();

  std::uint16_t port() const noexcept;               ///< the port bound (the one picked, for port 0)
  const std::string& bind_address() const noexcept;  ///< the address bound
  bool running() const noexcept;                     ///< false after stop()
  /// Closes the listening socket and joins the server threads. Connections close after each
  /// response, so this returns at once, or within about a second if a client has connected and
  /// not yet sent its request. Idempotent.
  void stop() noexcept;

 private:
  struct Impl;
  explicit MetricsServer(std::unique_ptr<Impl> impl) noexcept;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hetex::metrics
