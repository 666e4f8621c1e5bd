// Walking the columns of a table with GETBULK (RFC 3416 4.2.3): which OIDs
// to ask for next, and the rows gathered from each answer. Pure (varbinds
// in, rows out), so that a hostile agent's answers are tested and fuzzed
// without a socket.
//
// Each request asks for the successors of the last OID seen in every column
// not yet finished; the answer holds them interleaved, column by column for
// each repetition. A column ends at the first OID outside it or at
// endOfMibView. An agent whose successor does not follow what was asked
// (RFC 3416's lexicographic order) would make the walk go round for ever:
// it is an error, as is an answer with nothing in it.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "sources/snmp/snmp_oid.hpp"
#include "sources/snmp/snmp_value.hpp"

namespace rackwatch::snmp {

// A table row: its index (the OID arcs after the column) and, by column,
// the value found there.
using Rows = std::map<Oid, std::vector<std::optional<VarBind>>>;

class TableWalk {
 public:
  // `max_rows` bounds what one device can make the agent hold.
  TableWalk(std::vector<Oid> columns, std::size_t max_rows);

  bool done() const;
  // The OIDs of the next GETBULK: one per unfinished column.
  const std::vector<Oid>& next_request() const { return request_; }
  // Takes the answer to next_request(). An error says what the agent did
  // wrong; the walk is then over and its rows incomplete.
  std::optional<std::string> take(const std::vector<VarBind>& answer);

  const Rows& rows() const { return rows_; }
  // The rows gathered, moved out: for a walk that is over.
  Rows take_rows() { return std::move(rows_); }
  std::size_t requests() const { return requests_; }

 private:
  void refresh_request();

  std::vector<Oid> columns_;
  std::vector<Oid> last_;      // by column: the last OID seen, the column's own at first
  std::vector<bool> finished_;
  std::vector<std::size_t> asked_;  // the columns of request_, in its order
  std::vector<Oid> request_;
  std::size_t max_rows_;
  std::size_t requests_ = 0;
  Rows rows_;
};

// RFC 3416's order of OIDs: arc by arc, a prefix before what extends it.
bool oid_less(const Oid& a, const Oid& b);

}  // namespace rackwatch::snmp
