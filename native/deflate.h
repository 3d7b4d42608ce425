// zlib deflate on libuv's thread pool (see deflate.cc).
#pragma once
#include <node_api.h>

namespace viz {
// Adds deflate to the addon's exports.
void RegisterDeflate(napi_env env, napi_value exports);
}  // namespace viz
