#include "hallpass_runtime.h"

/// The Swift runtime's hook (swift/Runtime/Concurrency.h): a pointer to a swiftcc function
/// `(Job *, original) -> void` that, when set, receives every job for the global executor.
/// Declared as a plain pointer: only its address and size matter here.
extern const void *swift_task_enqueueGlobal_hook;

bool hp_install_enqueue_global_hook(const void *hook) {
    const void *expected = 0;
    return __atomic_compare_exchange_n(&swift_task_enqueueGlobal_hook, &expected, hook, false,
                                       __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}

#ifndef HALLPASS_COMMIT
#define HALLPASS_COMMIT "unknown"
#endif

const char *hp_build_commit(void) { return HALLPASS_COMMIT; }

#include <malloc.h>

void hp_fix_malloc_thresholds(size_t bytes) {
    mallopt(M_MMAP_THRESHOLD, (int)bytes);
    mallopt(M_TRIM_THRESHOLD, (int)bytes);
}
