// Argument checks shared by the addon's bulk functions (call_codec.cc, deflate.cc): each throws
// a JavaScript TypeError and returns false when a call does not fit.
#pragma once
#include <node_api.h>
#include <stddef.h>

namespace viz {

// The first `count` arguments into `argv`; `what` names the function in the error.
inline bool Args(napi_env env, napi_callback_info info, size_t count, napi_value* argv,
                 const char* what) {
  size_t argc = count;
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok || argc < count) {
    napi_throw_type_error(env, nullptr, what);
    return false;
  }
  return true;
}

template <typename T>
struct Span {
  T* data = nullptr;
  size_t length = 0;  // elements
};

// A typed array argument of type `want`.
template <typename T>
bool TypedArg(napi_env env, napi_value v, napi_typedarray_type want, Span<T>* out) {
  napi_typedarray_type type;
  size_t length;
  void* data;
  if (napi_get_typedarray_info(env, v, &type, &length, &data, nullptr, nullptr) != napi_ok ||
      type != want) {
    napi_throw_type_error(env, nullptr, "wrong typed array argument");
    return false;
  }
  out->data = static_cast<T*>(data);
  out->length = length;
  return true;
}

inline bool NumberArg(napi_env env, napi_value v, double* out) {
  if (napi_get_value_double(env, v, out) != napi_ok) {
    napi_throw_type_error(env, nullptr, "wrong number argument");
    return false;
  }
  return true;
}

}  // namespace viz
