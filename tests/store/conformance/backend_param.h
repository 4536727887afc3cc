// tests/store/conformance/backend_param.h — how a conformance suite's
// backend parameter (a struct whose `name` is [A-Za-z0-9_]) names and
// prints itself in gtest's output.

#ifndef POSTHORN_TESTS_STORE_CONFORMANCE_BACKEND_PARAM_H_
#define POSTHORN_TESTS_STORE_CONFORMANCE_BACKEND_PARAM_H_

#include <string>

#include "gtest/gtest.h"

namespace posthorn::store::testing {

// INSTANTIATE_TEST_SUITE_P's name generator, BackendParamName(): the
// test-name suffix is the backend's name.
struct BackendParamName {
  template <typename Backend>
  std::string operator()(const ::testing::TestParamInfo<Backend>& info) const {
    return info.param.name;
  }
};

}  // namespace posthorn::store::testing

#endif  // POSTHORN_TESTS_STORE_CONFORMANCE_BACKEND_PARAM_H_
