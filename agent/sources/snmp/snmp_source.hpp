// SnmpSource: one SNMP agent (a PDU's card, a CDU's controller) whose points
// are OIDs, read with GETs of up to max_varbinds each. Judged by its
// answers as a Modbus device is: a device that does not answer goes dormant
// after repeated timeouts and is re-probed with a growing back-off; a device
// that answers with a report (wrong key, unknown user) is alive, and says so.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "sources/device_health.hpp"
#include "sources/snmp/snmp_session.hpp"
#include "sources/snmp/snmp_settings.hpp"
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
  std::vector<RawReading> failures(const std::string& why) const;
  void failed(const Error& error);

  std::shared_ptr<const SnmpSettings> settings_;
  Session session_;
  DeviceHealth health_;
  std::uint64_t polls_ = 0;
  std::uint64_t dormant_polls_ = 0;
  std::optional<Error> last_error_;
  std::optional<TimePoint> last_success_;
};

}  // namespace rackwatch::snmp
