// tests/store/conformance/mailstore_conformance.h — one test suite that
// every Mailstore backend must pass (posthorn/store/mailstore.h).
//
// A backend joins with one file holding one instantiation line:
//
//   INSTANTIATE_TEST_SUITE_P(
//       Maildir, MailstoreConformanceTest,
//       ::testing::Values(Backend{"maildir", [](const std::string& dir) {
//         return std::move(*MakeMaildirStore({.root_dir = dir}));
//       }}),
//       BackendName);
//
// (and the same for MailstoreConcurrencyTest when the backend may be used
// from several threads). The factory gets a fresh, empty temporary folder
// per test, removed afterwards; a backend that keeps nothing on disk (the
// memory store) ignores it. See docs/store-maildir.md.

#ifndef POSTHORN_TESTS_STORE_CONFORMANCE_MAILSTORE_CONFORMANCE_H_
#define POSTHORN_TESTS_STORE_CONFORMANCE_MAILSTORE_CONFORMANCE_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "posthorn/store/mailstore.h"

namespace posthorn::store::testing {

using MailstoreFactory =
    std::function<std::unique_ptr<Mailstore>(const std::string& temp_dir)>;

struct Backend {
  std::string name;  // [A-Za-z0-9_]: a test-name suffix
  MailstoreFactory make;
};

// For INSTANTIATE_TEST_SUITE_P's name generator.
std::string BackendName(const ::testing::TestParamInfo<Backend>& info);

// Fixture: a temporary folder and a store made in it.
class MailstoreTestBase : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override;
  void TearDown() override;

  // Delivers `text` to `user`; fails the test when delivery fails.
  void DeliverOk(const std::string& user, const std::string& text);
  absl::Status Deliver(const std::string& user, const std::string& text);
  // Opens a session; fails the test when it cannot.
  std::unique_ptr<MaildropSession> Open(const std::string& user);
  // Read / ReadTop to the end (with `buffer_size` chunks).
  static std::string ReadMessage(MaildropSession& session, std::size_t index,
                                 std::size_t buffer_size = 16384);
  static std::string ReadTopOf(MaildropSession& session, std::size_t index,
                               std::uint64_t body_lines);
  // Every message of a fresh session, in order (the session is dropped).
  std::vector<std::string> ReadEverything(const std::string& user);
  // Every path under the temporary folder (to prove nothing was created).
  std::vector<std::string> ListTempDir() const;

  std::string temp_dir_;
  std::unique_ptr<Mailstore> store_;
};

class MailstoreConformanceTest : public MailstoreTestBase {};
class MailstoreConcurrencyTest : public MailstoreTestBase {};

// "a\nb\n" -> "a\r\nb\r\n" (test texts hold no CR).
std::string Crlf(const std::string& lf_text);

}  // namespace posthorn::store::testing

#endif  // POSTHORN_TESTS_STORE_CONFORMANCE_MAILSTORE_CONFORMANCE_H_
