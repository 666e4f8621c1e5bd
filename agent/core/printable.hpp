// Text from outside (a config value, a device's string, a payload off the
// wire) on its way to a terminal or the journal: valid UTF-8 stays as it is,
// control characters and bytes that are not UTF-8 become \xNN, so that no
// input can move the cursor, clear a screen or forge a log line.
#pragma once

#include <string>
#include <string_view>

namespace rackwatch {

// `keep_newlines`: for text made of lines (a table, a decoded message).
std::string printable(std::string_view text, bool keep_newlines = false);

}  // namespace rackwatch
