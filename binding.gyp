{
  "targets": [
    {
      "target_name": "mmcot",
      "sources": ["<!@(node scripts/gyp-sources.cjs)"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")", "native/include"],
      "defines": [
        "NAPI_VERSION=8",
        "NAPI_CPP_EXCEPTIONS",
        "NODE_ADDON_API_DISABLE_DEPRECATED",
        "MMCOT_VERSION=\"<!(node -p \"require('./package.json').version\")\""
      ],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc": ["-std=c++17", "-O3", "-fexceptions", "-fvisibility=hidden"],
      "ldflags": ["-pthread"]
    }
  ]
}
