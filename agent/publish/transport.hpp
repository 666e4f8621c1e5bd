// Where the Publisher sends messages and the agent subscribes: the MQTT
// session in the agent, a fake in unit tests. Completions run on the agent's
// executor.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "publish/message.hpp"

namespace rackwatch {

// A broker's "no" to a publish (MQTT 5 reason code 0x80 or above): its
// text starts with kBrokerRefused, and names the reason and its code.
inline constexpr std::string_view kBrokerRefused = "refused by the broker: ";

// How a publish ended.
enum class PublishError : std::uint8_t {
  none,           // acknowledged by the broker
  not_connected,  // no connection, or it was lost or stopped before the acknowledgement
  not_allowed,    // MQTT 5 not authorized (0x87) or topic name invalid (0x90): an ACL or
                  // identity for an operator to fix, not a bad message
  too_large,      // MQTT 5 packet too large (0x95): above the broker's size limit
  refused,        // another MQTT 5 refusal (quota exceeded, ...)
  client,         // the MQTT client would not send it
};

class Transport {
 public:
  // PublishError::none once the broker acknowledged the message; otherwise
  // what kind of failure, and a sentence for logs and status.
  using PublishDone = std::function<void(PublishError error, const std::string& text)>;

  virtual ~Transport() = default;
  virtual bool connected() const = 0;
  // `done` runs exactly once, later, on the executor (never inside this call).
  virtual void publish(const Message& message, PublishDone done) = 0;
  // Subscribes to topic filters on the current connection; what arrives is
  // handed to the owner's inbound handler on the executor.
  virtual void subscribe(const std::vector<std::string>& filters) { (void)filters; }
};

}  // namespace rackwatch
