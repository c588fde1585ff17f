// SPDX-License-Identifier: MIT
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <thread>
#include <nlohmann/json.hpp>

#include "hetex/metrics/server.hpp"

// Debian's libcpp-httplib is built with these; the header must agree with the library.
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

using namespace hetex;
using namespace hetex::metrics;

namespace {
// A client that holds its connection as long as the test wants, unlike httplib::Client.
class RawClient {
 public:
  explicit RawClient(std::uint16_t port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    ::inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    connected_ = fd_ >= 0 && ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    timeval tv{2, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~RawClient() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool ok() const { return connected_; }
  // Sends the request and reads until the body named by Content-Length has arrived.
  std::string request(const std::string& req) {
    if (::send(fd_, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) return {};
    std::string got;
    char buf[4096];
    while (true) {
      const auto header_end = got.find("\r\n\r\n");
      if (header_end != std::string::npos) {
        const auto cl = got.find("Content-Length: ");
        if (cl != std::string::npos && got.size() >= header_end + 4 + std::stoul(got.substr(cl + 16))) return got;
      }
      const auto n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) return got;
      got.append(buf, static_cast<std::size_t>(n));
    }
  }
  // Reads until the server closes the connection: true on a clean close, false on a time-out
  // (SO_RCVTIMEO) or an error.
  bool wait_closed() {
    char buf[256];
    for (;;) {
      const auto n = ::recv(fd_, buf, sizeof buf, 0);
      if (n == 0) return true;
      if (n < 0) return false;
    }
  }

 private:
  int fd_;
  bool connected_ = false;
};

void fill(Registry& reg) {
  reg.counter("hetex_items_total", "Items", {{"device", "cuda:0"}}).value().inc(42);
  reg.histogram("hetex_batch_seconds", "Batch latency", {0.1, 1}).value().observe(0.5);
}
}  // namespace

TEST(MetricsServer, ServesTheExpositionOnAFreePort) {
  Registry reg;
  fill(reg);
  auto server = MetricsServer::start(reg, 0);
  ASSERT_TRUE(server) << server.error().describe();
  ASSERT_NE(server->port(), 0);
  EXPECT_TRUE(server->running());
  EXPECT_EQ(server->bind_address(), "127.0.0.1");

  httplib::Client client("127.0.0.1", server->port());
  auto res = client.Get("/metrics");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(res->body, reg.prometheus_text());
  EXPECT_NE(res->body.find("hetex_items_total{device=\"cuda:0\"} 42"), std::string::npos);

  // Later updates show in the next scrape.
  reg.counter("hetex_items_total", "Items", {{"device", "cuda:0"}}).value().inc(1);
  res = client.Get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_NE(res->body.find("hetex_items_total{device=\"cuda:0\"} 43"), std::string::npos);

  res = client.Get("/metrics.json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type"), "application/json");
  const auto j = nlohmann::json::parse(res->body);
  EXPECT_EQ(j, nlohmann::json::parse(reg.json_snapshot()));

  for (const char* path : {"/", "/nope", "/metrics/x", "/metrics_json", "/metrics.json/"}) {
    res = client.Get(path);
    ASSERT_TRUE(res) << path;
    EXPECT_EQ(res->status, 404) << path;
  }
  res = client.Post("/metrics", "x", "text/plain");
  ASSERT_TRUE(res);
  EXPECT_NE(res->status, 200);
}

TEST(MetricsServer, APortInUseIsAClearError) {
  Registry reg;
  auto first = MetricsServer::start(reg, 0);
  ASSERT_TRUE(first) << first.error().describe();
  auto second = MetricsServer::start(reg, first->port());
  ASSERT_FALSE(second) << "two servers bound port " << first->port();
  EXPECT_EQ(second.error().code(), Errc::unavailable);
  const std::string port = std::to_string(first->port());
  EXPECT_NE(second.error().message().find(port), std::string::npos) << second.error().message();
  EXPECT_NE(second.error().message().find("already in use"), std::string::npos) << second.error().message();
  // The first one is unaffected.
  httplib::Client client("127.0.0.1", first->port());
  auto res = client.Get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
}

TEST(MetricsServer, AnUnbindableAddressIsAnError) {
  Registry reg;
  auto s = MetricsServer::start(reg, 0, "203.0.113.7");  // TEST-NET-3: not an address of this host
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), Errc::unavailable);
  EXPECT_NE(s.error().message().find("203.0.113.7"), std::string::npos) << s.error().message();
}

TEST(MetricsServer, StopsPromptlyWithClientsConnected) {
  Registry reg;
  fill(reg);
  auto server = MetricsServer::start(reg, 0);
  ASSERT_TRUE(server);
  const auto port = server->port();
  // One client asks for keep-alive and stays connected after its response; another connects and
  // never sends a byte. stop() joins the server threads, so neither may hold it up for long.
  RawClient scraper(port), silent(port);
  ASSERT_TRUE(scraper.ok() && silent.ok());
  const std::string response = scraper.request("GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n");
  EXPECT_EQ(response.rfind("HTTP/1.1 200 OK", 0), 0u) << response;
  EXPECT_NE(response.find("Connection: close"), std::string::npos) << response;
  const auto t0 = std::chrono::steady_clock::now();
  server->stop();
  const auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_LT(took, std::chrono::milliseconds(2500));
  EXPECT_FALSE(server->running());
  server->stop();  // idempotent

  httplib::Client late("127.0.0.1", port);
  late.set_connection_timeout(1);
  EXPECT_FALSE(late.Get("/metrics")) << "still serving after stop()";
}

TEST(MetricsServer, StopDoesNotWaitForAnIdleScraper) {
  Registry reg;
  fill(reg);
  auto server = MetricsServer::start(reg, 0);
  ASSERT_TRUE(server);
  RawClient scraper(server->port());
  ASSERT_TRUE(scraper.ok());
  ASSERT_NE(scraper.request("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n").find("hetex_items_total"), std::string::npos);
  // The server closes the connection after its response: no worker sits on it waiting for a
  // next request (were keep-alive on, stop() would have to sit that out).
  ASSERT_TRUE(scraper.wait_closed()) << "the connection stayed open after the response";
  const auto t0 = std::chrono::steady_clock::now();
  server->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(500));
}

TEST(MetricsServer, MovesAndDestructorStops) {
  Registry reg;
  fill(reg);
  std::uint16_t port = 0;
  {
    auto started = MetricsServer::start(reg, 0);
    ASSERT_TRUE(started);
    MetricsServer moved = std::move(*started);
    port = moved.port();
    EXPECT_TRUE(moved.running());
    httplib::Client client("127.0.0.1", port);
    auto res = client.Get("/metrics");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200);

    auto other = MetricsServer::start(reg, 0);
    ASSERT_TRUE(other);
    const auto other_port = other->port();
    moved = std::move(*other);  // stops the first server, takes over the second
    EXPECT_EQ(moved.port(), other_port);
    httplib::Client c2("127.0.0.1", other_port);
    EXPECT_TRUE(c2.Get("/metrics"));
  }
  // Both are gone; the first port can be bound again at once.
  auto again = MetricsServer::start(reg, port);
  EXPECT_TRUE(again) << again.error().describe();
}

TEST(MetricsServer, StopRightAfterStart) {
  Registry reg;
  for (int i = 0; i < 20; ++i) {
    auto s = MetricsServer::start(reg, 0);
    ASSERT_TRUE(s);
    s->stop();
  }
}
