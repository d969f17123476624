// Errors the core reports for malformed input data.
#pragma once

#include <stdexcept>

namespace ftm {

// A malformed or non-conforming stream or payload: the container's syntax
// (bitstream.hpp) or an entropy-coded payload (level_coder.hpp).
// The message names where and what. Python sees ftm.errors.BitstreamError
// (an FtmError and a ValueError).
class BitstreamError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace ftm
