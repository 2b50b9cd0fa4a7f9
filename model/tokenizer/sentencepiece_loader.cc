// Loads accllm_sentencepiece_shim (SentencePiece and nothing else) once per
// process, deep-bound, and makes backends from it. See sentencepiece_backend.h.
#include <dlfcn.h>

#include <mutex>

#include "model/tokenizer/sentencepiece_backend.h"

namespace accllm {
namespace {

using Factory = SentencePieceBackend* (*)();

struct Shim {
  Factory factory = nullptr;
  std::string error;
};

const Shim& LoadShim() {
  static const Shim shim = [] {
    Shim s;
    // Sanitizer runtimes reject RTLD_DEEPBIND; sanitized builds run no gRPC
    // process that loads SentencePiece, so a plain local load does there.
#ifdef ACCLLM_SPM_NO_DEEPBIND
    const int flags = RTLD_NOW | RTLD_LOCAL;
#else
    const int flags = RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND;
#endif
    void* handle = dlopen(ACCLLM_SPM_SHIM_PATH, flags);
    if (handle == nullptr) {
      s.error = std::string("cannot load the SentencePiece backend ") + ACCLLM_SPM_SHIM_PATH +
                ": " + dlerror();
      return s;
    }
    s.factory = reinterpret_cast<Factory>(dlsym(handle, "accllm_new_sentencepiece_backend"));
    if (s.factory == nullptr) s.error = std::string("SentencePiece backend: ") + dlerror();
    return s;  // never dlclose: backends may live until exit
  }();
  return shim;
}

}  // namespace

std::unique_ptr<SentencePieceBackend> SentencePieceBackend::Create(std::string* error) {
  const Shim& shim = LoadShim();
  if (shim.factory == nullptr) {
    if (error != nullptr) *error = shim.error;
    return nullptr;
  }
  return std::unique_ptr<SentencePieceBackend>(shim.factory());
}

}  // namespace accllm
