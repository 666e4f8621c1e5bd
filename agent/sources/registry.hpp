// The source types the agent knows, looked up by their `type:` name.
#pragma once

#include <string>
#include <string_view>

namespace rackwatch {

class SourceType;

// nullptr when no type has that name.
const SourceType* find_source_type(std::string_view name);

// "hwmon, sim, ..." for error messages.
std::string source_type_names();

}  // namespace rackwatch
