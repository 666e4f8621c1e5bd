#include <gtest/gtest.h>

#include <deque>

#include "publish/publisher.hpp"
#include "publish/transport.hpp"

namespace rackwatch {
namespace {

// Records what the publisher sends and lets the test acknowledge it.
class FakeTransport : public Transport {
 public:
  bool up = false;
  struct Sent {
    Message message;
    PublishDone done;
  };
  std::deque<Sent> sent;

  bool connected() const override { return up; }
  void publish(const Message& m, PublishDone done) override { sent.push_back({m, std::move(done)}); }

  // Completes the oldest outstanding publish.
  void complete(bool ok) {
    auto s = std::move(sent.front());
    sent.pop_front();
    s.done(ok, ok ? "" : "connection lost");
  }
};

Message msg(int n) { return Message{"t", std::to_string(n), 1, false}; }

TEST(PublisherTest, HoldsMessagesUntilConnectedAndSendsInOrder) {
  FakeTransport t;
  Publisher p(t, 100, 4);
  for (int i = 0; i < 3; ++i) p.enqueue(msg(i));
  EXPECT_TRUE(t.sent.empty());
  t.up = true;
  p.connected({Message{"status", "online", 1, true}});
  ASSERT_EQ(t.sent.size(), 4u);
  EXPECT_EQ(t.sent[0].message.topic, "status");  // birth first
  EXPECT_EQ(t.sent[1].message.payload, "0");
  EXPECT_EQ(t.sent[3].message.payload, "2");
}

TEST(PublisherTest, RespectsTheInFlightWindow) {
  FakeTransport t;
  t.up = true;
  Publisher p(t, 100, 2);
  for (int i = 0; i < 5; ++i) p.enqueue(msg(i));
  EXPECT_EQ(t.sent.size(), 2u);
  EXPECT_EQ(p.stats().in_flight, 2u);
  t.complete(true);
  EXPECT_EQ(t.sent.size(), 2u);  // one acknowledged, one more sent
  EXPECT_EQ(t.sent.back().message.payload, "2");
  EXPECT_EQ(p.stats().published, 1u);
  EXPECT_EQ(p.stats().queued, 4u);
}

TEST(PublisherTest, ResendsWhatWasInFlightAfterAReconnect) {
  FakeTransport t;
  t.up = true;
  Publisher p(t, 100, 8);
  for (int i = 0; i < 3; ++i) p.enqueue(msg(i));
  t.complete(true);  // 0 acknowledged
  t.up = false;
  p.disconnected();
  t.complete(false);  // 1 and 2 fail with the connection
  t.complete(false);
  EXPECT_TRUE(t.sent.empty());
  t.up = true;
  p.connected({});
  ASSERT_EQ(t.sent.size(), 2u);
  EXPECT_EQ(t.sent[0].message.payload, "1");
  EXPECT_EQ(t.sent[1].message.payload, "2");
  EXPECT_EQ(p.stats().resent, 2u);
  t.complete(true);
  t.complete(true);
  EXPECT_TRUE(p.idle());
  EXPECT_EQ(p.stats().published, 3u);
  EXPECT_EQ(p.stats().dropped, 0u);
}

TEST(PublisherTest, DropsTheOldestWhenFullAndCountsIt) {
  FakeTransport t;
  Publisher p(t, 3, 8);
  for (int i = 0; i < 5; ++i) p.enqueue(msg(i));
  EXPECT_EQ(p.stats().dropped, 2u);
  EXPECT_EQ(p.stats().queued, 3u);
  t.up = true;
  p.connected({});
  ASSERT_EQ(t.sent.size(), 3u);
  EXPECT_EQ(t.sent[0].message.payload, "2");
}

TEST(PublisherTest, AMessageRefusedWhileConnectedIsDroppedAfterRetries) {
  FakeTransport t;
  t.up = true;
  Publisher p(t, 10, 8);
  p.enqueue(msg(0));
  p.enqueue(msg(1));
  t.complete(true);  // 0 ok; now only 1 outstanding
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(t.sent.size(), 1u);
    t.complete(false);
  }
  EXPECT_TRUE(p.idle());
  EXPECT_EQ(p.stats().dropped, 1u);
  EXPECT_EQ(p.stats().published, 1u);
}

}  // namespace
}  // namespace rackwatch
