// A small C API over gnuplot-iostream, so Swift can drive gnuplot without C++
// exceptions crossing the boundary: every call reports failure through its
// return value and a finch_gnuplot_error, never by throwing.
#ifndef FINCH_CGNUPLOT_H
#define FINCH_CGNUPLOT_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Why a call failed: a code and a readable message (empty on success).
typedef struct finch_gnuplot_error {
    int code;              // 0 ok, 1 gnuplot missing, 2 spawn failed, 3 write failed, 4 gnuplot failed
    char message[2048];
} finch_gnuplot_error;

/// One running gnuplot process fed through a pipe.
typedef struct finch_gnuplot finch_gnuplot;

/// Starts gnuplot (`executable`, or "gnuplot" from PATH when NULL). With
/// capture_stdout, what gnuplot prints (the dumb terminal) is kept for
/// finch_gnuplot_stdout; otherwise it goes to our stdout. Returns NULL on failure.
finch_gnuplot *finch_gnuplot_open(const char *executable, int capture_stdout, finch_gnuplot_error *error);

/// Sends one line of gnuplot script (a newline is added).
int finch_gnuplot_command(finch_gnuplot *gp, const char *line, finch_gnuplot_error *error);

/// Sets the terminal (e.g. "pngcairo size 800,500") and the output file (NULL: stdout).
int finch_gnuplot_set_output(finch_gnuplot *gp, const char *terminal, const char *path, finch_gnuplot_error *error);

/// Sends one inline data block of n (x, y) points, ended by "e", for a preceding `plot '-'`.
int finch_gnuplot_send_series(finch_gnuplot *gp, const double *x, const double *y, size_t n, finch_gnuplot_error *error);

/// Closes gnuplot's input and waits for it to finish. Fails with code 4 and
/// gnuplot's own messages when gnuplot reported an error or exited non-zero.
int finch_gnuplot_finish(finch_gnuplot *gp, finch_gnuplot_error *error);

/// What gnuplot printed on stdout (captured mode), valid until finch_gnuplot_free.
const char *finch_gnuplot_stdout(const finch_gnuplot *gp);

/// What gnuplot printed on stderr, valid until finch_gnuplot_free.
const char *finch_gnuplot_stderr(const finch_gnuplot *gp);

/// Finishes gnuplot if still running and frees the handle.
void finch_gnuplot_free(finch_gnuplot *gp);

#ifdef __cplusplus
}
#endif

#endif
