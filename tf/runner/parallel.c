/* parallel.c: the parent of `tf run --parallel N`. It announces what a serial run
 * announces (sources, definitions, test cases, all with their ids), starts N workers
 * (worker.c) and hands them test cases in run order, one at a time each. Workers send
 * their events as JSON lines; the parent holds a test case's events until its attempt
 * ends and then feeds them to the reporters in one piece, so pretty and progress output
 * never interleave two scenarios and every report reads as a serial run's would.
 *
 * Workers are this program again (fork, then exec of /proc/self/exe with its own command
 * line; the worker's tf_run_main then parses the arguments this one got, sent first over
 * the socket), not bare forks: by the time a worker is started or restarted the parent
 * has threads (the signal watcher, perhaps a plug-in's), and a forked copy of a threaded
 * process may inherit locks held by threads that do not exist in it; exec also gives each
 * worker its own sanitizer runtime, its own plug-ins loaded by --plugin, and default
 * signal dispositions. Each worker leads its own process group, so a terminal's Ctrl-C
 * reaches only the parent, which forwards every SIGINT/SIGTERM it gets once to every
 * worker: the first interrupts the step in flight (After hooks and cleanups still run),
 * a second cuts those short, as in a serial run. A worker dies with the parent
 * (PR_SET_PDEATHSIG: SIGTERM, the same interrupt).
 *
 * A worker that dies in a test case (a crash, a kill) fails that attempt: the step in
 * flight fails with how the worker ended and the last lines of its stderr, the rest are
 * skipped, --retry may run it again, and a new worker takes the old one's place.
 * Scenarios tagged @serial start only when no other runs, and nothing starts beside them.
 * --fail-fast stops handing out cases and interrupts those running. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include "runner_priv.h"

#define ERR_TAIL 20 /* lines of a dead worker's stderr in its failure */

typedef enum { W_STARTING, W_IDLE, W_BUSY, W_QUITTING } wstate;

typedef struct {
    guint serial; /* 1, 2, ...: a restarted worker gets a new number (and id prefix) */
    pid_t pid;
    int fd, err_fd; /* -1 once closed */
    GString *in, *err;
    GQueue err_tail; /* char*: its last ERR_TAIL stderr lines */
    wstate state;
    int job_case; /* the test case it runs, -1 */
    guint job_attempt;
    gboolean case_serial, signalled;
    /* The attempt in flight: its events, held until it ends. */
    GPtrArray *held; /* tf_event* */
    GPtrArray *held_global; /* its BeforeAll or AfterAll events, fed in one piece */
    char tcs_id[TF_ID_LEN];
    gboolean step_open; /* a step started and did not finish */
    guint steps_done;
    tf_result worst;      /* of the attempt's steps so far */
    gboolean case_over;   /* its last attempt ended: only the "done" note is missing */
} wproc;

typedef struct {
    int index;
    guint attempt;
} job;

typedef struct {
    tf_run *run;
    char **argv;        /* this process's, from /proc/self/cmdline */
    int devnull;
    guint next_serial;
    GPtrArray *procs;   /* wproc*, live workers */
    GQueue jobs;        /* job*, in run order */
    guint busy;
    gboolean serial_running;
    gboolean stop;        /* no more cases: fail-fast, interrupt, BeforeAll failed */
    gboolean announced;   /* the test cases were emitted */
    gboolean failed;      /* a case failed the run */
    gint signals_seen;
    GString *failures;    /* what failed the run outside test cases */
    GHashTable *hook_runs; /* hook run id -> hook id (borrowed from the registry) */
    guint synth_ids;
} parallel;

/* ---- starting workers ---- */

static char **self_argv(void)
{
    char *data = NULL;
    gsize len = 0;
    if (!g_file_get_contents("/proc/self/cmdline", &data, &len, NULL) || len == 0) {
        g_free(data);
        return NULL;
    }
    GPtrArray *a = g_ptr_array_new();
    for (gsize i = 0; i < len; i += strlen(data + i) + 1)
        g_ptr_array_add(a, g_strdup(data + i));
    g_ptr_array_add(a, NULL);
    g_free(data);
    return (char **)g_ptr_array_free(a, FALSE);
}

