// The machine's host name: the default agent id and part of the status.
#pragma once

#include <string>

namespace rackwatch {

// Empty when the system does not say.
std::string host_name();

}  // namespace rackwatch
