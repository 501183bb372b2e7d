// Replaces operator new/delete and the malloc family of the whole program with versions that
// count every allocation in allocations(), forwarding to glibc's allocator under its own names (so
// g++ sees no new/free mismatch). Include it in exactly one translation unit of a program (it
// defines the global functions), and not in a sanitizer build: the sanitizers own the allocator.
// Used by the realtime_inference example and by the no-allocation tests.
#pragma once

#include <atomic>
#include <cstddef>
#include <new>

extern "C" void* __libc_malloc(std::size_t);
extern "C" void* __libc_calloc(std::size_t, std::size_t);
extern "C" void* __libc_realloc(void*, std::size_t);
extern "C" void* __libc_memalign(std::size_t, std::size_t);
extern "C" void __libc_free(void*);

namespace count_allocations {
inline std::atomic<long> counter{0};
// The number of allocations the program has made so far.
inline long allocations() noexcept { return counter.load(); }
}  // namespace count_allocations

extern "C" {
void* malloc(std::size_t n) { ++count_allocations::counter; return __libc_malloc(n); }
void* calloc(std::size_t n, std::size_t m) { ++count_allocations::counter; return __libc_calloc(n, m); }
void* realloc(void* p, std::size_t n) { ++count_allocations::counter; return __libc_realloc(p, n); }
void* aligned_alloc(std::size_t a, std::size_t n) { ++count_allocations::counter; return __libc_memalign(a, n); }
int posix_memalign(void** p, std::size_t a, std::size_t n) {
    ++count_allocations::counter;
    *p = __libc_memalign(a, n);
    return *p ? 0 : 12;  // ENOMEM
}
void free(void* p) { __libc_free(p); }
}
void* operator new(std::size_t n) {
    ++count_allocations::counter;
    if (void* p = __libc_malloc(n ? n : 1)) return p;
    throw std::bad_alloc{};
}
void* operator new[](std::size_t n) { return operator new(n); }
void* operator new(std::size_t n, std::align_val_t a) {
    ++count_allocations::counter;
    if (void* p = __libc_memalign(static_cast<std::size_t>(a), n ? n : 1)) return p;
    throw std::bad_alloc{};
}
void* operator new[](std::size_t n, std::align_val_t a) { return operator new(n, a); }
void operator delete(void* p) noexcept { __libc_free(p); }
void operator delete[](void* p) noexcept { __libc_free(p); }
void operator delete(void* p, std::size_t) noexcept { __libc_free(p); }
void operator delete[](void* p, std::size_t) noexcept { __libc_free(p); }
void operator delete(void* p, std::align_val_t) noexcept { __libc_free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { __libc_free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { __libc_free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { __libc_free(p); }
