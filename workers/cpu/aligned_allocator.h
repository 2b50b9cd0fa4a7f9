// std::vector storage aligned to 64 bytes (a cache line, an AVX-512 register).
#ifndef ACCLLM_WORKERS_CPU_ALIGNED_ALLOCATOR_H_
#define ACCLLM_WORKERS_CPU_ALIGNED_ALLOCATOR_H_

#include <cstddef>
#include <new>
#include <vector>

namespace accllm {

template <typename T>
struct AlignedAllocator {
  using value_type = T;
  static constexpr std::align_val_t kAlign{64};
  AlignedAllocator() = default;
  template <typename U>
  AlignedAllocator(const AlignedAllocator<U>&) {}
  T* allocate(size_t n) { return static_cast<T*>(::operator new(n * sizeof(T), kAlign)); }
  void deallocate(T* p, size_t) { ::operator delete(p, kAlign); }
  template <typename U>
  bool operator==(const AlignedAllocator<U>&) const { return true; }
};

template <typename T>
using AlignedVector = std::vector<T, AlignedAllocator<T>>;

}  // namespace accllm

#endif  // ACCLLM_WORKERS_CPU_ALIGNED_ALLOCATOR_H_
