#define _GNU_SOURCE
#include <fcntl.h>
#include <pty.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include "hallpass_pty.h"

pid_t hp_pty_spawn(const char *path, char *const argv[], char *const envp[],
                   unsigned short rows, unsigned short cols, int handover, int *master) {
    struct winsize size = { .ws_row = rows, .ws_col = cols };
    int fd = -1;
    pid_t pid = forkpty(&fd, NULL, NULL, &size);
    if (pid < 0) return -1;
    if (pid == 0) {
        /* Only async-signal-safe calls between fork and exec. */
        struct sigaction dfl = { .sa_handler = SIG_DFL };
        for (int s = 1; s < NSIG; s++) sigaction(s, &dfl, NULL);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        if (handover >= 0) {
            /* dup2 leaves the copy without close-on-exec; the same fd needs it cleared. */
            if (handover == 3) fcntl(3, F_SETFD, 0);
            else if (dup2(handover, 3) < 0) _exit(126);
            closefrom(4);
        } else {
            closefrom(3);
        }
        execve(path, argv, envp);
        _exit(127);
    }
    fcntl(fd, F_SETFD, FD_CLOEXEC);
    *master = fd;
    return pid;
}

int hp_pty_resize(int master, unsigned short rows, unsigned short cols) {
    struct winsize size = { .ws_row = rows, .ws_col = cols };
    return ioctl(master, TIOCSWINSZ, &size);
}

int hp_pipe_cloexec(int ends[2]) {
    return pipe2(ends, O_CLOEXEC);
}
