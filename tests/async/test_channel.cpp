// SPDX-License-Identifier: MIT
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "hetex/async/channel.hpp"

using namespace hetex;
using namespace std::chrono_literals;

namespace {

// Until the condition holds; no time limit of its own (ctest's bounds a hang).
template <class Pred>
void wait_until(Pred pred) {
  while (!pred()) std::this_thread::yield();
}

TEST(Channel, CapacityZeroIsRejectedByCreateAndRaisedByTheConstructor) {
  auto bad = Channel<int>::create(0);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), Errc::invalid_argument);
  auto good = Channel<int>::create(3);
  ASSERT_TRUE(good);
  EXPECT_EQ((*good)->capacity(), 3u);
  Channel<int> raised(0);
  EXPECT_EQ(raised.capacity(), 1u);
}

TEST(Channel, FifoWithOneProducerAndOneConsumer) {
  Channel<int> ch(4);
  constexpr int n = 1000;
  std::thread producer([&] {
    for (int i = 0; i < n; ++i) ASSERT_TRUE(ch.send(int(i)));
    ch.close();
  });
  std::vector<int> got;
  while (auto v = ch.receive()) got.push_back(*v);
  producer.join();
  ASSERT_EQ(got.size(), static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) EXPECT_EQ(got[i], i);
}

TEST(Channel, TrySendIsBusyWhenFullAndLeavesTheItem) {
  Channel<std::unique_ptr<int>> ch(2);
  ASSERT_TRUE(ch.try_send(std::make_unique<int>(1)));
  ASSERT_TRUE(ch.try_send(std::make_unique<int>(2)));
  EXPECT_EQ(ch.size(), 2u);
  auto third = std::make_unique<int>(3);
  Status s = ch.try_send(std::move(third));
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), Errc::busy);
  ASSERT_NE(third, nullptr);  // not moved from
  EXPECT_EQ(*third, 3);
  EXPECT_EQ(**ch.try_receive(), 1);
  EXPECT_TRUE(ch.try_send(std::move(third)));
  EXPECT_EQ(third, nullptr);
}

TEST(Channel, SendBlocksUntilAReceiveMakesRoom) {
  Channel<int> ch(1);
  ASSERT_TRUE(ch.send(1));
  std::atomic<bool> sent{false};
  std::thread producer([&] {
    EXPECT_TRUE(ch.send(2));
    sent = true;
  });
  // The producer is parked while the channel is full; the only item is still ours.
  wait_until([&] { return ch.blocked_senders() == 1; });
  EXPECT_FALSE(sent.load());
  EXPECT_EQ(ch.size(), 1u);
  EXPECT_EQ(*ch.receive(), 1);
  producer.join();
  EXPECT_TRUE(sent.load());
  EXPECT_EQ(*ch.receive(), 2);
}

TEST(Channel, TryReceiveOnEmptyIsNullopt) {
  Channel<int> ch(1);
  EXPECT_FALSE(ch.try_receive().has_value());
}

TEST(Channel, CloseLetsReceiversDrainThenEnds) {
  Channel<int> ch(3);
  ASSERT_TRUE(ch.send(1));
  ASSERT_TRUE(ch.send(2));
  ch.close();
  EXPECT_TRUE(ch.closed());
  EXPECT_EQ(*ch.receive(), 1);
  EXPECT_EQ(*ch.try_receive(), 2);
  EXPECT_FALSE(ch.receive().has_value());
  EXPECT_FALSE(ch.receive_for(1ms).has_value());
}

TEST(Channel, SendAfterCloseIsCancelledAndTheItemIsIntact) {
  Channel<std::vector<int>> ch(2);
  ch.close();
  std::vector<int> item{1, 2, 3};
  Status s = ch.send(std::move(item));
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), Errc::cancelled);
  EXPECT_EQ(item, (std::vector<int>{1, 2, 3}));
  Status t = ch.try_send(std::move(item));
  ASSERT_FALSE(t);
  EXPECT_EQ(t.error().code(), Errc::cancelled);
  Status u = ch.send_for(std::move(item), 1ms);
  ASSERT_FALSE(u);
  EXPECT_EQ(u.error().code(), Errc::cancelled);
  EXPECT_EQ(item, (std::vector<int>{1, 2, 3}));
}

TEST(Channel, CloseWakesABlockedSenderWithItsItemIntact) {
  Channel<std::unique_ptr<int>> ch(1);
  ASSERT_TRUE(ch.send(std::make_unique<int>(0)));
  auto item = std::make_unique<int>(7);
  Status s;
  std::thread producer([&] { s = ch.send(std::move(item)); });
  wait_until([&] { return ch.blocked_senders() == 1; });
  ch.close();
  producer.join();
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), Errc::cancelled);
  ASSERT_NE(item, nullptr);
  EXPECT_EQ(*item, 7);
}

