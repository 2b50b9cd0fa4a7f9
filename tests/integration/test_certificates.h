// Certificates made at test time with Debian's openssl: a CA, and leaf
// certificates it signs that are valid for 127.0.0.1 and localhost as both
// server and client (workers are both).
#ifndef ACCLLM_TESTS_INTEGRATION_TEST_CERTIFICATES_H_
#define ACCLLM_TESTS_INTEGRATION_TEST_CERTIFICATES_H_

#include <filesystem>
#include <string>

namespace accllm::testing {

struct TestCertificate {
  std::string cert;  // PEM paths
  std::string key;
};

struct TestCa {
  std::string cert;
  std::string key;
  std::filesystem::path dir;
  // A leaf "<dir>/<name>.pem" signed by this CA; empty paths (and a test
  // failure) if openssl failed.
  TestCertificate Issue(const std::string& name) const;
};

// "<dir>/<name>-ca.pem": a self-signed CA.
TestCa MakeTestCa(const std::filesystem::path& dir, const std::string& name);

}  // namespace accllm::testing

#endif  // ACCLLM_TESTS_INTEGRATION_TEST_CERTIFICATES_H_
