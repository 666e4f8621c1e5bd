#include "sources/snmp/snmp_walk.hpp"

#include <algorithm>
#include <utility>

namespace rackwatch::snmp {

bool oid_less(const Oid& a, const Oid& b) {
  return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end());
}

TableWalk::TableWalk(std::vector<Oid> columns, std::size_t max_rows)
    : columns_(std::move(columns)), last_(columns_), finished_(columns_.size(), false), max_rows_(max_rows) {
  refresh_request();
}

bool TableWalk::done() const { return request_.empty(); }

void TableWalk::refresh_request() {
  request_.clear();
  asked_.clear();
  for (std::size_t c = 0; c < columns_.size(); ++c) {
    if (finished_[c]) continue;
    asked_.push_back(c);
    request_.push_back(last_[c]);
  }
}

std::optional<std::string> TableWalk::take(const std::vector<VarBind>& answer) {
  ++requests_;
  const std::size_t width = asked_.size();
  auto fail = [this](std::string why) {
    std::fill(finished_.begin(), finished_.end(), true);
    refresh_request();
    return std::optional<std::string>(std::move(why));
  };
  if (width == 0) return std::nullopt;
  if (answer.empty()) return fail("answered a GETBULK with no varbinds");
  for (std::size_t i = 0; i < answer.size(); ++i) {
    const std::size_t c = asked_[i % width];
    if (finished_[c]) continue;  // later repetitions of a column that ended
    const VarBind& var = answer[i];
    if (var.type == VarType::end_of_mib_view || !starts_with(var.oid, columns_[c]) ||
        var.oid.size() == columns_[c].size()) {
      finished_[c] = true;
      continue;
    }
    if (!oid_less(last_[c], var.oid)) {
      return fail("answered " + format_oid(var.oid) + " as the successor of " + format_oid(last_[c]) +
                  ", which does not come after it: the walk would not end");
    }
    last_[c] = var.oid;
    Oid index(var.oid.begin() + static_cast<std::ptrdiff_t>(columns_[c].size()), var.oid.end());
    auto row = rows_.find(index);
    if (row == rows_.end()) {
      if (rows_.size() >= max_rows_) {
        return fail("has more than " + std::to_string(max_rows_) + " rows in the table of column " +
                    format_oid(columns_[c]));
      }
      row = rows_.emplace(std::move(index), std::vector<std::optional<VarBind>>(columns_.size())).first;
    }
    row->second[c] = var;
  }
  refresh_request();
  return std::nullopt;
}

}  // namespace rackwatch::snmp
