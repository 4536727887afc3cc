// tests/store/conformance/pg_backend_support.h — what every PostgreSQL
// instantiation of a conformance suite shares: a fresh database per test
// on the program's private cluster (../postgresql/pg_test_cluster.h), and
// the rule for a machine without PostgreSQL.
//
// A test program that links pg_backend_support.cpp gets a global gtest
// environment: without PostgreSQL and with POSTHORN_PG_SKIP=1 every test is
// skipped; otherwise a missing cluster fails each test, with the reason,
// when its factory calls FreshPgDatabase().

#ifndef POSTHORN_TESTS_STORE_CONFORMANCE_PG_BACKEND_SUPPORT_H_
#define POSTHORN_TESTS_STORE_CONFORMANCE_PG_BACKEND_SUPPORT_H_

#include <string>

namespace posthorn::store::testing {

// The DSN of a new, empty database on the test cluster; "" (after
// ADD_FAILURE saying why) when there is none. Shaped as the suites'
// storage factories, which hand it a temporary folder it does not use.
std::string FreshPgDatabase(const std::string& unused_temp_dir = "");

}  // namespace posthorn::store::testing

#endif  // POSTHORN_TESTS_STORE_CONFORMANCE_PG_BACKEND_SUPPORT_H_
