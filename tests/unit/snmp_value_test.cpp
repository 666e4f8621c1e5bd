// OIDs as text, and a varbind's value as a number or the reason it is none,
// by table.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "sources/snmp/snmp_oid.hpp"
#include "sources/snmp/snmp_value.hpp"

namespace rackwatch::snmp {
namespace {

using ::testing::HasSubstr;

TEST(SnmpOidTest, ParsesDottedTextAndRefusesWhatIsNotAnOid) {
  EXPECT_EQ(parse_oid("1.3.6.1.2.1.1.3.0"), (Oid{1, 3, 6, 1, 2, 1, 1, 3, 0}));
  EXPECT_EQ(parse_oid(".1.3.6"), (Oid{1, 3, 6}));
  EXPECT_EQ(parse_oid("2.999.4294967295"), (Oid{2, 999, 4294967295u}));
  for (const char* bad : {"", ".", "1", "1..3", "1.3.", "3.1", "1.40", "1.3.x", "1.3.-1", "1.3.4294967296",
                          "1.3.00000000001", " 1.3", "1.3 "}) {
    EXPECT_FALSE(parse_oid(bad)) << bad;
  }
  std::string longest = "1.3";
  for (int i = 0; i < 126; ++i) longest += ".1";
  EXPECT_TRUE(parse_oid(longest));
  EXPECT_FALSE(parse_oid(longest + ".1")) << "129 arcs";
}

TEST(SnmpOidTest, FormatsAndComparesPrefixes) {
  EXPECT_EQ(format_oid({1, 3, 6, 1}), "1.3.6.1");
  EXPECT_TRUE(starts_with({1, 3, 6, 1, 4}, {1, 3, 6}));
  EXPECT_FALSE(starts_with({1, 3}, {1, 3, 6}));
  EXPECT_FALSE(starts_with({1, 3, 7}, {1, 3, 6}));
}

VarBind var(VarType type, std::int64_t i = 0, std::uint64_t u = 0, std::string bytes = {}) {
  VarBind v;
  v.oid = {1, 3, 6, 1, 4, 1, 9, 0};
  v.type = type;
  v.integer = i;
  v.unsigned_value = u;
  v.bytes = std::move(bytes);
  return v;
}

TEST(SnmpValueTest, NumbersOfEveryKind) {
  struct Case {
    VarBind v;
    double want;
  };
  const Case cases[] = {
      {var(VarType::integer, -2147483648LL), -2147483648.0},
      {var(VarType::integer, 680), 680.0},
      {var(VarType::gauge32, 0, 4294967295u), 4294967295.0},
      {var(VarType::counter32, 0, 7), 7.0},
      {var(VarType::timeticks, 0, 360000), 360000.0},
      {var(VarType::counter64, 0, 12345678901234ull), 12345678901234.0},
      {var(VarType::octet_string, 0, 0, "23.5"), 23.5},
      {var(VarType::octet_string, 0, 0, " -4 "), -4.0},
      {var(VarType::octet_string, 0, 0, "+1e3"), 1000.0},
  };
  for (const auto& c : cases) {
    const Number n = to_number(c.v);
    ASSERT_TRUE(n.value) << var_type_name(c.v.type) << " " << n.error;
    EXPECT_DOUBLE_EQ(*n.value, c.want);
  }
}

TEST(SnmpValueTest, NoValueSaysWhy) {
  struct Case {
    VarBind v;
    const char* why;
  };
  const Case cases[] = {
      {var(VarType::no_such_object), "noSuchObject"},
      {var(VarType::no_such_instance), "noSuchInstance"},
      {var(VarType::end_of_mib_view), "endOfMibView"},
      {var(VarType::null), "NULL"},
      {var(VarType::octet_string, 0, 0, "12 A"), "not a number (\"12 A\")"},
      {var(VarType::octet_string, 0, 0, "nan"), "not a number"},
      {var(VarType::octet_string, 0, 0, "inf"), "not a number"},
      {var(VarType::octet_string, 0, 0, ""), "not a number"},
      {var(VarType::octet_string, 0, 0, std::string("1\0", 2)), "not a number (\"1?\")"},
      {var(VarType::octet_string, 0, 0, std::string(100, '7')), "...\")"},
      {var(VarType::ip_address, 0, 0, "\x0a\x00\x00\x01"), "IpAddress, not a number"},
      {var(VarType::object_id, 0, 0, "1.3.6"), "OBJECT IDENTIFIER, not a number"},
      {var(VarType::opaque, 0, 0, "x"), "Opaque, not a number"},
      {var(VarType::other), "an unknown type"},
  };
  for (const auto& c : cases) {
    const Number n = to_number(c.v);
    EXPECT_FALSE(n.value) << c.why;
    EXPECT_THAT(n.error, HasSubstr(c.why));
  }
}

}  // namespace
}  // namespace rackwatch::snmp
