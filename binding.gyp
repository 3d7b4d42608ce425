{
  "targets": [
    {
      "target_name": "viz_recorder",
      "sources": ["native/addon.cc", "native/recorder.cc", "native/call_codec.cc", "native/deflate.cc"],
      "cflags_cc": ["-O2", "-ffp-contract=off", "-fno-exceptions", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "cflags_cc!": ["-fno-rtti"],
      "defines": [
        "NAPI_VERSION=8",
        "VIZ_FAST_API=<!(node -p \"process.env.VIZ_NO_FAST_API ? 0 : 1\")"
      ]
    }
  ]
}
