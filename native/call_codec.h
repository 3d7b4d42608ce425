// Bulk loops of the ring dump -> Perfetto path (see call_codec.cc).
#pragma once
#include <node_api.h>

namespace viz {
// Adds encodeCalls and decodeCalls to the addon's exports.
void RegisterCallCodec(napi_env env, napi_value exports);
}  // namespace viz
