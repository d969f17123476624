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

// A well-formed stream that asks for more than the caller allows (decoded
// elements, memory): the message names the limit and the value asked for.
// Python sees ftm.errors.DecodeLimitError (an FtmError and a ValueError).
class LimitError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace ftm
