#include "posthorn/message/content_type.h"
#include <gtest/gtest.h>
TEST(Placeholder, Builds) { EXPECT_TRUE(true); }
