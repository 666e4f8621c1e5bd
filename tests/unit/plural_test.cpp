// Counts printed with their noun in the right number.
#include <gtest/gtest.h>

#include "core/plural.hpp"

namespace rackwatch {
namespace {

TEST(PluralTest, OneIsSingular) {
  EXPECT_EQ(plural(0, "point"), "0 points");
  EXPECT_EQ(plural(1, "point"), "1 point");
  EXPECT_EQ(plural(2, "point"), "2 points");
  EXPECT_EQ(plural(1, "entry", "entries"), "1 entry");
  EXPECT_EQ(plural(3, "entry", "entries"), "3 entries");
}

}  // namespace
}  // namespace rackwatch
