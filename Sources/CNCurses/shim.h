// The few ncursesw entry points Hallpass's terminal backend needs, as plain functions: Swift
// cannot see ncurses' function-like macros (getmaxyx, COLOR_PAIR, A_BOLD, KEY_F).
#ifndef HALLPASS_CNCURSES_SHIM_H
#define HALLPASS_CNCURSES_SHIM_H

#ifndef _XOPEN_SOURCE_EXTENDED
#define _XOPEN_SOURCE_EXTENDED 1
#endif
#ifndef NCURSES_WIDECHAR
#define NCURSES_WIDECHAR 1
#endif
#include <errno.h>
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <wchar.h>
#include <ncursesw/curses.h>

static inline void hp_setlocale(void) { setlocale(LC_ALL, ""); }

/// Starts ncurses on the controlling terminal: raw keys (so ^C, ^Z, ^\ arrive as keys and
/// never as signals), no echo, keypad decoding, short ESC delay, hidden cursor, colours.
static inline int hp_start(void) {
    if (initscr() == NULL) return -1;
    raw();
    noecho();
    nonl();
    keypad(stdscr, TRUE);
    intrflush(stdscr, FALSE);
    set_escdelay(25);
    curs_set(0);
    // Terminals that ignore keypad-transmit mode send cursor keys as CSI sequences; teach
    // ncurses both forms, so an arrow key can never arrive as Esc (which means "back").
    define_key("\033[A", KEY_UP);
    define_key("\033[B", KEY_DOWN);
    define_key("\033[C", KEY_RIGHT);
    define_key("\033[D", KEY_LEFT);
    define_key("\033[H", KEY_HOME);
    define_key("\033[F", KEY_END);
    define_key("\033OA", KEY_UP);
    define_key("\033OB", KEY_DOWN);
    define_key("\033OC", KEY_RIGHT);
    define_key("\033OD", KEY_LEFT);
    define_key("\033[1~", KEY_HOME);
    define_key("\033[4~", KEY_END);
    define_key("\033[3~", KEY_DC);
    define_key("\033[Z", KEY_BTAB);
    if (has_colors()) {
        start_color();
        use_default_colors();
    }
    return 0;
}

static inline void hp_stop(void) { endwin(); }
static inline int hp_width(void) { int y, x; getmaxyx(stdscr, y, x); (void)y; return x; }
static inline int hp_height(void) { int y, x; getmaxyx(stdscr, y, x); (void)x; return y; }
static inline int hp_has_colors(void) { return has_colors() ? 1 : 0; }
static inline int hp_colors(void) { return COLORS; }
static inline int hp_color_pairs(void) { return COLOR_PAIRS; }
static inline int hp_init_pair(int pair, int fg, int bg) { return init_extended_pair(pair, fg, bg); }

static inline unsigned int hp_attr_bold(void) { return A_BOLD; }
static inline unsigned int hp_attr_underline(void) { return A_UNDERLINE; }
static inline unsigned int hp_attr_reverse(void) { return A_REVERSE; }
static inline unsigned int hp_attr_dim(void) { return A_DIM; }

/// Draws one cell: `text` is one grapheme (a base character and its combining marks).
static inline int hp_put(int y, int x, const wchar_t *text, unsigned int attrs, int pair) {
    cchar_t cell;
    int extended = pair;
    if (setcchar(&cell, text, (attr_t)attrs, 0, &extended) != OK) return ERR;
    return mvadd_wch(y, x, &cell);
}

static inline void hp_refresh(void) { refresh(); }
static inline void hp_erase(void) { erase(); }

/// Clears the screen and, with the xterm `CSI 3 J` sequence, the terminal's scrollback.
static inline void hp_wipe(void) {
    erase();
    clear();
    refresh();
    fputs("\033[H\033[2J\033[3J", stdout);
    fflush(stdout);
    clearok(curscr, TRUE);
}

