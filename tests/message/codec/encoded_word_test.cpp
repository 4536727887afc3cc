#include "posthorn/message/encoded_word.h"
#include <gtest/gtest.h>
TEST(Placeholder, Builds) { EXPECT_TRUE(true); }