/* A descriptor at 10 or above, close-on-exec, in place of fd (closed). */
static int high_fd(int fd)
{
    int h = fcntl(fd, F_DUPFD_CLOEXEC, 10);
    close(fd);
    return h;
}

static void send_line(wproc *w, const char *text);

static wproc *spawn(parallel *P, GError **error)
{
    int sv[2], ep[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
        g_set_error(error, TF_ERROR, TF_ERROR_IO, "--parallel: socketpair: %s", g_strerror(errno));
        return NULL;
    }
    if (pipe2(ep, O_CLOEXEC) < 0) {
        g_set_error(error, TF_ERROR, TF_ERROR_IO, "--parallel: pipe: %s", g_strerror(errno));
        close(sv[0]);
        close(sv[1]);
        return NULL;
    }
    int child_sock = high_fd(sv[1]), child_err = high_fd(ep[1]);
    guint serial = ++P->next_serial;
    char *cfg = g_strdup_printf("3 %u %" G_GINT64_FORMAT " %" G_GUINT64_FORMAT, serial,
                                P->run->store ? P->run->store_run : 0, P->run->opts.seed);
    char **env = g_environ_setenv(g_get_environ(), TF_WORKER_ENV, cfg, TRUE);
    g_free(cfg);
    pid_t parent = getpid();
    sigset_t none;
    sigemptyset(&none);
    pid_t pid = fork();
    if (pid == 0) {
        /* Only async-signal-safe calls until exec: other threads may hold locks. */
        setpgid(0, 0);
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != parent)
            _exit(127);
        dup2(P->devnull, 0);
        dup2(child_err, 1);
        dup2(child_err, 2);
        dup2(child_sock, 3); /* both >= 10: nothing is overwritten */
        sigprocmask(SIG_SETMASK, &none, NULL);
        execve("/proc/self/exe", P->argv, env);
        _exit(127);
    }
    int e = errno;
    g_strfreev(env);
    close(child_sock);
    close(child_err);
    if (pid < 0) {
        g_set_error(error, TF_ERROR, TF_ERROR_IO, "--parallel: fork: %s", g_strerror(e));
        close(sv[0]);
        close(ep[0]);
        return NULL;
    }
    wproc *w = g_new0(wproc, 1);
    w->serial = serial;
    json_t *args = json_array();
    for (char *const *a = P->run->main_argv; a && *a; a++)
        json_array_append_new(args, json_string(*a));
    json_t *first = json_pack("{s:o}", "argv", args);
    char *line = json_dumps(first, JSON_COMPACT);
    json_decref(first);
    w->pid = pid;
    w->fd = sv[0];
    w->err_fd = ep[0];
    w->in = g_string_new(NULL);
    w->err = g_string_new(NULL);
    g_queue_init(&w->err_tail);
    w->state = W_STARTING;
    w->job_case = -1;
    w->held = g_ptr_array_new_with_free_func((GDestroyNotify)tf_event_free);
    w->held_global = g_ptr_array_new_with_free_func((GDestroyNotify)tf_event_free);
    g_ptr_array_add(P->procs, w);
    send_line(w, line);
    send_line(w, "\n");
    free(line);
    return w;
}

static void wproc_free(wproc *w)
{
    if (w->fd >= 0)
        close(w->fd);
    if (w->err_fd >= 0)
        close(w->err_fd);
    g_string_free(w->in, TRUE);
    g_string_free(w->err, TRUE);
    g_queue_clear_full(&w->err_tail, g_free);
    g_ptr_array_unref(w->held);
    g_ptr_array_unref(w->held_global);
    g_free(w);
}

