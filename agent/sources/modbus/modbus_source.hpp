// ModbusSource: one Modbus device (a unit id on a link) read in as few
// requests as its points allow, decoded by its profile, and judged by its
// answers: counters per device, registers that answer "illegal data
// address" disabled, dormant after repeated failures. A device not proven
// to answer (not heard from since start, failed last time, or dormant and
// due for its re-probe) has its first read of a poll made a probe: sent in
// the link's idle time only, with a short timeout, so that it never holds
// up a device that answers. With `sunspec:`, the first poll finds the
// profile's model in the device's SunSpec chain (the discovery's reads go
// the same way: the first is the probe) and reads it wherever it sits.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "sources/device_health.hpp"
#include "sources/modbus/modbus_link.hpp"
#include "sources/modbus/modbus_settings.hpp"
#include "sources/modbus/modbus_spans.hpp"
#include "sources/modbus/sunspec_discovery.hpp"
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
  // SunSpec: the common model's strings, once discovery has read them.
  std::optional<DeviceInfo> device_info() const override;

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
  struct PollState {
    SteadyClock::time_point deadline;
    std::vector<Got> got;  // per need
    std::deque<std::vector<std::uint16_t>> responses;  // a deque: Got points into it
    std::string abort;  // after a failure of the device: why the rest is not read
    std::vector<std::size_t> suspects;  // needs of joint reads refused with "illegal data address"
    std::vector<Span> suspect_spans;
  };

  // The needs of the points with every address moved by `shift` (SunSpec:
  // where discovery found the model), plus the model's `header`, and the
  // plan for them; registers disabled before are forgotten.
  void place(std::int32_t shift, std::optional<RegisterRange> header = std::nullopt);
  void replan();
  // Whether the device has proven that it answers: its polls need no probe.
  bool answering() const;
  void failed(PollState& state, const std::string& why);
  // `probe`: the first read of a device not proven to answer, in the
  // link's idle time and with the short probe_timeout.
  boost::asio::awaitable<void> read_span(PollState& state, const Span& span,
                                         const std::vector<std::size_t>& needs, bool probe = false);
  // One request on the link, counted and judged for the device's health: an
  // answer or an exception proves it alive; no answer, a broken frame or a
  // gateway's "no path" counts against it and ends the poll's reads.
  boost::asio::awaitable<ReadResult> request(PollState& state, const Span& span, bool probe);
  std::vector<RawReading> failures(const std::string& why) const;

  // SunSpec (modbus_source_sunspec.cpp). Finds the "SunS" marker, walks the
  // chain, reads the common model and places the needs; false when the
  // model is not found (the state says why). `probe`: its first read is
  // the poll's probe.
  boost::asio::awaitable<bool> discover(PollState& state, bool probe);
  // After the reads: whether the model's header, read with its data, still
  // names the model found; if not, the chain changed and the next poll
  // discovers again.
  bool model_in_place(const PollState& state);
  // Drops what discovery found; the next poll discovers again.
  void forget(std::string why);
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
  // SunSpec: what discovery found, and the need of the model's header.
  std::optional<SunSpecState> sunspec_;
  std::optional<std::size_t> header_need_;
  std::uint16_t model_extent_ = 0;  // registers of model data the points need
};

}  // namespace rackwatch::modbus
