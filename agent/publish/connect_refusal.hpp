// What a broker meant by refusing the agent's CONNECT, in words that say
// which setting to look at. Paho hands the refusal over as a return code
// (MQTT 3.1.1: the CONNACK's code, 1 to 5; MQTT 5: the CONNACK's reason
// code, 0x80 and up) and has no words of its own for the MQTT 5 ones.
#pragma once

#include <string>

namespace rackwatch {

// "the broker refused the connection: not authorized (...)"; empty when
// neither code is a refusal (the failure was elsewhere: see tcp_probe.hpp).
std::string connect_refusal(int return_code, int reason_code);

}  // namespace rackwatch