static void send_line(wproc *w, const char *text)
{
    gsize len = strlen(text), done = 0;
    while (w->fd >= 0 && done < len) {
        ssize_t n = write(w->fd, text + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break; /* it died: its end of file comes next */
        done += (gsize)n;
    }
}

/* ---- events from workers ---- */

static void feed(parallel *P, tf_event *ev)
{
    P->run->sink(P->run->sink_data, ev);
    tf_event_free(ev);
}

static void flush_global(parallel *P, wproc *w)
{
    for (guint i = 0; i < w->held_global->len; i++)
        P->run->sink(P->run->sink_data, w->held_global->pdata[i]);
    g_ptr_array_set_size(w->held_global, 0);
}

static void flush_held(parallel *P, wproc *w)
{
    for (guint i = 0; i < w->held->len; i++) {
        tf_event *ev = w->held->pdata[i];
        P->run->sink(P->run->sink_data, ev);
    }
    g_ptr_array_set_size(w->held, 0);
    w->tcs_id[0] = '\0';
    w->step_open = FALSE;
    w->steps_done = 0;
}

static const tf_hook_def *hook_by_id(tf_registry *reg, const char *id)
{
    for (guint i = 0; id && i < reg->hooks->len; i++) {
        const tf_hook_def *h = g_ptr_array_index(reg->hooks, i);
        if (!strcmp(h->id, id))
            return h;
    }
    return NULL;
}

static void on_event(parallel *P, wproc *w, tf_event *ev)
{
    gboolean in_case = w->tcs_id[0] != '\0';
    switch (ev->kind) {
    case TF_EV_CASE_STARTED:
        g_strlcpy(w->tcs_id, ev->case_started.id, TF_ID_LEN);
        w->job_attempt = ev->case_started.attempt;
        w->steps_done = 0;
        w->worst = TF_RESULT_PASSED;
        g_ptr_array_add(w->held, ev);
        return;
    case TF_EV_STEP_STARTED:
        w->step_open = TRUE;
        break;
    case TF_EV_STEP_FINISHED:
        w->step_open = FALSE;
        w->steps_done++;
        w->worst = MAX(w->worst, ev->step_finished.result.status);
        break;
    case TF_EV_CASE_FINISHED:
        /* If it dies before its next attempt or its "done", that is where it was. */
        if (ev->case_finished.will_be_retried)
            w->job_attempt++;
        else
            w->case_over = TRUE;
        g_ptr_array_add(w->held, ev);
        flush_held(P, w);
        return;
    case TF_EV_GLOBAL_HOOK_STARTED: {
        const tf_hook_def *h = hook_by_id(P->run->reg, ev->global_hook_started.hook_id);
        if (h)
            g_hash_table_replace(P->hook_runs, g_strdup(ev->global_hook_started.id), (gpointer)h);
        g_ptr_array_add(w->held_global, ev);
        return;
    }
    case TF_EV_GLOBAL_HOOK_FINISHED: {
        const tf_ev_global_hook_finished *f = &ev->global_hook_finished;
        const tf_hook_def *h = g_hash_table_lookup(P->hook_runs, f->hook_run_id);
        if (f->result.status == TF_RESULT_FAILED)
            g_string_append_printf(P->failures, "%s%s hook %s:%d failed in worker %u: %s",
                                   P->failures->len ? "\n" : "",
                                   h && h->kind == TF_HOOK_AFTER_ALL ? "AfterAll" : "BeforeAll",
                                   h ? h->file : "?", h ? h->line : 0, w->serial,
                                   f->result.message ? f->result.message : "");
        g_ptr_array_add(w->held_global, ev);
        return;
    }
    case TF_EV_ATTACHMENT:
    case TF_EV_SUGGESTION:
        break;
    default: /* the parent announced those itself */
        tf_event_free(ev);
        return;
    }
    if (in_case)
        g_ptr_array_add(w->held, ev);
    else if (w->state == W_STARTING || w->state == W_QUITTING) /* a global hook's */
        g_ptr_array_add(w->held_global, ev);
    else
        feed(P, ev);
}

static void stop_cases(parallel *P)
{
    P->stop = TRUE;
    for (guint i = 0; i < P->procs->len; i++) {
        wproc *w = P->procs->pdata[i];
        if (w->state == W_BUSY && !w->signalled) {
            kill(w->pid, SIGINT); /* the step in flight stops; After hooks still run */
            w->signalled = TRUE;
        }
    }
}

/* A test case ended with result r in w (done, or w died). */
static void case_ended(parallel *P, wproc *w, tf_result r)
{
    if (tf_run_counts_as_failure(P->run, r)) {
        P->failed = TRUE;
        if (P->run->opts.fail_fast)
            stop_cases(P);
    }
    if (w->case_serial)
        P->serial_running = FALSE;
    w->case_serial = FALSE;
    w->job_case = -1;
    w->case_over = FALSE;
    w->state = W_IDLE;
    P->busy--;
}

static void on_control(parallel *P, wproc *w, json_t *j)
{
    const char *what = json_string_value(json_object_get(j, "worker"));
    if (!what)
        return;
    if (!strcmp(what, "ready")) {
        flush_global(P, w); /* one worker's BeforeAll hooks together */
        w->state = W_IDLE;
        if (!json_is_true(json_object_get(j, "ok"))) {
            P->stop = TRUE; /* BeforeAll failed: no scenario runs, as in a serial run */
        } else if (!P->announced) {
            /* As in a serial run: the test cases follow the (first) BeforeAll hooks, and a
             * run whose BeforeAll failed announces none. */
            tf_run_announce_cases(P->run);
            P->announced = TRUE;
        }
    } else if (!strcmp(what, "done") && w->state == W_BUSY) {
        const char *res = json_string_value(json_object_get(j, "result"));
        tf_result r = TF_RESULT_FAILED;
        for (int k = TF_RESULT_PASSED; res && k <= TF_RESULT_FAILED; k++)
            if (!strcmp(res, tf_result_name(k)))
                r = k;
        case_ended(P, w, r);
    } else if (!strcmp(what, "waiting") && w->job_case >= 0 && P->run->on_waiting) {
        const tf_test_case *tc = g_ptr_array_index(P->run->cases, w->job_case);
        char *label = g_strdup_printf("%s (worker %u): %s", tc->pickle->name, w->serial,
                                      json_string_value(json_object_get(j, "what")));
        P->run->on_waiting(P->run->on_waiting_data, label,
                           json_string_value(json_object_get(j, "progress")),
                           json_integer_value(json_object_get(j, "elapsed")),
                           json_integer_value(json_object_get(j, "timeout")));
        g_free(label);
    }
}

static void on_line(parallel *P, wproc *w, const char *line)
{
    json_error_t jerr;
    json_t *j = json_loads(line, 0, &jerr);
    if (!j) {
        fprintf(stderr, "tf: worker %u sent a line that is not JSON (%s): %.200s\n", w->serial,
                jerr.text, line);
        return;
    }
    if (json_object_get(j, "worker")) {
        on_control(P, w, j);
    } else {
        GError *e = NULL;
        tf_event *ev = tf_event_from_json(j, &e);
        if (ev) {
            on_event(P, w, ev);
        } else {
            fprintf(stderr, "tf: worker %u: %s\n", w->serial, e->message);
            g_error_free(e);
        }
    }
    json_decref(j);
}

/* Reads what fd has; calls fn for each whole line. FALSE at end of file. */
static gboolean drain(parallel *P, wproc *w, int fd, GString *buf,
                      void (*fn)(parallel *, wproc *, const char *))
{
    char chunk[65536];
    ssize_t n = read(fd, chunk, sizeof chunk);
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return TRUE;
    if (n > 0)
        g_string_append_len(buf, chunk, n);
    char *start = buf->str, *nl;
    while ((nl = memchr(start, '\n', buf->len - (start - buf->str)))) {
        *nl = '\0';
        fn(P, w, start);
        start = nl + 1;
    }
    g_string_erase(buf, 0, start - buf->str);
    if (n <= 0 && buf->len) { /* a last line without its newline */
        fn(P, w, buf->str);
        g_string_truncate(buf, 0);
    }
    return n > 0;
}

static void on_err_line(parallel *P, wproc *w, const char *line)
{
    fprintf(stderr, "[worker %u] %s\n", w->serial, line);
    g_queue_push_tail(&w->err_tail, g_strdup(line));
    while (g_queue_get_length(&w->err_tail) > ERR_TAIL)
        g_free(g_queue_pop_head(&w->err_tail));
}

/* ---- a worker that died ---- */

static char *death_text(const wproc *w, int status)
{
    GString *s = g_string_new(NULL);
    g_string_append_printf(s, "worker %u (pid %d) ", w->serial, (int)w->pid);
    if (WIFSIGNALED(status))
        g_string_append_printf(s, "was killed by signal %d (SIG%s)", WTERMSIG(status),
                               sigabbrev_np(WTERMSIG(status)) ? sigabbrev_np(WTERMSIG(status))
                                                              : "?");
    else
        g_string_append_printf(s, "exited with status %d", WEXITSTATUS(status));
    if (!w->err_tail.head) {
        g_string_append(s, "; its stderr was empty");
    } else {
        g_string_append(s, "; the last lines of its stderr:");
        for (GList *l = w->err_tail.head; l; l = l->next)
            g_string_append_printf(s, "\n  %s", (char *)l->data);
    }
    return g_string_free(s, FALSE);
}

static void emit_synth(parallel *P, tf_event *ev)
{
    ev->timestamp_us = g_get_real_time();
    P->run->sink(P->run->sink_data, ev);
}

/* Ends the attempt w was running when it died: the step in flight (or the next) fails
 * with why, the rest are skipped; another attempt follows if --retry allows. */
static void fail_crashed_case(parallel *P, wproc *w, const char *why)
{
    const tf_test_case *tc = g_ptr_array_index(P->run->cases, w->job_case);
    char tcs[TF_ID_LEN];
    if (w->tcs_id[0]) {
        g_strlcpy(tcs, w->tcs_id, TF_ID_LEN);
        for (guint i = 0; i < w->held->len; i++)
            P->run->sink(P->run->sink_data, w->held->pdata[i]);
        g_ptr_array_set_size(w->held, 0);
    } else { /* it died before the attempt began */
        g_snprintf(tcs, TF_ID_LEN, "p.%u", ++P->synth_ids);
        tf_event cs = {.kind = TF_EV_CASE_STARTED,
                       .case_started = {.id = tcs, .test_case_id = tc->id,
                                        .attempt = w->job_attempt}};
        emit_synth(P, &cs);
        w->steps_done = 0;
        w->step_open = FALSE;
    }
    gboolean blamed = FALSE;
    for (guint i = w->steps_done; i < tc->steps->len; i++) {
        const tf_test_step *ts = g_ptr_array_index(tc->steps, i);
        if (!(i == w->steps_done && w->step_open)) {
            tf_event st = {.kind = TF_EV_STEP_STARTED,
                           .step_started = {.test_case_started_id = tcs, .test_step_id = ts->id}};
            emit_synth(P, &st);
        }
        tf_event fin = {.kind = TF_EV_STEP_FINISHED,
                        .step_finished = {.test_case_started_id = tcs, .test_step_id = ts->id,
                                          .result = {blamed ? TF_RESULT_SKIPPED : TF_RESULT_FAILED,
                                                     blamed ? NULL : why, 0}}};
        emit_synth(P, &fin);
        blamed = TRUE;
    }
    if (!blamed) /* every step had ended: it died in the cleanups */
        g_string_append_printf(P->failures, "%s%s: after its steps: %s",
                               P->failures->len ? "\n" : "", tc->pickle->name, why);
    gboolean retry = w->job_attempt < P->run->opts.retry && !P->stop;
    tf_event cf = {.kind = TF_EV_CASE_FINISHED,
                   .case_finished = {.test_case_started_id = tcs, .will_be_retried = retry}};
    emit_synth(P, &cf);
    w->tcs_id[0] = '\0';
    if (retry) {
        job *j = g_new(job, 1);
        *j = (job){w->job_case, w->job_attempt + 1};
        g_queue_push_head(&P->jobs, j);
        if (w->case_serial)
            P->serial_running = FALSE;
        w->case_serial = FALSE;
        w->job_case = -1;
        P->busy--;
    } else {
        case_ended(P, w, TF_RESULT_FAILED);
    }
}

static void reap(parallel *P, wproc *w, int status)
{
    flush_global(P, w); /* its AfterAll hooks together (or a BeforeAll it died in) */
    if (w->state == W_BUSY && w->case_over) { /* between its case's end and its note */
        case_ended(P, w, w->worst);
    } else if (w->state == W_BUSY) {
        char *why = death_text(w, status);
        fail_crashed_case(P, w, why);
        g_free(why);
    } else if (w->state == W_STARTING ||
               (w->state == W_QUITTING && !(WIFEXITED(status) && WEXITSTATUS(status) == 0))) {
        char *why = death_text(w, status);
        g_string_append_printf(P->failures, "%s%s", P->failures->len ? "\n" : "", why);
        g_free(why);
        if (w->state == W_STARTING)
            P->stop = TRUE; /* it would die again: the run fails, saying why */
    } else if (w->state == W_IDLE && !P->stop && !g_queue_is_empty(&P->jobs)) {
        char *why = death_text(w, status); /* idle: no case lost, a new one replaces it */
        fprintf(stderr, "tf: %s\n", why);
        g_free(why);
    }
    g_ptr_array_remove(P->procs, w);
    wproc_free(w);
}

/* ---- scheduling ---- */

static gboolean is_serial(const tf_gherkin_pickle *p)
{
    for (guint i = 0; i < p->n_tags; i++)
        if (!strcmp(p->tags[i].name, TF_SERIAL_TAG))
            return TRUE;
    return FALSE;
}

/* Hands the next cases to idle workers, in run order; a @serial one waits until nothing
 * runs, and nothing starts while it runs. */
static void dispatch(parallel *P)
{
    for (guint i = 0; i < P->procs->len && !P->stop && !g_queue_is_empty(&P->jobs); i++) {
        wproc *w = P->procs->pdata[i];
        if (w->state != W_IDLE || P->serial_running || !P->announced)
            continue;
        job *j = g_queue_peek_head(&P->jobs);
        const tf_test_case *tc = g_ptr_array_index(P->run->cases, j->index);
        gboolean serial = is_serial(tc->pickle);
        if (serial && P->busy > 0)
            return;
        g_queue_pop_head(&P->jobs);
        w->state = W_BUSY;
        w->job_case = j->index;
        w->job_attempt = j->attempt;
        w->case_over = FALSE;
        w->case_serial = serial;
        w->signalled = FALSE;
        P->serial_running = serial;
        P->busy++;
        char *cmd = g_strdup_printf("{\"run\": %d, \"attempt\": %u}\n", j->index, j->attempt);
        send_line(w, cmd);
        g_free(cmd);
        g_free(j);
    }
}

/* How many workers the remaining work can use. */
static guint workers_wanted(parallel *P)
{
    if (P->stop)
        return 0;
    guint n = P->run->opts.parallel, left = g_queue_get_length(&P->jobs) + P->busy;
    return MIN(n, left);
}

static void forward_signals(parallel *P)
{
    gint now = P->run->signals ? g_atomic_int_get(P->run->signals) : 0;
    for (; P->signals_seen < now; P->signals_seen++) {
        P->run->interrupted = TRUE;
        P->stop = TRUE;
        for (guint i = 0; i < P->procs->len; i++)
            kill(((wproc *)P->procs->pdata[i])->pid, SIGINT);
    }
}

static void loop(parallel *P)
{
    GError *error = NULL;
    for (;;) {
        forward_signals(P);
        while (P->procs->len < workers_wanted(P) && !error) {
            if (!spawn(P, &error)) {
                g_string_append_printf(P->failures, "%s%s", P->failures->len ? "\n" : "",
                                       error->message);
                P->stop = TRUE;
            }
        }
        g_clear_error(&error);
        dispatch(P);
        if (P->busy == 0 && (P->stop || g_queue_is_empty(&P->jobs))) {
            for (guint i = 0; i < P->procs->len; i++) {
                wproc *w = P->procs->pdata[i];
                if (w->state == W_IDLE) {
                    send_line(w, "{\"quit\": true}\n"); /* it runs AfterAll and exits */
                    w->state = W_QUITTING;
                }
            }
        }
        if (P->procs->len == 0)
            break;
        guint n = P->procs->len;
        struct pollfd *fds = g_new0(struct pollfd, 2 * n);
        for (guint i = 0; i < n; i++) {
            wproc *w = P->procs->pdata[i];
            fds[2 * i] = (struct pollfd){.fd = w->fd, .events = POLLIN};
            fds[2 * i + 1] = (struct pollfd){.fd = w->err_fd, .events = POLLIN};
        }
        int r = poll(fds, 2 * n, 100); /* 100 ms: signals are noticed that soon */
        for (guint i = 0; r > 0 && i < n; i++) {
            wproc *w = P->procs->pdata[i];
            if (fds[2 * i + 1].revents && !drain(P, w, w->err_fd, w->err, on_err_line)) {
                close(w->err_fd);
                w->err_fd = -1;
            }
            if (fds[2 * i].revents && !drain(P, w, w->fd, w->in, on_line)) {
                close(w->fd);
                w->fd = -1;
            }
        }
        g_free(fds);
        /* A worker is gone once both its pipes closed and it was reaped; its stderr is
         * read to the end first, for the failure's last lines. */
        for (guint i = 0; i < P->procs->len;) {
            wproc *w = P->procs->pdata[i];
            int status = 0;
            if (w->fd < 0 && w->err_fd < 0 && waitpid(w->pid, &status, WNOHANG) == w->pid)
                reap(P, w, status);
            else
                i++;
        }
    }
}

void tf_parallel_execute(tf_run *run, GPtrArray *features)
{
    tf_run_emit_static(run, features);
    tf_run_next_id(run, run->run_started_id);
    tf_event rs = {.kind = TF_EV_RUN_STARTED, .run_started = {.id = run->run_started_id},
                   .timestamp_us = g_get_real_time()};
    tf_run_emit(run, &rs);
    tf_run_build_cases(run, features, FALSE); /* announced after the first BeforeAll */
    g_strlcpy(run->id_prefix, "p.", sizeof run->id_prefix);

    parallel P = {.run = run, .procs = g_ptr_array_new(), .failures = g_string_new(NULL),
                  .hook_runs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL)};
    g_queue_init(&P.jobs);
    for (guint i = 0; i < run->cases->len; i++) {
        job *j = g_new(job, 1);
        *j = (job){(int)i, 0};
        g_queue_push_tail(&P.jobs, j);
    }
    P.argv = self_argv();
    P.devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (!P.argv || P.devnull < 0) {
        g_string_append(P.failures, "--parallel: cannot read /proc/self/cmdline or open "
                                    "/dev/null to start workers");
    } else {
        loop(&P);
    }
    if (run->interrupted)
        g_string_append_printf(P.failures, "%sinterrupted: the run was stopped by a signal",
                               P.failures->len ? "\n" : "");
    run->success = !P.failed && P.failures->len == 0 && g_queue_is_empty(&P.jobs);
    tf_event rf = {.kind = TF_EV_RUN_FINISHED, .timestamp_us = g_get_real_time(),
                   .run_finished = {.test_run_started_id = run->run_started_id,
                                    .success = run->success, .interrupted = run->interrupted,
                                    .message = P.failures->len ? P.failures->str : NULL}};
    tf_run_emit(run, &rf);
    g_queue_clear_full(&P.jobs, g_free);
    g_ptr_array_unref(P.procs);
    g_hash_table_unref(P.hook_runs);
    g_string_free(P.failures, TRUE);
    g_strfreev(P.argv);
    if (P.devnull >= 0)
        close(P.devnull);
}
