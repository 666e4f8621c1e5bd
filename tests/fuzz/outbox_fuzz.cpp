// Fuzz target: the outbox's recovery of a spool segment. Whatever a power
// loss, a bad disk or a stray writer left in the spool directory, these bytes
// are read at every start.
//
// The input is the content of a segment file. Checked:
//  - scan_segment() accounts for every byte exactly once, in order: valid
//    records with rising ids, and skipped regions of at least one record;
//    a valid record decodes and encodes back to the same bytes;
//  - decode_record() on the input alone never reads past it;
//  - Outbox::open() on a spool holding the input as its last segment counts
//    what the scan skipped, cuts off only a damaged tail, serves every
//    pending record, and after one more append a reopen finds exactly the
//    same records plus that one.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <span>
#include <string>
#include <vector>

#include "core/log.hpp"
#include "fuzz_check.hpp"
#include "publish/outbox.hpp"
#include "publish/outbox_format.hpp"
#include "publish/outbox_segment.hpp"

namespace {

namespace fs = std::filesystem;
namespace ob = rackwatch::outbox;
using rackwatch::fuzz::require;

// The spool, made once, emptied for each input, removed at exit.
class Spool {
 public:
  Spool() {
    std::string pattern = (fs::temp_directory_path() / "rackwatch-outbox-fuzz-XXXXXX").string();
    require(::mkdtemp(pattern.data()) != nullptr, "mkdtemp");
    dir_ = pattern;
    rackwatch::log::set_level(rackwatch::log::Level::error);  // every input is "damaged"
  }
  ~Spool() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  Spool(const Spool&) = delete;
  Spool& operator=(const Spool&) = delete;
  const fs::path& dir() const { return dir_; }

 private:
  fs::path dir_;
};

const fs::path& spool() {
  static const Spool spool;
  return spool.dir();
}

void check_scan(std::span<const std::uint8_t> bytes) {
  const auto scan = ob::scan_segment(bytes, 1);
  std::size_t at = 0;
  std::size_t r = 0;
  std::size_t k = 0;
  std::uint64_t last_id = 0;
  // Walk records and regions in file order: they must tile the bytes.
  while (r < scan.records.size() || k < scan.skipped.size()) {
    if (r < scan.records.size() && scan.records[r].offset == at) {
      const auto& rec = scan.records[r++];
      require(rec.id > last_id, "record ids rise");
      last_id = rec.id;
      rackwatch::OutboxRecord decoded;
      std::size_t consumed = 0;
      const auto piece = bytes.subspan(at, rec.bytes);
      require(ob::decode_record(piece, decoded, consumed) == ob::DecodeStatus::ok, "a valid record decodes");
      require(consumed == rec.bytes && decoded.id == rec.id, "and is what the scan said");
      std::vector<std::uint8_t> again;
      require(!ob::encode_record(decoded, again), "a decoded record encodes");
      require(std::equal(again.begin(), again.end(), piece.begin(), piece.end()), "to the same bytes");
      at += rec.bytes;
    } else {
      require(k < scan.skipped.size() && scan.skipped[k].offset == at, "bytes are accounted for in order");
      const auto& region = scan.skipped[k++];
      require(region.bytes > 0 && region.records >= 1, "a skipped region holds something");
      require(region.reason != ob::DecodeStatus::ok, "a skipped region has a reason");
      at += region.bytes;
    }
  }
  require(at == bytes.size(), "every byte is accounted for");
  require(scan.damaged_tail == (!scan.skipped.empty() &&
                                scan.skipped.back().offset + scan.skipped.back().bytes == bytes.size()),
          "damaged_tail says whether the bytes end damaged");
}

void check_outbox(std::span<const std::uint8_t> bytes) {
  const fs::path& dir = spool();
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) fs::remove_all(e.path(), ec);
  // A first segment of ids 1.. after a checkpoint: the input as the last one.
  const fs::path file = dir / ob::segment_file_name(1);
  {
    std::ofstream out(file, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    require(out.good(), "write the segment");
  }
  const auto scan = ob::scan_segment(bytes, 1);
  std::uint64_t tail = 0;
  if (scan.damaged_tail) tail = scan.skipped.back().bytes;
  std::uint64_t skipped = 0;
  std::uint64_t skipped_bytes = 0;
  for (const auto& region : scan.skipped) {
    skipped += region.records;
    skipped_bytes += region.bytes;
  }

  rackwatch::OutboxOptions options;
  options.dir = dir.string();
  options.fsync = rackwatch::FsyncPolicy::never;
  options.max_bytes = 1ull << 30;  // no cap drops: they would change what is found
  std::vector<std::uint64_t> first;
  std::uint64_t appended = 0;
  {
    auto outbox = rackwatch::Outbox::open(options, ec);
    require(outbox != nullptr, "the outbox opens on any segment");
    first = outbox->pending(0, SIZE_MAX);
    require(first.size() == scan.records.size(), "every valid record is pending");
    require(outbox->stats().skipped == skipped && outbox->stats().skipped_bytes == skipped_bytes,
            "what the scan skipped is counted");
    // Damage inside stays on disk (it is counted, not deleted); only a
    // damaged end is cut off, so that appends follow a whole record.
    require(outbox->stats().bytes_on_disk == bytes.size() - tail, "only the damaged tail is cut off");
    for (const auto id : first) require(outbox->read(id).has_value(), "a pending record reads");
    const auto id = outbox->append(rackwatch::Message{"t", "fuzz", 1, false}, ec);
    require(id.has_value() && *id > (first.empty() ? 0 : first.back()), "appends continue after the last id");
    appended = *id;
  }
  auto outbox = rackwatch::Outbox::open(options, ec);
  require(outbox != nullptr, "the outbox reopens");
  auto second = outbox->pending(0, SIZE_MAX);
  first.push_back(appended);
  require(second == first, "a reopen finds the same records and the new one");
  const auto r = outbox->read(appended);
  require(r && r->message.payload == "fuzz", "the new record reads back");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> bytes(data, size);
  check_scan(bytes);
  rackwatch::OutboxRecord record;
  std::size_t consumed = 0;
  if (ob::decode_record(bytes, record, consumed) == ob::DecodeStatus::ok) {
    require(consumed <= size, "a record fits its bytes");
  }
  // Files for every input are slow; inputs beyond a few segments add nothing.
  if (size <= (1u << 20)) check_outbox(bytes);
  return 0;
}
