#include "sources/modbus/modbus_rtu_tcp_client.hpp"

#include <array>
#include <tuple>
#include <utility>

#include <boost/asio/error.hpp>
#include <boost/asio/write.hpp>

#include "sources/modbus/modbus_rtu_frame.hpp"
#include "sources/modbus/modbus_rtu_receive.hpp"
#include "sources/modbus/modbus_tcp_connect.hpp"

namespace rackwatch::modbus {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

RtuOverTcpClient::RtuOverTcpClient(asio::any_io_executor executor, Options options)
    : Link(executor, options.inter_request_delay),
      options_(std::move(options)),
      socket_(std::move(executor)) {}

RtuOverTcpClient::~RtuOverTcpClient() { close(); }

void RtuOverTcpClient::close() {
  boost::system::error_code ignored;
  socket_.shutdown(tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
}

std::string RtuOverTcpClient::where() const { return options_.host + ":" + std::to_string(options_.port); }

std::string RtuOverTcpClient::describe() const { return "rtu-over-tcp " + where(); }

asio::awaitable<std::optional<LinkError>> RtuOverTcpClient::ensure_connected(SteadyClock::time_point deadline) {
  if (socket_.is_open()) co_return std::nullopt;
  close();
  if (auto failure = co_await connect_tcp(socket_, options_.host, options_.port, deadline)) {
    close();
    if (failure->timeout) co_return fail(LinkFailure::timeout, std::move(failure->message));
    co_return fail(LinkFailure::connect,
                   failure->message + "; check the address, and that the gateway's serial port is in TCP server "
                                      "(raw) mode on that port");
  }
  boost::system::error_code ignored;
  // For discard_pending's reads; Asio's own asynchronous reads are unaffected.
  socket_.non_blocking(true, ignored);
  co_return std::nullopt;
}

bool RtuOverTcpClient::discard_pending() {
  std::array<std::uint8_t, kMaxRtuFrameSize> buffer{};
  for (;;) {
    boost::system::error_code error;
    socket_.read_some(asio::buffer(buffer), error);
    if (error == asio::error::would_block || error == asio::error::try_again) return true;
    if (error) return false;  // eof or reset
  }
}

asio::awaitable<ReadResult> RtuOverTcpClient::exchange(std::uint8_t unit, const ReadRequest& request,
                                                       SteadyClock::time_point deadline) {
  auto frame = encode_rtu_request(unit, request);
  if (!frame) co_return fail(LinkFailure::request, frame.error().message, frame.error());
  if (auto error = co_await ensure_connected(deadline)) co_return std::move(*error);
  if (!discard_pending()) {
    // Gateways close connections left idle; that is no failure of this read.
    close();
    if (auto error = co_await ensure_connected(deadline)) co_return std::move(*error);
  }

  count_request();
  auto written = co_await before(asio::async_write(socket_, asio::buffer(*frame), use_tuple), deadline);
  if (!written) {
    close();
    co_return fail(LinkFailure::timeout, "timeout: sending the request to " + where());
  }
  if (const auto& error = std::get<0>(*written)) {
    close();
    co_return fail(LinkFailure::io, "sending the request to " + where() + ": " + error.message());
  }

  RtuAnswer answer(request);
  const auto received = co_await receive_rtu_answer(socket_, answer, deadline, kEndOfFrameSilence);
  switch (received.end) {
    case RtuReceived::End::nothing:
      // The answer may still come; on a new connection it cannot be taken
      // for the next request's.
      close();
      co_return fail(LinkFailure::timeout, "timeout: no answer from unit " + std::to_string(unit) + " through " +
                                               where() + " before the deadline; check the unit id and the "
                                               "gateway's baud and parity");
    case RtuReceived::End::error:
      close();
      co_return fail(LinkFailure::io,
                     "reading the answer from " + where() + ": " +
                         (received.error == asio::error::eof
                              ? std::string("the gateway closed the connection (it may allow fewer "
                                            "connections than are open to it)")
                              : received.error.message()));
    case RtuReceived::End::complete:
    case RtuReceived::End::silence:
      break;
  }

  auto decoded = decode_rtu_frame(request, unit, answer.bytes());
  if (!decoded) {
    // Whatever was cut off or added may still be under way: start clean.
    close();
    if (decoded.error().code == ErrorCode::crc_mismatch) {
      co_return fail(LinkFailure::crc,
                     decoded.error().message + " (unit " + std::to_string(unit) + " through " + where() +
                         "): noise on the line, or the gateway's serial settings differ from the device's",
                     decoded.error());
    }
    co_return fail(LinkFailure::framing, decoded.error().message, decoded.error());
  }
  auto response = decode_read_response(request, decoded->pdu);
  if (response) co_return std::move(response).value();
  if (response.error().code == ErrorCode::exception) {
    // A well-formed answer: the connection stays usable.
    co_return fail(LinkFailure::exception, response.error().message, response.error());
  }
  close();
  co_return fail(LinkFailure::framing, response.error().message, response.error());
}

}  // namespace rackwatch::modbus
