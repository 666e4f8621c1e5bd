// One MQTT message as the encoders make it and the session sends it.
#pragma once

#include <string>

namespace rackwatch {

struct Message {
  std::string topic;
  std::string payload;  // bytes, usually a serialized Protobuf message
  int qos = 1;
  bool retain = false;
};

}  // namespace rackwatch
