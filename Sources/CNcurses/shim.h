/* ncursesw for Swift 6: the macros Swift does not import, as inline functions.
   NCURSES_WIDECHAR must precede curses.h (cchar_t, add_wch, get_wch, WACS_*). */
#ifndef LIPSCOPE_CNCURSES_SHIM_H
#define LIPSCOPE_CNCURSES_SHIM_H
#ifndef NCURSES_WIDECHAR
#define NCURSES_WIDECHAR 1
#endif
#include <locale.h>
#include <langinfo.h>
#include <wchar.h>
#include <signal.h>
#include <ncursesw/curses.h>

static inline attr_t cn_A_NORMAL(void)    { return A_NORMAL; }
static inline attr_t cn_A_BOLD(void)      { return A_BOLD; }
static inline attr_t cn_A_REVERSE(void)   { return A_REVERSE; }
static inline attr_t cn_A_DIM(void)       { return A_DIM; }
static inline attr_t cn_A_UNDERLINE(void) { return A_UNDERLINE; }
static inline int    cn_KEY_F(int n)      { return KEY_F(n); }
static inline void   cn_getmaxyx(WINDOW *w, int *y, int *x) { getmaxyx(w, *y, *x); }
static inline chtype cn_ACS(char c)       { return NCURSES_ACS(c); }
static inline const cchar_t *cn_WACS(char c) { return NCURSES_WACS(c); }
static inline attr_t cn_COLOR_PAIR(int n) { return (attr_t)COLOR_PAIR(n); }

/* newterm on its own output stream (the caller's duplicate of the terminal's descriptor),
   reading stdin; returns the new screen's stdscr, or NULL. Swift 6 cannot touch stdin/stdscr. */
static inline WINDOW *cn_newterm_on(FILE *out) {
    if (newterm(NULL, out, stdin) == NULL) return NULL;
    return stdscr;
}

/* Call BEFORE initscr(): a UTF-8 locale, falling back to C.UTF-8 when LANG is C or unset. */
static inline int cn_setup_utf8_locale(void) {
    setlocale(LC_ALL, "");
    const char *cs = nl_langinfo(CODESET);
    if (cs && (cs[0] == 'U' || cs[0] == 'u') && (cs[1] == 'T' || cs[1] == 't')) return 1;
    return setlocale(LC_CTYPE, "C.UTF-8") != NULL;
}

/* Signal-mask helpers (sigset_t macros and sigemptyset are awkward from Swift). */
static inline void cn_unblock_all_signals(void) {
    sigset_t s; sigemptyset(&s); pthread_sigmask(SIG_SETMASK, &s, NULL);
}
/* Blocks SIGWINCH in the calling thread; returns the previous mask through *old. */
static inline void cn_block_sigwinch(sigset_t *old) {
    sigset_t s; sigemptyset(&s); sigaddset(&s, SIGWINCH); pthread_sigmask(SIG_BLOCK, &s, old);
}
static inline void cn_restore_sigmask(const sigset_t *old) { pthread_sigmask(SIG_SETMASK, old, NULL); }
#endif