TEST(Channel, CloseWakesABlockedReceiver) {
  Channel<int> ch(1);
  std::optional<int> got{-1};
  std::thread consumer([&] { got = ch.receive(); });
  wait_until([&] { return ch.blocked_receivers() == 1; });
  ch.close();
  consumer.join();
  EXPECT_FALSE(got.has_value());
}

TEST(Channel, SendForTimesOutWhenFull) {
  Channel<std::unique_ptr<int>> ch(1);
  ASSERT_TRUE(ch.send(std::make_unique<int>(1)));
  auto item = std::make_unique<int>(2);
  Status s = ch.send_for(std::move(item), 2ms);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), Errc::busy);
  ASSERT_NE(item, nullptr);
  (void)ch.receive();
  EXPECT_TRUE(ch.send_for(std::move(item), 2ms));
  EXPECT_EQ(**ch.receive(), 2);
}

TEST(Channel, ReceiveForTimesOutWhenEmpty) {
  Channel<int> ch(1);
  EXPECT_FALSE(ch.receive_for(2ms).has_value());
  EXPECT_FALSE(ch.closed());
  ASSERT_TRUE(ch.send(5));
  EXPECT_EQ(ch.receive_for(2ms), 5);
}

TEST(Channel, MultipleProducersAndConsumersDeliverEachItemOnce) {
  constexpr int producers = 4, consumers = 4, per_producer = 5000;
  constexpr int total = producers * per_producer;
  Channel<int> ch(8);
  auto seen = std::make_unique<std::atomic<int>[]>(total);
  std::atomic<int> received{0};

  std::vector<std::thread> ts;
  for (int c = 0; c < consumers; ++c) {
    ts.emplace_back([&] {
      while (auto v = ch.receive()) {
        seen[*v].fetch_add(1);
        received.fetch_add(1);
      }
    });
  }
  std::vector<std::thread> ps;
  for (int p = 0; p < producers; ++p) {
    ps.emplace_back([&, p] {
      for (int i = 0; i < per_producer; ++i) {
        int item = p * per_producer + i;
        // Mix the sending styles; each must either deliver the item or leave it with us.
        if (i % 3 == 0) {
          ASSERT_TRUE(ch.send(std::move(item)));
        } else {
          while (!ch.try_send(std::move(item))) std::this_thread::yield();
        }
      }
    });
  }
  for (auto& t : ps) t.join();
  ch.close();
  for (auto& t : ts) t.join();

  EXPECT_EQ(received.load(), total);
  for (int i = 0; i < total; ++i) ASSERT_EQ(seen[i].load(), 1) << "item " << i;
}

TEST(Channel, PerProducerOrderIsKept) {
  constexpr int producers = 3, per_producer = 2000;
  Channel<std::pair<int, int>> ch(4);
  std::vector<std::thread> ps;
  for (int p = 0; p < producers; ++p)
    ps.emplace_back([&, p] {
      for (int i = 0; i < per_producer; ++i) ASSERT_TRUE(ch.send({p, i}));
    });
  std::vector<int> next(producers, 0);
  for (int k = 0; k < producers * per_producer; ++k) {
    auto v = ch.receive();
    ASSERT_TRUE(v);
    EXPECT_EQ(v->second, next[v->first]);
    next[v->first] = v->second + 1;
  }
  for (auto& t : ps) t.join();
}

TEST(Channel, ReceiveAsyncGetsAnItemSentLater) {
  Channel<std::unique_ptr<int>> ch(1);
  auto f = ch.receive_async();
  EXPECT_FALSE(f.is_ready());
  std::thread producer([&] { ASSERT_TRUE(ch.send(std::make_unique<int>(11))); });
  auto r = f.get();
  producer.join();
  ASSERT_TRUE(r);
  ASSERT_TRUE(r->has_value());
  EXPECT_EQ(***r, 11);
  EXPECT_EQ(ch.size(), 0u);  // handed over, never buffered
}

TEST(Channel, ReceiveAsyncTakesBufferedItemsFirst) {
  Channel<int> ch(2);
  ASSERT_TRUE(ch.send(1));
  auto f = ch.receive_async();
  ASSERT_TRUE(f.is_ready());
  EXPECT_EQ(**f.get(), 1);
}

TEST(Channel, ReceiveAsyncEndsWithNulloptOnClose) {
  Channel<int> ch(2);
  auto a = ch.receive_async();
  auto b = ch.receive_async();
  ASSERT_TRUE(ch.send(5));  // the first waiter gets it
  ch.close();
  EXPECT_EQ(**a.get(), 5);
  auto rb = b.get();
  ASSERT_TRUE(rb);
  EXPECT_FALSE(rb->has_value());
  auto c = ch.receive_async();
  ASSERT_TRUE(c.is_ready());
  EXPECT_FALSE(c.get()->has_value());
}

}  // namespace
