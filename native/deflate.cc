// deflate(bytes, level) -> Promise<Buffer>: one zlib stream of `bytes`, made on libuv's thread
// pool. node:zlib does the same work, but each call through it also builds a stream object and
// its buffers on the main thread (about 0.4 ms, a fifth of the main thread's time when a ring
// dump becomes a compressed Perfetto trace). This calls the zlib Node itself links and exports,
// with node:zlib's defaults (window 15, memLevel 8, default strategy), so the bytes are the
// same as `zlib.deflate`'s (the tests compare them).
#include <node_api.h>
#include <stdint.h>
#include <stdlib.h>
#include <zlib.h>

#include "deflate.h"
#include "napi_args.h"

namespace viz {
namespace {

struct DeflateJob {
  napi_async_work work = nullptr;
  napi_deferred deferred = nullptr;
  napi_ref input_ref = nullptr;  // keeps the input's memory alive while the thread reads it
  const uint8_t* input = nullptr;
  size_t input_length = 0;
  int level = 1;
  uint8_t* output = nullptr;
  size_t output_length = 0;
  int status = Z_OK;
};

void Execute(napi_env, void* data) {
  auto* job = static_cast<DeflateJob*>(data);
  z_stream zs = {};
  job->status = deflateInit2(&zs, job->level, Z_DEFLATED, 15, 8, Z_DEFAULT_STRATEGY);
  if (job->status != Z_OK) return;
  const uLong bound = deflateBound(&zs, uLong(job->input_length));
  job->output = static_cast<uint8_t*>(malloc(bound));
  if (job->output == nullptr) {
    job->status = Z_MEM_ERROR;
    deflateEnd(&zs);
    return;
  }
  zs.next_in = const_cast<Bytef*>(job->input);
  zs.avail_in = uInt(job->input_length);
  zs.next_out = job->output;
  zs.avail_out = uInt(bound);
  const int r = deflate(&zs, Z_FINISH);
  job->output_length = zs.total_out;
  deflateEnd(&zs);
  // With deflateBound's room, one Z_FINISH call ends the stream.
  job->status = r == Z_STREAM_END ? Z_OK : (r == Z_OK ? Z_BUF_ERROR : r);
}

void Complete(napi_env env, napi_status status, void* data) {
  auto* job = static_cast<DeflateJob*>(data);
  if (status == napi_ok && job->status == Z_OK) {
    napi_value result;
    void* copy = nullptr;
    napi_create_buffer_copy(env, job->output_length, job->output, &copy, &result);
    napi_resolve_deferred(env, job->deferred, result);
  } else {
    napi_value message, error;
    const char* text = status != napi_ok ? "deflate: cancelled" : "deflate: zlib failed";
    napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &message);
    napi_create_error(env, nullptr, message, &error);
    napi_reject_deferred(env, job->deferred, error);
  }
  free(job->output);
  napi_delete_reference(env, job->input_ref);
  napi_delete_async_work(env, job->work);
  delete job;
}

napi_value DeflateJs(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  Span<uint8_t> bytes;
  if (!Args(env, info, 2, argv, "deflate: 2 arguments expected") ||
      !TypedArg(env, argv[0], napi_uint8_array, &bytes)) {
    return nullptr;
  }
  int32_t level = 1;
  if (napi_get_value_int32(env, argv[1], &level) != napi_ok || level < 0 || level > 9) {
    napi_throw_range_error(env, nullptr, "deflate: level 0 to 9 expected");
    return nullptr;
  }
  auto* job = new DeflateJob();
  job->input = bytes.data;
  job->input_length = bytes.length;
  job->level = level;
  napi_value promise, name;
  napi_create_reference(env, argv[0], 1, &job->input_ref);
  napi_create_promise(env, &job->deferred, &promise);
  napi_create_string_utf8(env, "viz.deflate", NAPI_AUTO_LENGTH, &name);
  napi_create_async_work(env, nullptr, name, Execute, Complete, job, &job->work);
  napi_queue_async_work(env, job->work);
  return promise;
}

}  // namespace

void RegisterDeflate(napi_env env, napi_value exports) {
  napi_value fn;
  napi_create_function(env, "deflate", NAPI_AUTO_LENGTH, DeflateJs, nullptr, &fn);
  napi_set_named_property(env, exports, "deflate", fn);
}

}  // namespace viz
