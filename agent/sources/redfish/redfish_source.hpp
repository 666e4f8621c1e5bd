// RedfishSource: one Redfish service (a BMC, a rack PDU's or a CDU's
// controller). At its first answer it walks the service from the root and
// makes every reading it finds a point (sources/redfish/redfish_discovery.hpp);
// after that each poll GETs only the resources that hold those readings,
// once each (an expanded collection once for all its members), and the
// walk runs again every `rediscover` to follow parts that came or went.
//
// Judged as the other network sources are: a service that does not answer
// (no connection, a timeout, a TLS failure) or refuses the login goes
// dormant after repeated failures and is re-probed with a growing
// back-off, so that a wrong password costs one login a probe, not a loop.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "sources/device_health.hpp"
#include "sources/redfish/redfish_discovery.hpp"
#include "sources/redfish/redfish_session.hpp"
#include "sources/redfish/redfish_settings.hpp"
#include "sources/source.hpp"

namespace rackwatch::redfish {

const SourceType& redfish_source_type();

class RedfishSource final : public Source {
 public:
  RedfishSource(const SourceConfig& config, std::shared_ptr<const RedfishSettings> settings,
                boost::asio::any_io_executor executor);
  // Ends the service's session unless stop() did, in the background and
  // bounded by the request timeout: the source is gone (a reload removed
  // it), the session need not stay open.
  ~RedfishSource() override;

  boost::asio::awaitable<std::vector<RawReading>> poll() override;
  // Ends the service's session (its DELETE, bounded by the request
  // timeout, on a connection of its own if a poll still waits for an
  // answer) and says so in the log. Polls after it, and one under way,
  // ask nothing more.
  boost::asio::awaitable<void> stop() override;
  SourceHealth health() const override;

  const RedfishSession& session() const { return *session_; }
  std::uint64_t requests_last_poll() const { return requests_last_poll_; }
  // What discovery found, in the order of config().points.
  const std::vector<FoundPoint>& found_points() const { return points_; }

 private:
  // A resource a poll GETs (a resource, or an expanded collection), and
  // the points (indices into points_) it holds.
  struct Resource {
    std::string uri;
    std::vector<std::size_t> points;
  };

  bool rediscovery_due(std::chrono::steady_clock::time_point now) const;
  void adopt(Discovery found);
  std::vector<RawReading> failures(const std::string& why) const;
  void failed(const Error& error);
  void answered();

  boost::asio::any_io_executor executor_;
  std::shared_ptr<const RedfishSettings> settings_;
  std::shared_ptr<RedfishSession> session_;  // shared with the logout that outlives the source
  DeviceHealth health_;
  std::vector<FoundPoint> points_;
  std::vector<Resource> resources_;
  bool discovered_ = false;
  std::chrono::steady_clock::time_point discovered_at_{};
  std::string expand_;  // the $expand query discovery used
  bool stopped_ = false;  // stop() ended the session: the destructor leaves it
  std::vector<std::string> skipped_;
  std::vector<std::string> absent_;  // links that answered 404 at discovery
  std::vector<std::string> quirks_;
  std::uint64_t polls_ = 0;
  std::uint64_t dormant_polls_ = 0;
  std::uint64_t discoveries_ = 0;
  std::uint64_t discovery_requests_ = 0;
  std::uint64_t discovery_changes_ = 0;  // rediscoveries that found other points
  std::uint64_t copies_ = 0;
  std::uint64_t requests_last_poll_ = 0;
  std::uint64_t absent_reads_ = 0;  // resources of points that answered 404 at a poll
  std::optional<Error> last_error_;
  std::optional<TimePoint> last_success_;
};

}  // namespace rackwatch::redfish
