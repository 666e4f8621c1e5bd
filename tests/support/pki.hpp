// A throw-away public key infrastructure made with the openssl command for a
// test: a CA, another CA nobody trusts, and certificates signed by either,
// valid, expired, or issued for another host. Keys are EC P-256, mode 0600.
#pragma once

#include <sys/stat.h>

#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "support/run.hpp"

namespace rackwatch::test {

class Pki {
 public:
  explicit Pki(std::filesystem::path dir) : dir_(std::move(dir)) {
    std::filesystem::create_directories(dir_);
    make_ca("ca", "rackwatch test CA");
    make_ca("other-ca", "a CA nobody here trusts");
  }

  struct Leaf {
    std::string cert;
    std::string key;
  };

  // A certificate for `cn`, signed by `ca` ("ca" or "other-ca"), with
  // subjectAltName `san` (e.g. "IP:127.0.0.1"), valid for `days` (negative:
  // expired), for a server or a client.
  Leaf issue(const std::string& name, const std::string& cn, const std::string& san, int days = 30,
             bool server = true, const std::string& ca = "ca") {
    const auto key = path(name + ".key");
    const auto csr = path(name + ".csr");
    const auto cert = path(name + ".pem");
    const auto ext = path(name + ".ext");
    write_file(ext, (san.empty() ? "" : "subjectAltName=" + san + "\n") +
                        "extendedKeyUsage=" + (server ? "serverAuth" : "clientAuth") + "\n");
    openssl({"req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out",
             csr, "-subj", "/CN=" + cn});
    openssl({"x509", "-req", "-in", csr, "-CA", path(ca + ".pem"), "-CAkey", path(ca + ".key"), "-CAcreateserial",
             "-out", cert, "-days", std::to_string(days), "-extfile", ext});
    ::chmod(key.c_str(), 0600);
    return {cert, key};
  }

  std::string ca(const std::string& name = "ca") const { return path(name + ".pem"); }
  std::string path(const std::string& file) const { return (dir_ / file).string(); }

 private:
  void make_ca(const std::string& name, const std::string& cn) {
    openssl({"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
             path(name + ".key"), "-out", path(name + ".pem"), "-days", "3650", "-subj", "/CN=" + cn});
  }

  static void openssl(std::vector<std::string> args) {
    args.insert(args.begin(), "openssl");
    const auto r = run(args);
    if (r.exit_code != 0) throw std::runtime_error("openssl " + args[1] + " failed: " + r.err);
  }

  std::filesystem::path dir_;
};

}  // namespace rackwatch::test
