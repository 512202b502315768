// gnuplot-iostream behind a C API. We start gnuplot ourselves (rather than
// letting gnuplot-iostream popen it) so that its stderr and stdout come back
// through pipes: gnuplot's error messages are then reported to the caller
// instead of scrolling past on the terminal.
#include "CGnuplot.h"

#include <gnuplot-iostream.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

struct finch_gnuplot {
    pid_t pid = -1;
    Gnuplot *stream = nullptr;
    std::thread out_reader;
    std::thread err_reader;
    std::string out_text;
    std::string err_text;
    bool finished = false;
    int status = 0;
};

namespace {

void set_error(finch_gnuplot_error *error, int code, const std::string &message) {
    if (!error) return;
    error->code = code;
    std::snprintf(error->message, sizeof error->message, "%s", message.c_str());
}

void clear_error(finch_gnuplot_error *error) {
    if (!error) return;
    error->code = 0;
    error->message[0] = 0;
}

// Finds an executable on PATH, so a missing gnuplot is reported before spawning.
std::string find_executable(const std::string &name) {
    if (name.find('/') != std::string::npos) {
        return access(name.c_str(), X_OK) == 0 ? name : std::string();
    }
    const char *path = std::getenv("PATH");
    std::string dirs = path ? path : "/usr/local/bin:/usr/bin:/bin";
    size_t start = 0;
    while (start <= dirs.size()) {
        size_t end = dirs.find(':', start);
        if (end == std::string::npos) end = dirs.size();
        std::string dir = dirs.substr(start, end - start);
        if (dir.empty()) dir = ".";
        std::string candidate = dir + "/" + name;
        struct stat info;
        if (stat(candidate.c_str(), &info) == 0 && S_ISREG(info.st_mode) && access(candidate.c_str(), X_OK) == 0) {
            return candidate;
        }
        start = end + 1;
    }
    return std::string();
}

void drain(int fd, std::string *into) {
    char buffer[4096];
    for (;;) {
        ssize_t n = read(fd, buffer, sizeof buffer);
        if (n > 0) { into->append(buffer, static_cast<size_t>(n)); continue; }
        if (n < 0 && errno == EINTR) continue;
        break;
    }
    close(fd);
}

// gnuplot reports script errors on stderr, prefixed with the offending line
// and a line holding "^"; warnings alone do not make a plot fail.
bool stderr_reports_error(const std::string &text) {
    return text.find("line ") != std::string::npos && text.find("^") != std::string::npos;
}

}  // namespace

extern "C" finch_gnuplot *finch_gnuplot_open(const char *executable, int capture_stdout, finch_gnuplot_error *error) {
    clear_error(error);
    std::string name = executable ? executable : "gnuplot";
    std::string resolved = find_executable(name);
    if (resolved.empty()) {
        set_error(error, 1, "gnuplot is not installed (no '" + name + "' on PATH): install it with "
                  "'apt-get install gnuplot-nox libgnuplot-iostream-dev', or run 'make setup'");
        return nullptr;
    }
    // A gnuplot that dies must not kill us with SIGPIPE: writes then fail with EPIPE instead.
    std::signal(SIGPIPE, SIG_IGN);

    int in_pipe[2], err_pipe[2], out_pipe[2] = {-1, -1};
    if (pipe2(in_pipe, O_CLOEXEC) != 0) { set_error(error, 2, std::string("pipe: ") + std::strerror(errno)); return nullptr; }
    if (pipe2(err_pipe, O_CLOEXEC) != 0) {
        close(in_pipe[0]); close(in_pipe[1]);
        set_error(error, 2, std::string("pipe: ") + std::strerror(errno));
        return nullptr;
    }
    if (capture_stdout && pipe2(out_pipe, O_CLOEXEC) != 0) {
        close(in_pipe[0]); close(in_pipe[1]); close(err_pipe[0]); close(err_pipe[1]);
        set_error(error, 2, std::string("pipe: ") + std::strerror(errno));
        return nullptr;
    }

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in_pipe[0], 0);
    posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
    if (capture_stdout) posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);

    std::vector<char *> argv = {const_cast<char *>(resolved.c_str()), nullptr};
    pid_t pid = -1;
    int rc = posix_spawn(&pid, resolved.c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    close(in_pipe[0]);
    close(err_pipe[1]);
    if (capture_stdout) close(out_pipe[1]);
    if (rc != 0) {
        close(in_pipe[1]); close(err_pipe[0]);
        if (capture_stdout) close(out_pipe[0]);
        set_error(error, 2, "cannot start " + resolved + ": " + std::strerror(rc));
        return nullptr;
    }

    auto *gp = new finch_gnuplot();
    gp->pid = pid;
    gp->err_reader = std::thread(drain, err_pipe[0], &gp->err_text);
    if (capture_stdout) gp->out_reader = std::thread(drain, out_pipe[0], &gp->out_text);
    try {
        FILE *fh = fdopen(in_pipe[1], "w");
        if (!fh) throw std::runtime_error(std::string("fdopen: ") + std::strerror(errno));
        gp->stream = new Gnuplot(fh);
    } catch (const std::exception &e) {
        close(in_pipe[1]);
        finch_gnuplot_free(gp);
        set_error(error, 2, e.what());
        return nullptr;
    }
    return gp;
}

