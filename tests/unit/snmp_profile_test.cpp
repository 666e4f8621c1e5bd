// SNMP device profiles: every shipped one loads, says which MIB it follows
// and how `profile: auto` knows its devices; broken profiles are reported
// at the line of each mistake, all at once; and the choice `profile: auto`
// makes by sysObjectID, then sysDescr, else the fallback.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "sources/profile_file.hpp"
#include "sources/snmp/snmp_profile.hpp"
#include "support/shipped_profiles.hpp"
#include "support/temp_dir.hpp"

namespace rackwatch::snmp {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

std::vector<fs::path> shipped_profiles() { return test::shipped_profiles(ProfileKind::snmp); }
using test::lines_of;

TEST(SnmpProfileTest, TheProfilesAreShipped) {
  std::set<std::string> names;
  for (const auto& p : shipped_profiles()) names.insert(p.stem().string());
  for (const char* expected : {"entity-sensor", "apc-rpdu2", "raritan-pdu2", "servertech-sentry4", "vertiv-geist"}) {
    EXPECT_TRUE(names.count(expected)) << expected;
  }
  EXPECT_FALSE(names.count("orv3-psu")) << "a Modbus profile is not an SNMP one";
}

// Each loads without a word, describes itself, and (but the fallback, which
// is for any agent) says which devices are its own.
TEST(SnmpProfileTest, EveryShippedProfileLoadsAndSaysWhichDevicesItIsFor) {
  for (const auto& path : shipped_profiles()) {
    SCOPED_TRACE(path.string());
    Diagnostics d;
    auto profile = load_snmp_profile(path.string(), d);
    ASSERT_TRUE(profile) << lines_of(d);
    EXPECT_TRUE(d.empty()) << lines_of(d);
    EXPECT_EQ(profile->name, path.stem().string());
    EXPECT_FALSE(profile->description.empty());
    EXPECT_FALSE(profile->tables.empty() && profile->points.empty());
    if (profile->name == "entity-sensor") {
      EXPECT_TRUE(profile->match_oids.empty()) << "the fallback must not take devices from vendor profiles";
    } else {
      EXPECT_FALSE(profile->match_oids.empty()) << "no sys_object_id for profile: auto";
    }
    EXPECT_EQ(profile->points.size(), profile->oids.size());
    for (const auto& t : profile->tables) {
      SCOPED_TRACE(t.name);
      EXPECT_FALSE(t.index.empty());
      EXPECT_EQ(t.columns.size(), t.column_names.size());
      for (const auto& tp : t.points) {
        SCOPED_TRACE(tp.point.name);
        EXPECT_NE(tp.point.unit, Unit::unspecified);
        EXPECT_LT(tp.value, t.columns.size());
        // Every {placeholder} of a name is a part of the index or the
        // label: the rest would stay braces and make no point at all.
        const auto& name = tp.point.name;
        for (auto open = name.find('{'); open != std::string::npos; open = name.find('{', open + 1)) {
          const auto part = name.substr(open + 1, name.find('}', open) - open - 1);
          EXPECT_TRUE(part == "label" || std::find(t.index.begin(), t.index.end(), part) != t.index.end()) << part;
        }
      }
    }
  }
}

// A profile's facts come from a MIB: its header comment says which.
TEST(SnmpProfileTest, EveryShippedProfileOpensWithACommentCitingItsMib) {
  for (const auto& path : shipped_profiles()) {
    SCOPED_TRACE(path.string());
    std::ifstream in(path);
    std::string header;
    std::string line;
    while (std::getline(in, line) && !line.empty() && line[0] == '#') header += line + "\n";
    EXPECT_GE(std::count(header.begin(), header.end(), '\n'), 5) << "a header of a few lines";
    EXPECT_THAT(header, HasSubstr("MIB"));
  }
}

// The shipped profiles as `profile: auto` sees them, with sysObjectIDs the
// devices give (each MIB's own identity entries).
TEST(SnmpProfileTest, ShippedProfilesAreChosenForTheirDevices) {
  std::vector<std::shared_ptr<const SnmpProfile>> candidates;
  std::shared_ptr<const SnmpProfile> fallback;
  for (const auto& path : shipped_profiles()) {
    Diagnostics d;
    auto profile = load_snmp_profile(path.string(), d);
    ASSERT_TRUE(profile) << lines_of(d);
    candidates.push_back(std::make_shared<const SnmpProfile>(std::move(*profile)));
    if (candidates.back()->name == "entity-sensor") fallback = candidates.back();
  }
  ASSERT_TRUE(fallback);
  struct Case {
    Oid sys_object_id;
    const char* sys_descr;
    const char* profile;
  };
  const Case cases[] = {
      {{1, 3, 6, 1, 4, 1, 318, 1, 3, 4, 6}, "", "apc-rpdu2"},
      {{1, 3, 6, 1, 4, 1, 318, 1, 3, 99}, "APC Web/SNMP Management Card (MB:v4.1.0 PF:v6.8.2 PN:apc_hw05_aos_682.bin "
                                          "AF1:v6.8.2 AN1:apc_hw05_rpdu2g_682.bin)", "apc-rpdu2"},
      {{1, 3, 6, 1, 4, 1, 13742, 6}, "", "raritan-pdu2"},
      {{1, 3, 6, 1, 4, 1, 1718, 4}, "", "servertech-sentry4"},
      {{1, 3, 6, 1, 4, 1, 21239, 42, 1, 53}, "", "vertiv-geist"},
      {{1, 3, 6, 1, 4, 1, 9, 1, 2494}, "Cisco IOS Software", "entity-sensor"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(format_oid(c.sys_object_id));
    const auto choice = choose_profile(candidates, fallback, c.sys_object_id, c.sys_descr);
    ASSERT_TRUE(choice.profile);
    EXPECT_EQ(choice.profile->name, c.profile) << choice.why;
  }
}

class SnmpProfileFileTest : public ::testing::Test {
 protected:
  std::optional<SnmpProfile> load(const std::string& text) {
    std::ofstream(dir_.path() / "p.yaml") << text;
    return load_snmp_profile((dir_.path() / "p.yaml").string(), diags_);
  }
  test::TempDir dir_{"rackwatch-snmp-profile"};
  Diagnostics diags_;
};

TEST_F(SnmpProfileFileTest, SmallProfileLoadsWithItsTablesColumnsAndTests) {
  auto p = load(R"yaml(description: test
snmp:
  match: {sys_object_id: [1.3.6.1.4.1.99.1], sys_descr: [acme-pdu]}
defaults: {quantity: current}
points:
  - {name: total, oid: 1.3.6.1.4.1.99.2.0}
tables:
  - name: outletTable
    index: [pdu, outlet]
    columns:
      name: 1.3.6.1.4.1.99.3.1.2
      status: 1.3.6.1.4.1.99.3.1.3
      current: 1.3.6.1.4.1.99.3.1.4
      digits: 1.3.6.1.4.1.99.3.1.5
    label: name
    points:
      - name: outlet{outlet}_current
        value: current
        where: {pdu: 1, status: [1, 2]}
        ok_when: {status: [1]}
        decimals: digits
        description: "Outlet {outlet} ({label})"
)yaml");
  ASSERT_TRUE(p) << lines_of(diags_);
  EXPECT_EQ(p->name, "p");
  EXPECT_EQ(p->match_oids, (std::vector<Oid>{{1, 3, 6, 1, 4, 1, 99, 1}}));
  EXPECT_EQ(p->match_descr, (std::vector<std::string>{"acme-pdu"}));
  ASSERT_EQ(p->points.size(), 1u);
  EXPECT_EQ(p->oids[0].oid, (Oid{1, 3, 6, 1, 4, 1, 99, 2, 0}));
  EXPECT_EQ(p->points[0].unit, Unit::ampere) << "from the defaults";
  ASSERT_EQ(p->tables.size(), 1u);
  const auto& t = p->tables[0];
  EXPECT_EQ(t.index, (std::vector<std::string>{"pdu", "outlet"}));
  EXPECT_EQ(t.column_names, (std::vector<std::string>{"name", "status", "current", "digits"}));
  EXPECT_EQ(t.columns[2], (Oid{1, 3, 6, 1, 4, 1, 99, 3, 1, 4}));
  EXPECT_EQ(t.label, 0u);
  ASSERT_EQ(t.points.size(), 1u);
  const auto& tp = t.points[0];
  EXPECT_EQ(tp.value, 2u);
  EXPECT_EQ(tp.decimals, 3u);
  EXPECT_FALSE(tp.entity_scale);
  EXPECT_EQ(tp.point.unit, Unit::ampere) << "from the defaults";
  ASSERT_EQ(tp.where.size(), 2u);
  EXPECT_TRUE(tp.where[0].index_part);
  EXPECT_EQ(tp.where[0].at, 0u);
  EXPECT_EQ(tp.where[0].values, (std::vector<std::int64_t>{1}));
  EXPECT_FALSE(tp.where[1].index_part);
  EXPECT_EQ(tp.where[1].at, 1u);
  EXPECT_EQ(tp.where[1].values, (std::vector<std::int64_t>{1, 2}));
  ASSERT_EQ(tp.ok_when.size(), 1u);
  EXPECT_EQ(tp.ok_when[0].name, "status");
}

TEST_F(SnmpProfileFileTest, MistakesAreReportedWhereTheyAreAllAtOnce) {
  EXPECT_FALSE(load(R"(description: broken
tables:
  - name: outletTable
    index: [pdu, outlet]
    columns:
      name: 1.3.6.1.4.1.99.3.1.2
      current: 1.3.6.1.4.1.99.3.1.x
      power: 1.3.6.1.4.1.99.3.1.4
    label: name
    points:
      - name: outlet{outlet}_current
        value: amps
        quantity: current
      - name: outlet{outlet}_power
        value: power
        where: {outlet: [1, 2], sensor: 1}
        quantity: power
      - name: outlet {outlet}
        value: power
        quantity: power
      - name: outlet{outlet}_energy
        value: power
points:
  - {name: uptime, oid: 1.3.6.1.2.1.1.3.0}
)"));
  const auto text = lines_of(diags_);
  EXPECT_THAT(text, HasSubstr("p.yaml:1:1: an SNMP profile has a mapping 'snmp'")) << text;
  EXPECT_THAT(text, HasSubstr("p.yaml:7:16: column 'current' must be a numeric OID, found '1.3.6.1.4.1.99.3.1.x'"));
  EXPECT_THAT(text, HasSubstr("p.yaml:12:16: 'value' names no column of table 'outletTable' (it has: name, power)"));
  EXPECT_THAT(text, HasSubstr("p.yaml:16:33: 'sensor' is neither an index part nor a column of table 'outletTable'"));
  EXPECT_THAT(text, HasSubstr("p.yaml:18:15: point name template 'outlet {outlet}' must be 1-64 letters"));
  EXPECT_THAT(text, HasSubstr("p.yaml:21:9: point 'outlet{outlet}_energy' needs a quantity or a unit"));
  EXPECT_THAT(text, HasSubstr("p.yaml:24:5: point 'uptime' needs a quantity or a unit"));
  EXPECT_EQ(diags_.size(), 7u) << text;
}

TEST_F(SnmpProfileFileTest, SnmpMatchAndTableShapesAreChecked) {
  EXPECT_FALSE(load(R"(description: broken
snmp:
  match: {sys_object_id: [1.3.6.1.4.1.99, enterprises.99], sys_dscr: [x]}
tables:
  - name: t
    index: []
    columns: {v: 1.3.6.1.4.1.99.1.1}
    label: nothere
    points:
      - {name: "v{i}", value: v, quantity: power, where: 3, decimals: nothere}
      - {name: "v{i}", value: v, quantity: power}
  - name: u
    index: [i]
    columns: [1.3.6.1.4.1.99.2.1]
    points: []
)"));
  const auto text = lines_of(diags_);
  EXPECT_THAT(text, HasSubstr("p.yaml:3:26: 'enterprises.99' is not a numeric OID")) << text;
  EXPECT_THAT(text, HasSubstr("p.yaml:3:60: unknown key 'sys_dscr' in 'match'"));
  EXPECT_THAT(text, HasSubstr("p.yaml:6:12: 'index' names at least one part"));
  EXPECT_THAT(text, HasSubstr("p.yaml:8:12: 'label' names no column of table 't' (it has: v)"));
  EXPECT_THAT(text, HasSubstr("p.yaml:10:58: 'where' must be a mapping"));
  EXPECT_THAT(text, HasSubstr("p.yaml:10:71: 'decimals' names no column of table 't'"));
  EXPECT_THAT(text, HasSubstr("p.yaml:11:16: duplicate template 'v{i}' in table 't'"));
  EXPECT_THAT(text, HasSubstr("p.yaml:14:14: 'columns' must be a mapping of aliases to column OIDs"));
}

// A row test compares integers: a value that is not one (1.5, .nan, 1e300)
// would be cut to another value, or be undefined, and is refused.
TEST_F(SnmpProfileFileTest, RowTestValuesMustBeIntegers) {
  EXPECT_FALSE(load(R"(description: broken
snmp: {}
tables:
  - name: t
    index: [sensor]
    columns: {status: 1.3.6.1.4.1.99.1.1, v: 1.3.6.1.4.1.99.1.2}
    points:
      - name: v{sensor}
        value: v
        quantity: power
        where: {sensor: 1.5}
        ok_when: {status: [1, .nan, 1e300, -9007199254740993]}
)"));
  const auto text = lines_of(diags_);
  EXPECT_THAT(text, HasSubstr("p.yaml:11:25: a value of 'sensor' must be an integer, found '1.5'")) << text;
  EXPECT_THAT(text, HasSubstr("p.yaml:12:31: a value of 'status' must be an integer, found '.nan'"));
  EXPECT_THAT(text, HasSubstr("p.yaml:12:37: a value of 'status' must be an integer, found '1e300'"));
  EXPECT_THAT(text, HasSubstr("p.yaml:12:44: a value of 'status' must be an integer, found '-9007199254740993'"));
  EXPECT_EQ(diags_.size(), 4u) << text;
}

// A name template's {placeholder} is a part of the table's index or the
// row's label: any other stays braces in every name made, so that the
// template would make no point at all.
TEST_F(SnmpProfileFileTest, NameTemplatePlaceholdersMustBeIndexPartsOrTheLabel) {
  EXPECT_FALSE(load(R"(description: broken
snmp: {}
tables:
  - name: outletTable
    index: [pdu, outlet]
    columns: {name: 1.3.6.1.4.1.99.1.1, power: 1.3.6.1.4.1.99.1.2}
    label: name
    points:
      - {name: "pdu{pdu}_outlet{oultet}_power", value: power, quantity: power}
      - {name: "outlet{}_power", value: power, quantity: power}
      - {name: "pdu{pdu}_{label}_power", value: power, quantity: power}
)"));
  const auto text = lines_of(diags_);
  EXPECT_THAT(text, HasSubstr("p.yaml:9:16: point name template 'pdu{pdu}_outlet{oultet}_power' has {oultet}, "
                              "which is neither a part of the index of table 'outletTable' (pdu, outlet) nor "
                              "{label}"))
      << text;
  EXPECT_THAT(text, HasSubstr("p.yaml:10:16: point name template 'outlet{}_power' has {}"));
  EXPECT_EQ(diags_.size(), 2u) << text;
}

TEST_F(SnmpProfileFileTest, ProfileWithNeitherPointsNorTablesIsRefused) {
  EXPECT_FALSE(load("description: empty\nsnmp: {}\n"));
  EXPECT_THAT(lines_of(diags_), HasSubstr("p.yaml:1:1: an SNMP profile needs 'points', 'tables' or both"));
}

// --- choose_profile ----------------------------------------------------------

std::shared_ptr<const SnmpProfile> profile(std::string name, std::vector<Oid> oids,
                                           std::vector<std::string> descr = {}) {
  auto p = std::make_shared<SnmpProfile>();
  p->name = name;
  p->file = "/profiles/" + name + ".yaml";
  p->match_oids = std::move(oids);
  p->match_descr = std::move(descr);
  return p;
}

class SnmpChooseProfileTest : public ::testing::Test {
 protected:
  const Oid apc_{1, 3, 6, 1, 4, 1, 318};
  const Oid rpdu2_{1, 3, 6, 1, 4, 1, 318, 1, 3, 4, 6};
  std::shared_ptr<const SnmpProfile> vendor_ = profile("apc-any", {apc_}, {"APC"});
  std::shared_ptr<const SnmpProfile> model_ = profile("apc-rpdu2", {{1, 3, 6, 1, 4, 1, 999}, rpdu2_}, {"rpdu2g"});
  std::shared_ptr<const SnmpProfile> other_ = profile("acme", {{1, 3, 6, 1, 4, 1, 3180}}, {"", "Acme PDU"});
  std::shared_ptr<const SnmpProfile> fallback_ = profile("entity-sensor", {});
};

// The longest matching prefix wins, whichever profile comes first.
TEST_F(SnmpChooseProfileTest, LongestSysObjectIdPrefixWins) {
  const Oid device{1, 3, 6, 1, 4, 1, 318, 1, 3, 4, 6, 2};
  for (const auto& candidates : {std::vector{vendor_, model_, other_}, std::vector{model_, vendor_, other_}}) {
    const auto choice = choose_profile(candidates, fallback_, device, "Acme PDU");
    EXPECT_EQ(choice.profile, model_) << choice.why;
    EXPECT_EQ(choice.why, "sysObjectID 1.3.6.1.4.1.318.1.3.4.6.2 is under 1.3.6.1.4.1.318.1.3.4.6 "
                          "(/profiles/apc-rpdu2.yaml)");
  }
  // A sysObjectID equal to a prefix is under it; one that differs in an arc
  // (318.1.3.4.7, 3180 against 318) is not.
  EXPECT_EQ(choose_profile({vendor_, model_}, fallback_, rpdu2_, "").profile, model_);
  EXPECT_EQ(choose_profile({vendor_, model_}, fallback_, Oid{1, 3, 6, 1, 4, 1, 318, 1, 3, 4, 7}, "").profile, vendor_);
  EXPECT_EQ(choose_profile({vendor_, other_}, fallback_, Oid{1, 3, 6, 1, 4, 1, 3180, 1}, "").profile, other_);
}

// sysDescr counts only when no prefix matches: here both would.
TEST_F(SnmpChooseProfileTest, SysDescrIsUsedOnlyWhenNoPrefixMatches) {
  const auto by_oid = choose_profile({other_, vendor_}, fallback_, Oid{1, 3, 6, 1, 4, 1, 318, 5}, "Acme PDU 2000");
  EXPECT_EQ(by_oid.profile, vendor_) << by_oid.why;

  const auto by_descr = choose_profile({vendor_, other_}, fallback_, Oid{1, 3, 6, 1, 4, 1, 8072, 3, 2, 10},
                                       "Acme PDU 2000, firmware 1.2");
  EXPECT_EQ(by_descr.profile, other_) << by_descr.why;
  EXPECT_EQ(by_descr.why, "sysObjectID 1.3.6.1.4.1.8072.3.2.10 matches no profile; sysDescr contains \"Acme PDU\" "
                          "(/profiles/acme.yaml)");
}

TEST_F(SnmpChooseProfileTest, FallbackWhenNothingMatchesSaysSo) {
  const auto choice = choose_profile({vendor_, model_, other_}, fallback_, Oid{1, 3, 6, 1, 4, 1, 9, 1, 1}, "Cisco");
  EXPECT_EQ(choice.profile, fallback_);
  EXPECT_EQ(choice.why, "sysObjectID 1.3.6.1.4.1.9.1.1 and sysDescr match no vendor profile: the standard "
                        "ENTITY-SENSOR-MIB (/profiles/entity-sensor.yaml)");
  // Without a fallback there is no profile, and the reason says so too.
  const auto none = choose_profile({vendor_}, nullptr, Oid{1, 3, 6, 1, 4, 1, 9}, "");
  EXPECT_FALSE(none.profile);
  EXPECT_THAT(none.why, HasSubstr("(none)"));
}

// An empty sysDescr substring would match every device: it never does.
TEST_F(SnmpChooseProfileTest, EmptySysDescrSubstringMatchesNothing) {
  const auto choice = choose_profile({other_}, fallback_, Oid{1, 3, 6, 1, 4, 1, 9}, "anything");
  EXPECT_EQ(choice.profile, fallback_) << choice.why;
}

// A device that gives no sysObjectID is chosen for by sysDescr, else falls back.
TEST_F(SnmpChooseProfileTest, WithoutSysObjectIdSysDescrOrTheFallbackChooses) {
  const auto by_descr = choose_profile({vendor_, model_}, fallback_, std::nullopt, "APC Web/SNMP rpdu2g");
  EXPECT_EQ(by_descr.profile, vendor_) << "the first whose substring is found";
  EXPECT_THAT(by_descr.why, HasSubstr("the device gave no sysObjectID; sysDescr contains"));
  EXPECT_THAT(by_descr.why, HasSubstr("sysDescr contains \"APC\" (/profiles/apc-any.yaml)"));

  const auto fallen = choose_profile({vendor_, model_}, fallback_, std::nullopt, "Linux 6.1");
  EXPECT_EQ(fallen.profile, fallback_);
  EXPECT_THAT(fallen.why, HasSubstr("the device gave no sysObjectID; its sysDescr matches no vendor profile"));
}

}  // namespace
}  // namespace rackwatch::snmp
