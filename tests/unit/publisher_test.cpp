#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <filesystem>

#include "publish/outbox.hpp"
#include "publish/publisher.hpp"
#include "publish/transport.hpp"
#include "publish/wire_format.hpp"
#include "outbox_test_support.hpp"
#include "support/temp_dir.hpp"

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
  void complete(bool ok, PublishError error = PublishError::not_connected, const std::string& text = "connection lost") {
    auto s = std::move(sent.front());
    sent.pop_front();
    s.done(ok ? PublishError::none : error, ok ? "" : text);
  }
  std::vector<std::string> payloads() const {
    std::vector<std::string> out;
    for (const auto& s : sent) out.push_back(s.message.payload);
    return out;
  }
};

Record msg(int n) { return Record{RecordKind::telemetry, "t/telemetry", std::to_string(n)}; }

class PublisherTest : public ::testing::Test {
 protected:
  std::unique_ptr<Outbox> open() {
    std::error_code ec;
    OutboxOptions o;
    o.dir = (dir_ / "outbox").string();
    o.fsync = FsyncPolicy::never;
    auto box = Outbox::open(o, ec);
    EXPECT_TRUE(box) << ec.message();
    return box;
  }
  test::TempDir dir_{"rackwatch-publisher"};
  NativeWire wire_;
};

TEST_F(PublisherTest, StoresWhileDisconnectedThenSendsBirthAndTheBacklogInOrder) {
  auto box = open();
  FakeTransport t;
  Publisher p(t, *box, wire_, 4);
  for (int i = 0; i < 3; ++i) p.enqueue(msg(i));
  EXPECT_TRUE(t.sent.empty());
  EXPECT_EQ(box->stats().pending, 3u);
  t.up = true;
  p.connected({Message{"status", "online", 1, true}});
  EXPECT_EQ(t.payloads(), (std::vector<std::string>{"online", "0", "1", "2"}));
  EXPECT_EQ(p.stats().replayed, 3u);
}

TEST_F(PublisherTest, RespectsTheWindowAndLeavesOnlyOnAcknowledgement) {
  auto box = open();
  FakeTransport t;
  t.up = true;
  Publisher p(t, *box, wire_, 2);
  p.connected({});
  for (int i = 0; i < 5; ++i) p.enqueue(msg(i));
  EXPECT_EQ(t.payloads(), (std::vector<std::string>{"0", "1"}));
  t.complete(true);
  EXPECT_EQ(t.payloads(), (std::vector<std::string>{"1", "2"}));
  EXPECT_EQ(box->stats().pending, 4u);
  EXPECT_EQ(p.stats().acknowledged, 1u);
}

TEST_F(PublisherTest, WhatWasInFlightAtADisconnectIsSentAgainAfterTheConnect) {
  auto box = open();
  FakeTransport t;
  t.up = true;
  Publisher p(t, *box, wire_, 8);
  p.connected({});
  for (int i = 0; i < 3; ++i) p.enqueue(msg(i));
  t.complete(true);  // 0 acknowledged
  t.up = false;
  p.disconnected();
  t.complete(false);  // 1 and 2 fail with the connection
  t.complete(false);
  p.enqueue(msg(3));  // stored while away
  EXPECT_TRUE(t.sent.empty());
  t.up = true;
  p.connected({});
  EXPECT_EQ(t.payloads(), (std::vector<std::string>{"1", "2", "3"}));
  for (int i = 0; i < 3; ++i) t.complete(true);
  EXPECT_TRUE(p.idle());
  EXPECT_EQ(box->stats().pending, 0u);
}

TEST_F(PublisherTest, FreshMessagesShareTheWindowWithTheBacklog) {
  auto box = open();
  FakeTransport t;
  Publisher p(t, *box, wire_, 2);
  for (int i = 0; i < 10; ++i) p.enqueue(msg(i));  // an outage's backlog
  t.up = true;
  p.connected({});
  EXPECT_EQ(t.payloads(), (std::vector<std::string>{"0", "1"}));
  p.enqueue(msg(100));  // a fresh reading
  p.enqueue(msg(101));
  std::vector<std::string> order;
  while (!t.sent.empty()) {
    order.push_back(t.sent.front().message.payload);
    t.complete(true);
  }
  // The fresh readings went out long before the backlog was through, and
  // each lane kept its order.
  const auto pos100 = std::find(order.begin(), order.end(), "100") - order.begin();
  const auto pos101 = std::find(order.begin(), order.end(), "101") - order.begin();
  EXPECT_LT(pos100, 5);
  EXPECT_LT(pos100, pos101);
  std::vector<std::string> backlog;
  for (const auto& s : order) {
    if (s.size() < 3) backlog.push_back(s);
  }
  EXPECT_EQ(backlog, (std::vector<std::string>{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}));
  EXPECT_TRUE(p.idle());
}