namespace {
template <typename Body>
int guarded(finch_gnuplot *gp, finch_gnuplot_error *error, Body body) {
    clear_error(error);
    if (!gp || !gp->stream) { set_error(error, 3, "gnuplot is not running"); return -1; }
    try {
        body(*gp->stream);
        if (!gp->stream->good()) { set_error(error, 3, "writing to gnuplot failed (did it exit?)"); return -1; }
        return 0;
    } catch (const std::exception &e) {
        set_error(error, 3, std::string("writing to gnuplot failed: ") + e.what());
        return -1;
    }
}

std::string quoted(const char *text) {
    std::string out = "'";
    for (const char *p = text; *p; ++p) {
        if (*p == '\'') out += "''"; else out += *p;
    }
    return out + "'";
}
}  // namespace

extern "C" int finch_gnuplot_command(finch_gnuplot *gp, const char *line, finch_gnuplot_error *error) {
    return guarded(gp, error, [&](Gnuplot &stream) { stream << line << "\n"; });
}

extern "C" int finch_gnuplot_set_output(finch_gnuplot *gp, const char *terminal, const char *path, finch_gnuplot_error *error) {
    return guarded(gp, error, [&](Gnuplot &stream) {
        stream << "set terminal " << terminal << "\n";
        if (path) stream << "set output " << quoted(path) << "\n"; else stream << "set output\n";
    });
}

extern "C" int finch_gnuplot_send_series(finch_gnuplot *gp, const double *x, const double *y, size_t n, finch_gnuplot_error *error) {
    return guarded(gp, error, [&](Gnuplot &stream) {
        std::vector<std::pair<double, double>> points;
        points.reserve(n);
        for (size_t i = 0; i < n; ++i) points.emplace_back(x[i], y[i]);
        stream.send1d(points);
    });
}

extern "C" int finch_gnuplot_finish(finch_gnuplot *gp, finch_gnuplot_error *error) {
    clear_error(error);
    if (!gp) { set_error(error, 3, "gnuplot is not running"); return -1; }
    if (!gp->finished) {
        if (gp->stream) {
            try { *gp->stream << "exit\n"; } catch (...) {}
            try { delete gp->stream; } catch (...) {}
            gp->stream = nullptr;
        }
        if (gp->err_reader.joinable()) gp->err_reader.join();
        if (gp->out_reader.joinable()) gp->out_reader.join();
        int status = 0;
        while (waitpid(gp->pid, &status, 0) < 0 && errno == EINTR) {}
        gp->status = status;
        gp->finished = true;
    }
    bool exited_ok = WIFEXITED(gp->status) && WEXITSTATUS(gp->status) == 0;
    if (!exited_ok || stderr_reports_error(gp->err_text)) {
        std::string why = gp->err_text.empty() ? "gnuplot exited with status " + std::to_string(WEXITSTATUS(gp->status))
                                               : gp->err_text;
        set_error(error, 4, why);
        return -1;
    }
    return 0;
}

extern "C" const char *finch_gnuplot_stdout(const finch_gnuplot *gp) { return gp ? gp->out_text.c_str() : ""; }
extern "C" const char *finch_gnuplot_stderr(const finch_gnuplot *gp) { return gp ? gp->err_text.c_str() : ""; }

extern "C" void finch_gnuplot_free(finch_gnuplot *gp) {
    if (!gp) return;
    if (!gp->finished && gp->pid > 0) finch_gnuplot_finish(gp, nullptr);
    if (gp->err_reader.joinable()) gp->err_reader.join();
    if (gp->out_reader.joinable()) gp->out_reader.join();
    delete gp;
}
