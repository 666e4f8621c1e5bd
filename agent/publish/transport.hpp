// Where the Publisher sends messages and the agent subscribes: the MQTT
// session in the agent, a fake in unit tests. Completions run on the agent's
// executor.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "publish/message.hpp"

namespace rackwatch {

// A broker's "no" to a publish (MQTT 5 reason code 0x80 or above): the
// error then starts with kBrokerRefused, and names the reason and its code.
inline constexpr std::string_view kBrokerRefused = "refused by the broker: ";
// Refused as not authorized (0x87) or for its topic (0x90): a configuration
// problem (an ACL, a wrong rack) that an operator fixes, not a bad message.
inline bool refused_as_not_allowed(const std::string& error) {
  return error.rfind(kBrokerRefused, 0) == 0 &&
         (error.find("(0x87)") != std::string::npos || error.find("(0x90)") != std::string::npos);
}

class Transport {
 public:
  // ok once the broker acknowledged the message; otherwise the reason.
  using PublishDone = std::function<void(bool ok, const std::string& error)>;

  virtual ~Transport() = default;
  virtual bool connected() const = 0;
  // `done` runs exactly once, later, on the executor (never inside this call).
  virtual void publish(const Message& message, PublishDone done) = 0;
  // Subscribes to topic filters on the current connection; what arrives is
  // handed to the owner's inbound handler on the executor.
  virtual void subscribe(const std::vector<std::string>& filters) { (void)filters; }
};

}  // namespace rackwatch
