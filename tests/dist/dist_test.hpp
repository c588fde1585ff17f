// SPDX-License-Identifier: MIT
#pragma once
// The job every test of tests/dist runs in (see main.cpp).
#include "hetex/dist/comm.hpp"

namespace hetex::dist {
const Comm& comm();
}
