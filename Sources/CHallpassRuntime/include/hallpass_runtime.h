#ifndef HALLPASS_RUNTIME_H
#define HALLPASS_RUNTIME_H
#include <stdbool.h>

/// Stores `hook` in the Swift runtime's `swift_task_enqueueGlobal_hook` if nothing is there yet
/// (an atomic compare-and-exchange, as NIO's own installer does). Returns whether it was stored.
/// Linking to the variable, instead of finding it with dlsym as NIO does, also works in a static
/// binary, where the runtime's symbols are hidden.
bool hp_install_enqueue_global_hook(const void *hook);

/// The commit this binary was built from (`HALLPASS_COMMIT` when the package was built, see
/// Package.swift), or "unknown".
const char *hp_build_commit(void);

#endif