/// Waits up to `ms` for input (0: only what is already there). Returns 0 for a character, 1
/// for a key code, -1 for nothing.
static inline int hp_get(int ms, unsigned int *out) {
    wint_t ch = 0;
    timeout(ms);
    int r = get_wch(&ch);
    *out = (unsigned int)ch;
    if (r == OK) return 0;
    if (r == KEY_CODE_YES) return 1;
    return -1;
}

/// The write end of the backend's wake pipe, for the SIGWINCH handler (-1 when not watching),
/// and the handler it replaced. Function-local statics: this header has no .c file of its own.
static inline volatile sig_atomic_t *hp_resize_wake_fd(void) { static volatile sig_atomic_t fd = -1; return &fd; }
static inline struct sigaction *hp_previous_winch(void) { static struct sigaction previous; return &previous; }

/// Chains the handler ncurses installed (which marks the screen resized, so the next get_wch
/// returns KEY_RESIZE) and wakes `hp_wait`, whichever thread the signal was delivered to.
/// Only async-signal-safe calls: the previous handler's own, and write(2).
static void hp_on_winch(int signal_number, siginfo_t *info, void *context) {
    int saved = errno;
    struct sigaction *previous = hp_previous_winch();
    if (previous->sa_flags & SA_SIGINFO) {
        if (previous->sa_sigaction) previous->sa_sigaction(signal_number, info, context);
    } else if (previous->sa_handler != SIG_DFL && previous->sa_handler != SIG_IGN) {
        previous->sa_handler(signal_number);
    }
    int fd = (int)*hp_resize_wake_fd();
    if (fd >= 0) {
        char byte = 'r';
        ssize_t written = write(fd, &byte, 1);
        (void)written;
    }
    errno = saved;
}

/// Call after hp_start (ncurses installs its SIGWINCH handler there).
static inline int hp_watch_resize(int wake_fd) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_sigaction = hp_on_winch;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_SIGINFO | SA_RESTART;
    *hp_resize_wake_fd() = wake_fd;
    return sigaction(SIGWINCH, &action, hp_previous_winch());
}

static inline void hp_unwatch_resize(void) {
    sigaction(SIGWINCH, hp_previous_winch(), NULL);
    *hp_resize_wake_fd() = -1;
}

/// Blocks, with no timeout, until the terminal has input (when `watch_input`), `wake_fd` is
/// readable, or a signal arrives. Returns bits: 1 input ready, 2 woken, 4 the terminal hung up.
static inline int hp_wait(int wake_fd, int watch_input) {
    struct pollfd fds[2];
    fds[0].fd = watch_input ? STDIN_FILENO : -1;
    fds[0].events = POLLIN;
    fds[0].revents = 0;
    fds[1].fd = wake_fd;
    fds[1].events = POLLIN;
    fds[1].revents = 0;
    if (poll(fds, 2, -1) <= 0) return 0;
    return ((fds[0].revents & POLLIN) ? 1 : 0) | ((fds[1].revents & POLLIN) ? 2 : 0)
        | ((fds[0].revents & (POLLHUP | POLLERR | POLLNVAL)) ? 4 : 0);
}

static inline int hp_key_f(int n) { return KEY_F(n); }
static inline int hp_key_resize(void) { return KEY_RESIZE; }
static inline int hp_key_up(void) { return KEY_UP; }
static inline int hp_key_down(void) { return KEY_DOWN; }
static inline int hp_key_left(void) { return KEY_LEFT; }
static inline int hp_key_right(void) { return KEY_RIGHT; }
static inline int hp_key_home(void) { return KEY_HOME; }
static inline int hp_key_end(void) { return KEY_END; }
static inline int hp_key_backspace(void) { return KEY_BACKSPACE; }
static inline int hp_key_dc(void) { return KEY_DC; }
static inline int hp_key_btab(void) { return KEY_BTAB; }
static inline int hp_key_enter(void) { return KEY_ENTER; }

#endif
