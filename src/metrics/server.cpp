// SPDX-License-Identifier: MIT
#include "hetex/metrics/server.hpp"

#include <sys/socket.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <thread>

// Debian splits cpp-httplib into this header and libcpp-httplib.so, built with these options;
// the header's class layouts must match the library's, so they are set whether or not the build
// passes pkg-config's flags.
#ifndef CPPHTTPLIB_OPENSSL_SUPPORT
#define CPPHTTPLIB_OPENSSL_SUPPORT
#endif
#ifndef CPPHTTPLIB_ZLIB_SUPPORT
#define CPPHTTPLIB_ZLIB_SUPPORT
#endif
#ifndef CPPHTTPLIB_BROTLI_SUPPORT
#define CPPHTTPLIB_BROTLI_SUPPORT
#endif
#include <httplib.h>

namespace hetex::metrics {

struct MetricsServer::Impl {
  httplib::Server http;
  std::thread thread;
  std::string bind;
  std::uint16_t port = 0;
  std::atomic<bool> finished{false};
};

MetricsServer::MetricsServer(std::unique_ptr<Impl> impl) noexcept : impl_(std::move(impl)) {}
MetricsServer::MetricsServer(MetricsServer&&) noexcept = default;
MetricsServer& MetricsServer::operator=(MetricsServer&& other) noexcept {
  if (this != &other) {
    stop();
    impl_ = std::move(other.impl_);
  }
  return *this;
}
MetricsServer::~MetricsServer() { stop(); }

std::uint16_t MetricsServer::port() const noexcept { return impl_ ? impl_->port : 0; }
const std::string& MetricsServer::bind_address() const noexcept {
  static const std::string none;
  return impl_ ? impl_->bind : none;
}
bool MetricsServer::running() const noexcept { return impl_ && impl_->thread.joinable() && !impl_->finished; }

void MetricsServer::stop() noexcept {
  if (!impl_ || !impl_->thread.joinable()) return;
  impl_->http.stop();
  impl_->thread.join();
}

Result<MetricsServer> MetricsServer::start(Registry& registry, std::uint16_t port, std::string bind) {
  std::vector<Page> pages;
  pages.push_back(
      {"/metrics", "text/plain; version=0.0.4; charset=utf-8", [&registry] { return registry.prometheus_text(); }});
  pages.push_back({"/metrics.json", "application/json", [&registry] { return registry.json_snapshot(); }});
  return start(std::move(pages), port, std::move(bind));
}

Result<MetricsServer> MetricsServer::start(std::vector<Page> pages, std::uint16_t port, std::string bind) {
  auto impl = std::make_unique<Impl>();
  impl->bind = std::move(bind);
  httplib::Server& http = impl->http;

  for (auto& page : pages) {
    // httplib routes by regex: the path is escaped so that it matches itself alone (the dot of
    // /metrics.json must not match /metrics_json).
    std::string pattern;
    for (char c : page.path) {
      if (std::strchr(".^$|()[]{}*+?\\", c)) pattern += '\\';
      pattern += c;
    }
    http.Get(pattern, [page](const httplib::Request&, httplib::Response& res) {
      res.set_content(page.body(), page.content_type);
    });
  }
  // httplib's default adds SO_REUSEPORT, which lets a second server bind a port that is already
  // serving and split its scrapes; SO_REUSEADDR alone still allows a restart over TIME_WAIT.
  http.set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  // A scrape is one small request every few seconds: two threads are plenty (httplib's default
  // is one per core), and a new connection per scrape costs nothing. stop() joins the worker
  // threads, and httplib lets a worker sit on an idle keep-alive connection until its timeout
  // whatever stop() says; so no keep-alive (the connection closes after each response), and
  // short timeouts for a client that connects and stalls.
  http.new_task_queue = [] { return new httplib::ThreadPool(2); };
  http.set_keep_alive_max_count(1);
  http.set_keep_alive_timeout(1);
  http.set_read_timeout(1, 0);
  http.set_write_timeout(1, 0);

  errno = 0;
  const int bound = port == 0 ? http.bind_to_any_port(impl->bind) : (http.bind_to_port(impl->bind, port) ? port : -1);
  if (bound <= 0) {
    const int err = errno;
    std::string where = impl->bind + ":" + std::to_string(port);
    std::string why = err == EADDRINUSE      ? "port " + std::to_string(port) + " is already in use"
                      : err == EADDRNOTAVAIL ? "the address is not one of this host's"
                      : err == EACCES        ? "permission denied (ports below 1024 need privileges)"
                      : err != 0             ? std::string(std::strerror(err))
                                             : "the address could not be resolved or bound";
    return Error(Errc::unavailable, "metrics server cannot listen on " + where + ": " + why);
  }
  impl->port = static_cast<std::uint16_t>(bound);

  Impl* raw = impl.get();
  impl->thread = std::thread([raw] {
    raw->http.listen_after_bind();
    raw->finished = true;
  });
  // stop() is a no-op until the listen loop has begun, so start() does not return before it has:
  // a stop() right after start() must not leave the thread listening forever.
  while (!http.is_running() && !raw->finished) std::this_thread::sleep_for(std::chrono::microseconds(100));
  return MetricsServer(std::move(impl));
}

}  // namespace hetex::metrics
