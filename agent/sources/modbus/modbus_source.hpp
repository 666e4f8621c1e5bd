// ModbusSource: one Modbus device (a unit id on a link) read in as few
// requests as its points allow, decoded by its profile, and judged by its
// answers: counters per device, registers that answer "illegal data
// address" disabled, dormant after repeated failures.
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
    std::uint64_t requests = 0;
    std::uint64_t answers = 0;  // normal answers
    std::uint64_t timeouts = 0;
    std::uint64_t crc_errors = 0;
    std::uint64_t framing_errors = 0;
    std::uint64_t io_errors = 0;  // connection refused, closed, device missing
    std::uint64_t exceptions = 0;
  };

  ModbusSource(const SourceConfig& config, std::shared_ptr<const ModbusSettings> settings,
               std::shared_ptr<Link> link);

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
  boost::asio::awaitable<void> read_span(PollState& state, const Span& span,
                                         const std::vector<std::size_t>& needs);
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
};

}  // namespace rackwatch::modbus