TEST_F(PublisherTest, ARestartResendsWhatWasNotAcknowledged) {
  {
    auto box = open();
    FakeTransport t;
    t.up = true;
    Publisher p(t, *box, wire_, 8);
    p.connected({});
    for (int i = 0; i < 4; ++i) p.enqueue(msg(i));
    t.complete(true);
    t.complete(true);
    box->sync();
  }
  auto box = open();
  FakeTransport t;
  t.up = true;
  Publisher p(t, *box, wire_, 8);
  p.connected({});
  EXPECT_EQ(t.payloads(), (std::vector<std::string>{"2", "3"}));
}

TEST_F(PublisherTest, AMessageRefusedWhileConnectedIsDroppedAfterRetries) {
  auto box = open();
  FakeTransport t;
  t.up = true;
  Publisher p(t, *box, wire_, 8);
  p.connected({});
  p.enqueue(msg(0));
  p.enqueue(msg(1));
  t.complete(true);  // 0 ok; now only 1 outstanding
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(t.sent.size(), 1u);
    EXPECT_EQ(t.sent.front().message.payload, "1");
    t.complete(false);
  }
  EXPECT_TRUE(p.idle());
  EXPECT_EQ(p.stats().refused, 1u);
  EXPECT_EQ(p.stats().acknowledged, 1u);
}

// MQTT 5: a broker that refuses as not authorized (an ACL) keeps the message
// in the outbox, is said in the stats, and gets it again after the hold-off;
// the messages it takes keep flowing meanwhile.
// Whatever the broker's reason (an ACL, a size limit, a quota), a refused
// reading is a configuration to fix: it stays in the outbox and is tried
// again, while the messages the broker takes keep flowing.
TEST_F(PublisherTest, AMessageTheBrokerRefusesIsKeptAndTriedAgain) {
  struct Refusal {
    PublishError error;
    const char* text;
  };
  for (const auto& [error, text] : {Refusal{PublishError::not_allowed, "Not authorized (0x87)"},
                                    Refusal{PublishError::too_large, "Packet too large (0x95)"},
                                    Refusal{PublishError::refused, "Quota exceeded (0x97)"}}) {
    SCOPED_TRACE(text);
    std::filesystem::remove_all(dir_ / "outbox");
    auto box = open();
    FakeTransport t;
    t.up = true;
    Publisher p(t, *box, wire_, 8, std::chrono::milliseconds{0});
    p.connected({});
    p.enqueue(Record{RecordKind::telemetry, "rackwatch/v1/s/other-rack/telemetry", "0"});
    p.enqueue(msg(1));
    const std::string no = std::string(kBrokerRefused) + text;
    for (int round = 0; round < 5; ++round) {  // more than the 3 tries of a message the client will not send
      ASSERT_FALSE(t.sent.empty());
      ASSERT_EQ(t.sent.front().message.payload, "0");
      t.complete(false, error, no);
      EXPECT_EQ(p.stats().held, 1u) << "round " << round << ": the refused one, and only it, is held";
      if (round == 0) t.complete(true);  // message 1 is taken meanwhile
      p.enqueue(msg(10 + round));         // a poll: the hold-off (0) has passed
      while (t.sent.size() > 1) {
        // Fresh messages go through; only the refused one comes back.
        auto it = std::find_if(t.sent.begin(), t.sent.end(), [](const auto& x) { return x.message.payload != "0"; });
        if (it == t.sent.end()) break;
        auto done = std::move(it->done);
        t.sent.erase(it);
        done(PublishError::none, "");
      }
    }
    EXPECT_EQ(p.stats().refused, 0u);
    EXPECT_FALSE(p.idle());  // still in the outbox
    EXPECT_EQ(p.stats().last_refusal, no + " on rackwatch/v1/s/other-rack/telemetry");
    // The broker is fixed: the next try is taken and nothing is left.
    while (!t.sent.empty()) t.complete(true);
    p.enqueue(msg(99));
    while (!t.sent.empty()) t.complete(true);
    EXPECT_TRUE(p.idle());
  }
}

