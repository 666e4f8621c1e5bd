// SnmpSource: one SNMP agent (a PDU's card, a CDU's controller). Its points
// are OIDs read with GETs of up to max_varbinds each, and the rows of its
// profile's tables, walked with GETBULK at every poll: a row that appears
// or vanishes changes the source's points, and the agent's catalog with
// them. With `profile: auto` the profile is chosen at the first answer, by
// the device's sysObjectID and sysDescr.
//
// Judged by its answers as a Modbus device is: a device that does not
// answer goes dormant after repeated timeouts and is re-probed with a
// growing back-off; a device that answers with a report (wrong key, unknown
// user) is alive, and says so.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "sources/device_health.hpp"
#include "sources/snmp/snmp_profile.hpp"
#include "sources/snmp/snmp_session.hpp"
#include "sources/snmp/snmp_settings.hpp"
#include "sources/snmp/snmp_table.hpp"
#include "sources/source.hpp"

namespace rackwatch::snmp {

const SourceType& snmp_source_type();

class SnmpSource final : public Source {
 public:
  SnmpSource(const SourceConfig& config, std::shared_ptr<const SnmpSettings> settings,
             boost::asio::any_io_executor executor);

  boost::asio::awaitable<std::vector<RawReading>> poll() override;
  SourceHealth health() const override;

  const Counters& session_counters() const { return session_.counters(); }

 private:
  // What a poll reads: the scalar OIDs (one per point before the rows), and
  // the profile whose tables it walks.
  struct Plan {
    std::shared_ptr<const SnmpProfile> profile;
    std::string chosen_why;  // profile: auto
    std::vector<Oid> scalars;
    std::size_t scalar_points = 0;
    Expansion rows;  // the row points, after the scalars
  };

  boost::asio::awaitable<std::optional<Error>> choose();
  boost::asio::awaitable<std::optional<Error>> read_scalars(std::vector<RawReading>& out);
  boost::asio::awaitable<Result<std::vector<Rows>, Error>> walk_tables();
  // Makes the rows' points the source's when they differ from the last.
  void adopt_rows(const std::vector<Rows>& rows);
  std::vector<RawReading> failures(const std::string& why) const;
  void failed(const Error& error);
  void answered();

  std::shared_ptr<const SnmpSettings> settings_;
  Session session_;
  DeviceHealth health_;
  Plan plan_;
  std::uint64_t polls_ = 0;
  std::uint64_t dormant_polls_ = 0;
  std::uint64_t walk_requests_ = 0;
  std::vector<std::optional<std::size_t>> last_rows_;  // by table: the rows of its last complete walk
  std::vector<Rows> previous_rows_;  // the last walk's, to see whether the points moved
  bool rows_found_ = false;          // the tables were walked once
  std::uint64_t row_changes_ = 0;   // rows that appeared or vanished since
  std::optional<Error> last_error_;
  std::optional<TimePoint> last_success_;
};

}  // namespace rackwatch::snmp
