// What reaches a terminal or the log from outside: UTF-8 kept, control
// characters and broken bytes escaped. By table.
#include <gtest/gtest.h>

#include "core/diagnostics.hpp"
#include "core/printable.hpp"

namespace rackwatch {
namespace {

TEST(PrintableTest, KeepsUtf8AndEscapesTheRest) {
  struct Row {
    std::string in;
    std::string out;
  };
  for (const auto& row : std::vector<Row>{
           {"pdu-a.l1 230 V", "pdu-a.l1 230 V"},
           {"29.9 °C, 1 kW·h, ΔT", "29.9 °C, 1 kW·h, ΔT"},
           {"emoji \xF0\x9F\x94\xA5 ok", "emoji \xF0\x9F\x94\xA5 ok"},
           {"clear\x1b[2Jscreen", "clear\\x1B[2Jscreen"},
           {"forged\nline", "forged\\x0Aline"},
           {"bell\x07 del\x7f", "bell\\x07 del\\x7F"},
           {"latin1 caf\xe9", "latin1 caf\\xE9"},
           {"overlong \xC0\xAF", "overlong \\xC0\\xAF"},
           {"surrogate \xED\xA0\x80", "surrogate \\xED\\xA0\\x80"},
           {"cut \xE2\x82", "cut \\xE2\\x82"},
           {"beyond \xF4\x90\x80\x80", "beyond \\xF4\\x90\\x80\\x80"},
           {std::string("nul\0byte", 8), "nul\\x00byte"},
       }) {
    EXPECT_EQ(printable(row.in), row.out) << row.in;
  }
  EXPECT_EQ(printable("two\nlines", true), "two\nlines");
}

TEST(PrintableTest, AConfigProblemQuotingBadBytesIsEscaped) {
  Diagnostics d;
  d.error({"a.yaml", 3, 5}, "'max': expected a number, found '\xff\x1b]0;owned\x07'");
  EXPECT_EQ(d.items()[0].message, "'max': expected a number, found '\\xFF\\x1B]0;owned\\x07'");
}

}  // namespace
}  // namespace rackwatch
