// ModbusSource: one Modbus device (a unit id on a link) read in as few
// requests as its points allow, decoded by its profile, and judged by its
// answers: counters per device, registers that answer "illegal data
// address" disabled, dormant after repeated failures. A device not proven
// to answer (not heard from since start, failed last time, or dormant and
// due for its re-probe) has its first read of a poll made a probe: sent in
// the link's idle time only, with a short timeout, so that it never holds
// up a device that answers.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "sources/modbus/modbus_health.hpp"
#include "sources/modbus/modbus_link.hpp"
#include "sources/modbus/modbus_settings.hpp"
#include "sources/modbus/modbus_spans.hpp"
#include "sources/source.hpp"

namespace rackwatch::modbus {

const SourceType& modbus_source_type();

class ModbusSource final : public Source {
 public:
  struct Counters {
    std::uint64_t polls = 0;
    std::uint64_t dormant_polls = 0;  // polls skipped while dormant
    std::uint64_t requests = 0;  // sent on the wire
    std::uint64_t not_sent = 0;  // given up unsent: the link busy until the deadline, or no room for a probe
    std::uint64_t probes = 0;    // probes sent
    std::uint64_t answers = 0;  // normal answers
    std::uint64_t timeouts = 0;
    std::uint64_t crc_errors = 0;
    std::uint64_t framing_errors = 0;
    std::uint64_t io_errors = 0;  // connection refused, closed, device missing
    std::uint64_t exceptions = 0;
  };

  ModbusSource(const SourceConfig& config, std::shared_ptr<const ModbusSettings> settings,
               std::shared_ptr<Link> link);
  ~ModbusSource() override;
  ModbusSource(const ModbusSource&) = delete;
  ModbusSource& operator=(const ModbusSource&) = delete;

  boost::asio::awaitable<std::vector<RawReading>> poll() override;
  SourceHealth health() const override;

  const Counters& counters() const { return counters_; }
  // The reads of the current plan.
  const std::vector<Span>& spans() const { return plan_.spans; }
  const Link& link() const { return *link_; }

 private:
  using SteadyClock = Link::SteadyClock;

  // A register range the points need: a point's value, or its scale factor.
  struct Need {
    std::size_t point = 0;
    RegisterRange range;
  };
  // What one read brought for the needs it covers.
  struct Got {
    const std::vector<std::uint16_t>* values = nullptr;  // the read's registers
    std::uint16_t offset = 0;
    std::string error;  // when values is null
    TimePoint time{};
  };
  struct PollState;

  void replan();
  // Whether the device has proven that it answers: its polls need no probe.
  bool answering() const;
  void failed(PollState& state, const std::string& why);
  // `probe`: the first read of a device not proven to answer, in the
  // link's idle time and with the short probe_timeout.
  boost::asio::awaitable<void> read_span(PollState& state, const Span& span,
                                         const std::vector<std::size_t>& needs, bool probe = false);
  void disable(const RegisterRange& range, std::string why);
  std::vector<RawReading> decode(const PollState& state) const;
  std::string where() const;
  // Why a need is not read: the unreadable range it touches, and why that is.
  std::string left_out(std::size_t need, const Error& error) const;

  std::shared_ptr<const ModbusSettings> settings_;
  std::shared_ptr<Link> link_;
  std::vector<Need> needs_;
  std::vector<std::size_t> value_need_;                 // per point: its value's need
  std::vector<std::optional<std::size_t>> scale_need_;  // per point: its scale factor's need
  std::vector<RegisterRange> unreadable_;               // the profile's, then disabled ones
  std::vector<std::string> unreadable_why_;             // per range of unreadable_
  std::vector<std::string> notes_;
  SpanPlan plan_;
  std::vector<std::vector<std::size_t>> span_needs_;  // per span of the plan: the needs it covers
  DeviceHealth health_;
  Counters counters_;
  std::optional<TimePoint> last_success_;
  bool answered_since_start_ = false;
};

}  // namespace rackwatch::modbus
