#include "publish/host_checks.hpp"

#include "publish/outbox.hpp"

namespace rackwatch {

bool check_host(const Config& config, Diagnostics& diags) {
  if (auto problem = check_outbox_dir(config.outbox.dir)) {
    diags.error(config.outbox.dir_mark, *problem + "; make it writable by the service's user, or set outbox.dir");
    return false;
  }
  return true;
}

}  // namespace rackwatch
