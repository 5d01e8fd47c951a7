/* worker.c: one worker process of `tf run --parallel N`. It is this same program, started
 * again by the parent with the same arguments (parallel.c says why exec rather than a
 * bare fork) and TF_WORKER_ENV naming a socket. It loads the same features, registers the
 * same definitions and builds the same test cases as the parent, in the same order and
 * with its events muted, so every id the two share (pickles, definitions, test cases and
 * their steps) is equal in both; the ids it makes after that carry its prefix ("w3."), so
 * no two processes of a run make the same id. Then it runs BeforeAll, each test case the
 * parent sends (every attempt, as a serial run would), and AfterAll when told to quit.
 *
 * The protocol is JSON lines both ways. Parent to worker: first {"argv": [...]} (what
 * its tf_run_main got, parsed here in place of this process's), then {"run": CASE,
 * "attempt": N} and {"quit": true}. Worker to parent: every event (tf_event_to_json), {"worker": "ready",
 * "ok": BOOL} after BeforeAll, {"worker": "done", "case": CASE, "result": R} after a test
 * case, {"worker": "waiting", ...} while a step waits (at most 4 a second). */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include "runner_priv.h"
#include "tf/error.h"

typedef struct {
    int fd;
    tf_mutex lock;      /* events come from the run loop and step threads (attachments) */
    gboolean muted;     /* while rebuilding what the parent has announced */
    gboolean lost;      /* the parent is gone: stop at the next step */
    tf_exec *exec;
    gint64 waiting_sent_us;
} worker_link;

/* Writes one JSON value as a line; a parent that went away interrupts the run, so After
 * hooks and cleanups still stop what the scenario started. */
static void send_json(worker_link *l, json_t *j)
{
    char *text = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    if (!text)
        return;
    gsize len = strlen(text);
    text[len] = '\n'; /* over the NUL: the line goes in one write */
    tf_mutex_lock(&l->lock);
    gsize done = 0;
    while (!l->lost && done < len + 1) {
        ssize_t n = write(l->fd, text + done, len + 1 - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            l->lost = TRUE;
            break;
        }
        done += (gsize)n;
    }
    gboolean lost = l->lost;
    tf_mutex_unlock(&l->lock);
    free(text);
    if (lost && l->exec)
        tf_exec_interrupt(l->exec);
}

static void worker_sink(void *data, const tf_event *ev)
{
    worker_link *l = data;
    if (l->muted)
        return;
    json_t *j = tf_event_to_json(ev);
    if (j)
        send_json(l, j);
}

static void worker_waiting(void *data, const char *what, const char *progress,
                           gint64 elapsed_us, gint64 timeout_us)
{
    worker_link *l = data;
    gint64 now = g_get_monotonic_time();
    if (now - l->waiting_sent_us < G_USEC_PER_SEC / 4)
        return;
    l->waiting_sent_us = now;
    send_json(l, json_pack("{s:s, s:s, s:s?, s:I, s:I}", "worker", "waiting", "what",
                           what ? what : "?", "progress", progress, "elapsed",
                           (json_int_t)elapsed_us, "timeout", (json_int_t)timeout_us));
}

/* Reads one line from fd into line (without the newline): FALSE at end of file. */
static gboolean read_line(int fd, GString *buf, GString *line)
{
    for (;;) {
        char *nl = memchr(buf->str, '\n', buf->len);
        if (nl) {
            g_string_assign(line, "");
            g_string_append_len(line, buf->str, nl - buf->str);
            g_string_erase(buf, 0, nl - buf->str + 1);
            return TRUE;
        }
        char chunk[4096];
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return FALSE;
        g_string_append_len(buf, chunk, n);
    }
}

char **tf_worker_read_argv(int fd, GError **error)
{
    GString *line = g_string_new(NULL);
    char c;
    ssize_t n;
    /* A byte at a time: nothing after this line may be taken from the socket here. */
    while ((n = read(fd, &c, 1)) == 1 && c != '\n')
        g_string_append_c(line, c);
    json_t *j = json_loads(line->str, 0, NULL);
    json_t *a = json_object_get(j, "argv");
    char **argv = NULL;
    if (json_is_array(a)) {
        argv = g_new0(char *, json_array_size(a) + 1);
        for (size_t i = 0; i < json_array_size(a); i++)
            argv[i] = g_strdup(json_string_value(json_array_get(a, i)) ?: "");
    } else {
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID,
                    "worker: the parent's first line is not {\"argv\": [...]}: %.200s", line->str);
    }
    json_decref(j);
    g_string_free(line, TRUE);
    return argv;
}

int tf_worker_serve(tf_run *run, GPtrArray *features, const tf_worker_config *cfg)
{
    signal(SIGPIPE, SIG_IGN); /* a parent that died: write fails, the run is interrupted */
    worker_link l = {.fd = cfg->fd, .muted = TRUE, .exec = run->exec};
    tf_mutex_init(&l.lock);
    run->sink = worker_sink;
    run->sink_data = &l;
    /* What the parent did before any scenario ran, in the same order: equal ids. */
    tf_run_emit_static(run, features);
    tf_run_next_id(run, run->run_started_id);
    tf_run_build_cases(run, features, FALSE);
    l.muted = FALSE;
    g_snprintf(run->id_prefix, sizeof run->id_prefix, "w%u.", cfg->serial);
    tf_exec_set_wait_listener(run->exec, worker_waiting, &l);

    GString *failures = g_string_new(NULL);
    gboolean ready = tf_run_global_hooks(run, TF_HOOK_BEFORE_ALL, failures);
    send_json(&l, json_pack("{s:s, s:b}", "worker", "ready", "ok", ready));
    GString *buf = g_string_new(NULL), *line = g_string_new(NULL);
    while (!l.lost && read_line(l.fd, buf, line)) {
        json_t *cmd = json_loads(line->str, 0, NULL);
        json_int_t index = -1, attempt = 0;
        if (cmd && json_unpack(cmd, "{s:I, s:I}", "run", &index, "attempt", &attempt) == 0 &&
            ready && index >= 0 && (guint)index < run->cases->len) {
            tf_result r = tf_run_case(run, g_ptr_array_index(run->cases, index), (guint)attempt);
            send_json(&l, json_pack("{s:s, s:I, s:s}", "worker", "done", "case", index,
                                    "result", tf_result_name(r)));
        } else if (!cmd || !json_is_true(json_object_get(cmd, "quit"))) {
            fprintf(stderr, "tf worker %u: bad request from the parent: %s\n", cfg->serial,
                    line->str);
        } else {
            json_decref(cmd);
            break;
        }
        json_decref(cmd);
    }
    tf_run_global_hooks(run, TF_HOOK_AFTER_ALL, failures);
    tf_exec_set_wait_listener(run->exec, NULL, NULL);
    g_string_free(buf, TRUE);
    g_string_free(line, TRUE);
    g_string_free(failures, TRUE); /* the parent reports hooks from their events */
    tf_mutex_clear(&l.lock);
    close(l.fd);
    return l.lost ? 1 : 0;
}
