#include "tests/integration/test_certificates.h"

#include <fstream>

#include "gtest/gtest.h"
#include "tests/support/test_env.h"  // RunCommand

namespace accllm::testing {

namespace {
// P-256 keys: quick to make, and every TLS stack takes them.
const char kNewKey[] = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
}  // namespace

TestCa MakeTestCa(const std::filesystem::path& dir, const std::string& name) {
  TestCa ca;
  ca.cert = (dir / (name + "-ca.pem")).string();
  ca.key = (dir / (name + "-ca.key")).string();
  ca.dir = dir;
  const CommandResult r = RunCommand(
      std::string("openssl req -x509 ") + kNewKey + " -keyout " + ca.key + " -out " + ca.cert +
      " -days 2 -subj '/CN=accllm test CA " + name + "' 2>&1");
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  return ca;
}

TestCertificate TestCa::Issue(const std::string& name) const {
  const std::filesystem::path base = dir / name;
  const std::string ext = base.string() + ".ext";
  std::ofstream(ext) << "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
                        "extendedKeyUsage=serverAuth,clientAuth\n";
  TestCertificate leaf;
  leaf.cert = base.string() + ".pem";
  leaf.key = base.string() + ".key";
  const std::string csr = base.string() + ".csr";
  const CommandResult request = RunCommand(std::string("openssl req ") + kNewKey + " -keyout " +
                                           leaf.key + " -out " + csr + " -subj '/CN=" + name +
                                           "' 2>&1");
  EXPECT_EQ(request.exit_code, 0) << request.out << request.err;
  const CommandResult sign = RunCommand("openssl x509 -req -in " + csr + " -CA " + cert +
                                        " -CAkey " + key + " -CAcreateserial -days 2 -out " +
                                        leaf.cert + " -extfile " + ext + " 2>&1");
  EXPECT_EQ(sign.exit_code, 0) << sign.out << sign.err;
  if (request.exit_code != 0 || sign.exit_code != 0) return {};
  return leaf;
}

}  // namespace accllm::testing
