// Self-registering addon exports: each op family's addon file (native/addon/ops_*.cc) declares
// its functions with MM_ADDON_EXPORT, so adding a family never edits addon.cc.
#pragma once
#include <napi.h>

#include <utility>
#include <vector>

namespace mm_addon {

using ExportList = std::vector<std::pair<const char*, Napi::Function::Callback>>;
ExportList& registered_exports();

struct ExportRegistration {
  ExportRegistration(const char* name, Napi::Function::Callback fn) { registered_exports().emplace_back(name, fn); }
};

}  // namespace mm_addon

#define MM_ADDON_EXPORT(name, fn) static const ::mm_addon::ExportRegistration mm_addon_export_##fn(name, fn)