// A message the MQTT client itself will not send (not the broker's no) is
// dropped after retries, so that it cannot block its lane for ever.
TEST_F(PublisherTest, AMessageTheClientWillNotSendIsDroppedAfterRetries) {
  auto box = open();
  FakeTransport t;
  t.up = true;
  Publisher p(t, *box, wire_, 8, std::chrono::milliseconds{0});
  p.connected({});
  p.enqueue(msg(0));
  for (int i = 0; i < 3; ++i) {
    ASSERT_FALSE(t.sent.empty()) << "try " << i;
    t.complete(false, PublishError::client, "the client would not send it");
  }
  EXPECT_TRUE(p.idle());
  EXPECT_EQ(p.stats().held, 0u);
}

TEST_F(PublisherTest, WhatTheOutboxCannotStoreIsHeldInMemoryAndStillSent) {
  auto box = open();
  FakeTransport t;
  Publisher p(t, *box, wire_, 8);
  p.enqueue(msg(0));  // stored
  {
    // Writes past the current size fail, as on a full disk.
    test::FileSizeLimit full(std::filesystem::file_size(*std::filesystem::directory_iterator(dir_ / "outbox")) + 0);
    ASSERT_TRUE(full.ok());
    EXPECT_FALSE(p.enqueue(msg(1)));
    EXPECT_FALSE(p.enqueue(msg(2)));
  }
  EXPECT_EQ(p.stats().unstored, 2u);
  EXPECT_GE(box->stats().write_errors, 2u);
  EXPECT_FALSE(p.idle());
  t.up = true;
  p.connected({});
  // The stored backlog and the held messages share the window.
  std::vector<std::string> got = t.payloads();
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, (std::vector<std::string>{"0", "1", "2"}));
  while (!t.sent.empty()) t.complete(true);
  EXPECT_TRUE(p.idle());
  EXPECT_EQ(p.stats().lost, 0u);
}

// A format that numbers what each connection sends, as Sparkplug's seq does,
// and sends nothing for status records: what it makes shows when it ran.
class NumberingWire final : public WireFormat {
 public:
  Message will(const Record& offline) override { return {"will", offline.payload, 1, false}; }
  std::vector<Message> birth(const std::vector<Record>&) override {
    seq_ = 0;
    return {Message{"birth", "seq " + std::to_string(seq_++), 1, false}};
  }
  std::optional<Message> encode(const Record& record, bool replayed) override {
    if (record.kind == RecordKind::status) return std::nullopt;
    return Message{"data", record.payload + " seq " + std::to_string(seq_++) + (replayed ? " replayed" : ""), 1,
                   false};
  }
  std::optional<Message> death(const Record&) override { return std::nullopt; }

 private:
  int seq_ = 0;
};

TEST_F(PublisherTest, TheWireFormatMakesEachMessageWhenItIsSentNotWhenItIsStored) {
  auto box = open();
  FakeTransport t;
  NumberingWire wire;
  Publisher p(t, *box, wire, 8);
  p.enqueue(msg(0));
  p.enqueue(Record{RecordKind::status, "t/status", "online"});
  p.enqueue(msg(1));
  t.up = true;
  p.connected(wire.birth({}));
  // Stored before the connect: numbered in this session, after its birth,
  // and marked as replayed; the status record has no message here.
  EXPECT_EQ(t.payloads(), (std::vector<std::string>{"seq 0", "0 seq 1 replayed", "1 seq 2 replayed"}));
  EXPECT_EQ(p.stats().not_sent, 1u);
  p.enqueue(msg(2));
  EXPECT_EQ(t.payloads().back(), "2 seq 3");
  // The connection drops before any acknowledgement: the next session
  // numbers the same records afresh.
  t.up = false;
  p.disconnected();
  t.sent.clear();
  t.up = true;
  p.connected(wire.birth({}));
  EXPECT_EQ(t.payloads(), (std::vector<std::string>{"seq 0", "0 seq 1 replayed", "1 seq 2 replayed", "2 seq 3 replayed"}));
  while (!t.sent.empty()) t.complete(true);
  EXPECT_TRUE(p.idle());
  EXPECT_EQ(box->stats().pending, 0u);
}

}  // namespace
}  // namespace rackwatch
