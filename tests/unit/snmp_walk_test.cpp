// Walking a table's columns with GETBULK: rows gathered by index from
// interleaved answers, where each column ends, and the answers of a broken
// or hostile agent that end the walk with an error.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "sources/snmp/snmp_oid.hpp"
#include "sources/snmp/snmp_value.hpp"
#include "sources/snmp/snmp_walk.hpp"

namespace rackwatch::snmp {
namespace {

using ::testing::HasSubstr;

// Two columns of one table (a PDU's outlet name and current) and the
// column after them.
const Oid kName{1, 3, 6, 1, 4, 1, 99, 1, 2, 1, 2};
const Oid kCurrent{1, 3, 6, 1, 4, 1, 99, 1, 2, 1, 3};
const Oid kAfter{1, 3, 6, 1, 4, 1, 99, 1, 2, 1, 4};

Oid at(const Oid& column, std::initializer_list<std::uint32_t> index) {
  Oid out = column;
  out.insert(out.end(), index);
  return out;
}

VarBind integer(Oid oid, std::int64_t value) {
  VarBind v;
  v.oid = std::move(oid);
  v.type = VarType::integer;
  v.integer = value;
  return v;
}

VarBind text(Oid oid, std::string value) {
  VarBind v;
  v.oid = std::move(oid);
  v.type = VarType::octet_string;
  v.bytes = std::move(value);
  return v;
}

VarBind end_of_mib_view(Oid oid) {
  VarBind v;
  v.oid = std::move(oid);
  v.type = VarType::end_of_mib_view;
  return v;
}

TEST(SnmpWalkTest, FirstRequestAsksForEveryColumnItself) {
  TableWalk walk({kName, kCurrent}, 100);
  EXPECT_FALSE(walk.done());
  EXPECT_EQ(walk.next_request(), (std::vector<Oid>{kName, kCurrent}));
  EXPECT_EQ(walk.requests(), 0u);
  EXPECT_TRUE(walk.rows().empty());
}

TEST(SnmpWalkTest, InterleavedAnswerIsGatheredByRowAndNextRequestIsTheLastOidOfEachColumn) {
  TableWalk walk({kName, kCurrent}, 100);
  EXPECT_EQ(walk.take({text(at(kName, {1}), "web"), integer(at(kCurrent, {1}), 120),  //
                       text(at(kName, {2}), "db"), integer(at(kCurrent, {2}), 340)}),
            std::nullopt);
  EXPECT_FALSE(walk.done());
  EXPECT_EQ(walk.requests(), 1u);
  EXPECT_EQ(walk.next_request(), (std::vector<Oid>{at(kName, {2}), at(kCurrent, {2})}));
  ASSERT_EQ(walk.rows().size(), 2u);
  const auto& row1 = walk.rows().at({1});
  ASSERT_EQ(row1.size(), 2u);
  ASSERT_TRUE(row1[0] && row1[1]);
  EXPECT_EQ(row1[0]->bytes, "web");
  EXPECT_EQ(row1[1]->integer, 120);
  const auto& row2 = walk.rows().at({2});
  ASSERT_TRUE(row2[0] && row2[1]);
  EXPECT_EQ(row2[0]->bytes, "db");
  EXPECT_EQ(row2[1]->integer, 340);

  // The next answer goes on from there, into the same rows map.
  EXPECT_EQ(walk.take({text(at(kName, {3}), "cache"), integer(at(kCurrent, {3}), 50)}), std::nullopt);
  EXPECT_EQ(walk.requests(), 2u);
  EXPECT_EQ(walk.rows().size(), 3u);
  EXPECT_EQ(walk.next_request(), (std::vector<Oid>{at(kName, {3}), at(kCurrent, {3})}));
}

// What ends the first column: its successor is the next column's first
// OID, something past the table, endOfMibView, or the column's own OID
// (no index: not a row). The second column then goes on alone.
TEST(SnmpWalkTest, ColumnEndsAtTheFirstOidOutsideItAndTheOtherGoesOnAlone) {
  struct Case {
    const char* what;
    VarBind end;
  };
  const Case cases[] = {
      {"the next column's first OID", integer(at(kCurrent, {1}), 120)},
      {"an OID past the table", integer(at(kAfter, {1}), 7)},
      {"an OID of another subtree", integer({1, 3, 6, 1, 4, 1, 100, 1}, 7)},
      {"endOfMibView", end_of_mib_view(at(kName, {2}))},
      {"the column's own OID", integer(kName, 9)},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    TableWalk walk({kName, kCurrent}, 100);
    ASSERT_EQ(walk.take({text(at(kName, {2}), "web"), integer(at(kCurrent, {2}), 120),  //
                         c.end, integer(at(kCurrent, {5}), 340)}),
              std::nullopt);
    EXPECT_FALSE(walk.done());
    EXPECT_EQ(walk.next_request(), (std::vector<Oid>{at(kCurrent, {5})}));
    // The end made no row and touched none.
    EXPECT_EQ(walk.rows().size(), 2u);
    EXPECT_FALSE(walk.rows().count(Oid{}));
    EXPECT_FALSE(walk.rows().at({5})[0]);

    // The answer now is the current column's only, one per repetition.
    ASSERT_EQ(walk.take({integer(at(kCurrent, {6}), 1), integer(at(kCurrent, {7}), 2),  //
                         integer(at(kAfter, {2}), 3)}),
              std::nullopt);
    EXPECT_TRUE(walk.done());
    EXPECT_TRUE(walk.next_request().empty());
    ASSERT_EQ(walk.rows().size(), 4u);
    EXPECT_EQ(walk.rows().at({6})[1]->integer, 1);
    EXPECT_EQ(walk.rows().at({7})[1]->integer, 2);
    EXPECT_FALSE(walk.rows().at({7})[0]);
  }
}

TEST(SnmpWalkTest, BothColumnsEndingInOneAnswerEndTheWalk) {
  TableWalk walk({kName, kCurrent}, 100);
  EXPECT_EQ(walk.take({text(at(kName, {1}), "web"), integer(at(kCurrent, {1}), 120),  //
                       integer(at(kCurrent, {1}), 120), integer(at(kAfter, {1}), 3)}),
            std::nullopt);
  EXPECT_TRUE(walk.done());
  EXPECT_TRUE(walk.next_request().empty());
  EXPECT_EQ(walk.rows().size(), 1u);
}

// After a column ends, its place in later repetitions holds whatever the
// agent had there (RFC 3416 repeats every column): it is not read, even
// when it looks like a row of that column.
TEST(SnmpWalkTest, LaterRepetitionsOfAnEndedColumnAreIgnored) {
  TableWalk walk({kName, kCurrent}, 100);
  EXPECT_EQ(walk.take({text(at(kName, {1}), "web"), integer(at(kCurrent, {1}), 120),    //
                       end_of_mib_view(at(kName, {1})), integer(at(kCurrent, {2}), 5),  //
                       text(at(kName, {9}), "ghost"), integer(at(kCurrent, {3}), 6)}),
            std::nullopt);
  EXPECT_EQ(walk.next_request(), (std::vector<Oid>{at(kCurrent, {3})}));
  EXPECT_FALSE(walk.rows().count({9}));
  EXPECT_EQ(walk.rows().size(), 3u);
}

// An agent may answer fewer than width × repetitions varbinds (RFC 3416
// lets it stop when the message would grow too big), even in the middle of
// a repetition.
TEST(SnmpWalkTest, AnswerShorterThanWidthTimesRepetitionsIsTakenAsFarAsItGoes) {
  TableWalk walk({kName, kCurrent}, 100);
  ASSERT_EQ(walk.take({text(at(kName, {1}), "web"), integer(at(kCurrent, {1}), 120),  //
                       text(at(kName, {2}), "db")}),
            std::nullopt);
  EXPECT_FALSE(walk.done());
  EXPECT_EQ(walk.next_request(), (std::vector<Oid>{at(kName, {2}), at(kCurrent, {1})}));
  EXPECT_FALSE(walk.rows().at({2})[1]);

  ASSERT_EQ(walk.take({text(at(kName, {3}), "cache"), integer(at(kCurrent, {2}), 340)}), std::nullopt);
  EXPECT_EQ(walk.next_request(), (std::vector<Oid>{at(kName, {3}), at(kCurrent, {2})}));
  ASSERT_TRUE(walk.rows().at({2})[1]);
  EXPECT_EQ(walk.rows().at({2})[1]->integer, 340);
  EXPECT_EQ(walk.rows().at({2})[0]->bytes, "db");

  // One varbind for two columns: only the first column moves.
  ASSERT_EQ(walk.take({text(at(kName, {4}), "dns")}), std::nullopt);
  EXPECT_EQ(walk.next_request(), (std::vector<Oid>{at(kName, {4}), at(kCurrent, {2})}));
}

// Raritan's measurementsInletSensorValue is indexed by pdu.inlet.sensorType:
// the whole rest of the OID is the row's index, and rows sort arc by arc.
TEST(SnmpWalkTest, MultiArcIndexesAreKeptWhole) {
  const Oid state{1, 3, 6, 1, 4, 1, 13742, 6, 5, 2, 3, 1, 3};
  const Oid value{1, 3, 6, 1, 4, 1, 13742, 6, 5, 2, 3, 1, 4};
  TableWalk walk({state, value}, 100);
  ASSERT_EQ(walk.take({integer(at(state, {1, 1, 1}), 4), integer(at(value, {1, 1, 1}), 680),  //
                       integer(at(state, {1, 1, 4}), 4), integer(at(value, {1, 1, 4}), 2301),  //
                       integer(at(state, {1, 1, 23}), 4), integer(at(value, {1, 1, 23}), 500)}),
            std::nullopt);
  ASSERT_EQ(walk.take({integer(at(state, {1, 2, 1}), 4), integer(at(value, {1, 2, 1}), 12),  //
                       integer(at(value, {1, 2, 1}), 12), end_of_mib_view(at(value, {1, 2, 1}))}),
            std::nullopt);
  EXPECT_TRUE(walk.done());
  std::vector<Oid> indexes;
  for (const auto& [index, cells] : walk.rows()) indexes.push_back(index);
  EXPECT_EQ(indexes, (std::vector<Oid>{{1, 1, 1}, {1, 1, 4}, {1, 1, 23}, {1, 2, 1}}));
  EXPECT_EQ(walk.rows().at({1, 1, 4})[1]->integer, 2301);
  EXPECT_EQ(walk.rows().at({1, 1, 23})[0]->integer, 4);
}

// An agent whose successor is not after what was asked would keep the walk
// going for ever: the walk stops, says which OIDs, and keeps what it had.
TEST(SnmpWalkTest, SuccessorNotAfterWhatWasAskedEndsTheWalkWithAnError) {
  struct Case {
    const char* what;
    Oid answered;
  };
  const Case cases[] = {
      {"the same OID again", at(kName, {2})},
      {"an earlier row", at(kName, {1})},
      {"an earlier row, by a longer index", at(kName, {1, 5})},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    TableWalk walk({kName, kCurrent}, 100);
    ASSERT_EQ(walk.take({text(at(kName, {1}), "web"), integer(at(kCurrent, {1}), 120),  //
                         text(at(kName, {2}), "db"), integer(at(kCurrent, {2}), 340)}),
              std::nullopt);
    const auto error = walk.take({text(c.answered, "again"), integer(at(kCurrent, {3}), 1)});
    ASSERT_TRUE(error);
    EXPECT_THAT(*error, HasSubstr("answered " + format_oid(c.answered) + " as the successor of " +
                                  format_oid(at(kName, {2})) + ", which does not come after it"));
    EXPECT_TRUE(walk.done());
    EXPECT_TRUE(walk.next_request().empty());
    EXPECT_EQ(walk.rows().size(), 2u) << "the rows so far are kept";
    EXPECT_EQ(walk.rows().at({2})[0]->bytes, "db") << "and not overwritten";
    EXPECT_FALSE(walk.rows().count({3})) << "nothing after the error is taken";
  }
}

TEST(SnmpWalkTest, EmptyAnswerIsAnError) {
  TableWalk walk({kName, kCurrent}, 100);
  const auto error = walk.take({});
  ASSERT_TRUE(error);
  EXPECT_THAT(*error, HasSubstr("no varbinds"));
  EXPECT_TRUE(walk.done());
  EXPECT_TRUE(walk.next_request().empty());
}

// Rows are counted once however many columns they have: `max_rows` rows
// fill the walk; one more is an error that names the limit.
TEST(SnmpWalkTest, MoreRowsThanTheLimitIsAnErrorNamingIt) {
  TableWalk walk({kName, kCurrent}, 2);
  ASSERT_EQ(walk.take({text(at(kName, {1}), "a"), integer(at(kCurrent, {1}), 1),  //
                       text(at(kName, {2}), "b"), integer(at(kCurrent, {2}), 2)}),
            std::nullopt);
  EXPECT_FALSE(walk.done());
  const auto error = walk.take({text(at(kName, {3}), "c"), integer(at(kCurrent, {3}), 3)});
  ASSERT_TRUE(error);
  EXPECT_THAT(*error, HasSubstr("more than 2 rows"));
  EXPECT_THAT(*error, HasSubstr(format_oid(kName)));
  EXPECT_TRUE(walk.done());
  EXPECT_EQ(walk.rows().size(), 2u);
}

TEST(SnmpWalkTest, WalkWithoutColumnsIsDoneAtOnce) {
  TableWalk walk({}, 10);
  EXPECT_TRUE(walk.done());
  EXPECT_TRUE(walk.next_request().empty());
}

// RFC 3416's order: arc by arc as numbers, and a prefix before every OID
// that extends it.
TEST(SnmpWalkTest, OidOrderIsArcWiseNumericWithAPrefixFirst) {
  struct Case {
    Oid a;
    Oid b;
    bool less;
  };
  const Case cases[] = {
      {{1, 3, 6, 1}, {1, 3, 6, 1, 0}, true},
      {{1, 3, 6, 1, 0}, {1, 3, 6, 1}, false},
      {{1, 3, 6, 1, 9}, {1, 3, 6, 1, 10}, true},
      {{1, 3, 6, 1, 10}, {1, 3, 6, 1, 9}, false},
      {{1, 3, 6, 1, 2, 99}, {1, 3, 6, 1, 10}, true},
      {{1, 3, 6, 1, 10}, {1, 3, 6, 1, 2, 99}, false},
      {{1, 3, 6, 1}, {1, 3, 6, 1}, false},
      {{1, 3, 6, 1, 2}, {1, 3, 6, 1, 4294967295u}, true},
      {{1, 3, 6, 1, 4294967295u}, {1, 3, 6, 2}, true},
      {{2, 1}, {1, 3, 6, 1}, false},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(oid_less(c.a, c.b), c.less) << format_oid(c.a) << " < " << format_oid(c.b);
  }
}

}  // namespace
}  // namespace rackwatch::snmp
