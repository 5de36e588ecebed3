#ifndef HALLPASS_PTY_H
#define HALLPASS_PTY_H
#include <sys/types.h>

/// Forks a child on a new pseudo-terminal of rows x cols and execs `path` there with `argv` and
/// `envp`; the child gets default signal dispositions, an empty signal mask and no other open
/// files. Returns the child's pid and stores the master side in *master (close-on-exec), or -1.
pid_t hp_pty_spawn(const char *path, char *const argv[], char *const envp[],
                   unsigned short rows, unsigned short cols, int *master);

/// Tells the terminal behind `master` its new size (the child gets SIGWINCH). 0 or -1.
int hp_pty_resize(int master, unsigned short rows, unsigned short cols);

#endif
