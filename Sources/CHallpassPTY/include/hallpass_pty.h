#ifndef HALLPASS_PTY_H
#define HALLPASS_PTY_H
#include <sys/types.h>

/// Forks a child on a new pseudo-terminal of rows x cols and execs `path` there with `argv` and
/// `envp`; the child gets default signal dispositions, an empty signal mask and no other open
/// files, except `handover` (when >= 0) as its fd 3. Returns the child's pid and stores the
/// master side in *master (close-on-exec), or -1.
pid_t hp_pty_spawn(const char *path, char *const argv[], char *const envp[],
                   unsigned short rows, unsigned short cols, int handover, int *master);

/// Tells the terminal behind `master` its new size (the child gets SIGWINCH). 0 or -1.
int hp_pty_resize(int master, unsigned short rows, unsigned short cols);

/// pipe2(ends, O_CLOEXEC): both ends close on exec, so no other child can inherit them.
int hp_pipe_cloexec(int ends[2]);

#endif
