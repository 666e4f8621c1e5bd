// Where the Publisher sends messages: the MQTT session in the agent, a fake
// in unit tests. Completions run on the agent's executor.
#pragma once

#include <functional>
#include <string>

#include "publish/message.hpp"

namespace rackwatch {

class Transport {
 public:
  // ok once the broker acknowledged the message; otherwise the reason.
  using PublishDone = std::function<void(bool ok, const std::string& error)>;

  virtual ~Transport() = default;
  virtual bool connected() const = 0;
  // `done` runs exactly once, later, on the executor (never inside this call).
  virtual void publish(const Message& message, PublishDone done) = 0;
};

}  // namespace rackwatch
