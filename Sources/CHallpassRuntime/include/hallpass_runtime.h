#ifndef HALLPASS_RUNTIME_H
#define HALLPASS_RUNTIME_H
#include <stdbool.h>
#include <stddef.h>

/// Stores `hook` in the Swift runtime's `swift_task_enqueueGlobal_hook` if nothing is there yet
/// (an atomic compare-and-exchange, as NIO's own installer does). Returns whether it was stored.
/// Linking to the variable, instead of finding it with dlsym as NIO does, also works in a static
/// binary, where the runtime's symbols are hidden.
bool hp_install_enqueue_global_hook(const void *hook);

/// Fixes glibc malloc's mmap and trim thresholds at `bytes` (both are otherwise raised at run
/// time, up to 32 MiB, each time a large block is freed). Setting them turns that off: every
/// block of `bytes` or more gets its own mapping and goes back to the kernel when freed, and free
/// memory above `bytes` at the top of the heap is returned. See EventLoopExecutor's caller.
void hp_fix_malloc_thresholds(size_t bytes);

/// The commit this binary was built from (`HALLPASS_COMMIT` when the package was built, see
/// Package.swift), or "unknown".
const char *hp_build_commit(void);

#endif
