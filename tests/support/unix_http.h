// One HTTP/1.1 request over a unix socket without a curl process per call: for tests that call
// kiln's API many times a second (tests/probe's PATCH /drives hammer).
#pragma once

#include <string>

#include "api_call.h"

namespace kiln::test {

// Sends `method path` with a JSON body (may be empty) and "Connection: close", reads the whole
// reply. status 0 and `error` set when the socket fails.
ApiReply unix_http(const std::string& socket, const std::string& method, const std::string& path,
                   const std::string& body = "");

}  // namespace kiln::test
