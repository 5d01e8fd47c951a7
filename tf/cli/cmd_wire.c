/* cmd_wire.c: `tf wire`: serves the bundled plug-ins (when no --plugin is given, or with
 * --bundled) and each `--plugin FILE.so` over Cucumber's wire protocol, so a team's existing Cucumber runs tf's C steps. Runs until
 * SIGINT/SIGTERM; then open scenarios get their After hooks and cleanups before exit. */
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli_priv.h"
#include "tf/durable.h"
#include "runner/options.h"
#include "runner/plugin.h"
#include "runner/wire.h"

static const char epilogue[] =
    "Prints \"tf wire: listening on HOST:PORT\" on stdout once it accepts connections.\n"
    "Point Cucumber at it with a features/step_definitions/tf.wire file (the timeouts\n"
    "test_wire_cucumber runs real Cucumber with; cucumber-wire's own defaults are 3 s,\n"
    "too short for steps that start clusters):\n"
    "  host: 127.0.0.1\n"
    "  port: PORT\n"
    "  timeout:\n"
    "    step_matches: 30\n"
    "    snippet_text: 30\n"
    "    invoke: 120\n"
    "    begin_scenario: 120\n"
    "    end_scenario: 120\n"
    "Cucumber 2.x loads the wire plugin by itself; cucumber 3 and later also need\n"
    "features/support/wire.rb containing: require 'cucumber/wire'\n"
    "exit: 0 stopped by SIGINT/SIGTERM, 1 a BeforeAll hook failed, 2 usage or listen errors\n";

typedef struct {
    tf_registry *reg;
    const char *host;
    guint64 port;
    gint64 step_timeout_us;
    const char *store; /* NULL: $TF_STORE */
    int quiet;
} wire_args;

#define OPT(field) offsetof(wire_args, field)
static const tf_opt wire_opts[] = {
    {"host", 0, TF_OPT_TEXT, "ADDR", "numeric address to listen on (default 127.0.0.1)", OPT(host)},
    {"port", 0, TF_OPT_UINT, "N", "TCP port (default 0: any free port, printed on start)",
     OPT(port), .max = 65535},
    {"step-timeout", 0, TF_OPT_SECONDS, "S", "seconds a step or hook may take: 30, 2.5, 500ms, up\n"
     "to a year (default 60; 0: none)", OPT(step_timeout_us)},
    {"store", 0, TF_OPT_TEXT, "PATH", "scenarios journal and take effect claims in this store,\n"
     "as one run (default: $TF_STORE; none without either; created\nwith its missing "
     "directories)", OPT(store)},
    {"quiet", 'q', TF_OPT_FLAG, NULL, "do not log connections and failing steps to stderr",
     OPT(quiet), 1},
    {NULL},
};
#undef OPT

/* Opens the store a.store or $TF_STORE names and begins the serving session's run in it;
 * TRUE with *store NULL when there is none. */
static gboolean open_store(const wire_args *a, tf_store **store, gint64 *run, GError **error)
{
    const char *path = a->store ? a->store : g_getenv("TF_STORE");
    if (!path || (!*path && !a->store)) /* an empty --store is an error, not "no store" */
        return TRUE;
    if (!(*store = tf_store_open(path, error)))
        return FALSE;
    return (*run = tf_store_run_begin(*store, "tf wire", error)) > 0;
}

/* Ends the store's run; a failure to record it fails a clean stop (exit 1). */
static int close_store(tf_store *store, gint64 run, int code)
{
    GError *e = NULL;
    if (!tf_store_run_end(store, run, code == 0 ? "ended" : "failed", &e) ||
        !tf_store_flush(store, &e)) {
        fprintf(stderr, "tf wire: %s\n", e->message); /* store errors name the store */
        g_error_free(e);
        code = code ? code : 1;
    }
    return code;
}

/* Serves until SIGINT/SIGTERM (blocked in set; old is the mask to restore): 0, or 1 when a
 * BeforeAll hook failed, 2 when it cannot listen (error set for both). */
static int serve(const wire_args *a, tf_store *store, gint64 store_run, sigset_t *set,
                 const sigset_t *old, GError **error)
{
    tf_wire_options opts = {.host = a->host, .port = (guint16)a->port,
                            .step_timeout_us = a->step_timeout_us, .log = a->quiet ? NULL : stderr,
                            .store = store, .store_run = store_run};
    int code = 2;
    tf_wire_server *srv = tf_wire_server_new(a->reg, &opts, error);
    if (srv && !tf_wire_server_start(srv, error))
        code = 1;
    if (srv && code == 2) {
        printf("tf wire: listening on %s:%u\n", opts.host, tf_wire_server_port(srv));
        fflush(stdout);
        int sig = 0;
        while (sigwait(set, &sig) != 0)
            ;
        fprintf(stderr, "tf wire: %s: stopping (open scenarios get their After hooks and "
                        "cleanups; send it again to cut those short)\n",
                sig == SIGINT ? "SIGINT" : "SIGTERM");
        /* Unblocked here only: a second signal finds this thread and ends the process. */
        pthread_sigmask(SIG_SETMASK, old, NULL);
        code = 0;
    }
    tf_wire_server_free(srv); /* ends every open scenario first */
    return code;
}

int tf_cmd_wire(int argc, char **argv)
{
    /* Blocked before any thread starts (step modules and plug-ins may start some), so
     * every thread inherits the mask and only the sigwait in serve() sees SIGINT/SIGTERM. */
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, &old);
    wire_args a = {.reg = tf_registry_new(), .host = "127.0.0.1",
                   .step_timeout_us = 60 * G_USEC_PER_SEC};
    tf_plugin_args plugins;
    tf_plugin_args_init(&plugins);
    tf_opt_cmd cmd = {.prog = "tf wire", .synopsis = "[OPTIONS]", .epilogue = epilogue,
                      .groups = {{wire_opts, &a}, {tf_plugin_bundled_opts, &plugins}}};
    GError *error = NULL;
    tf_store *store = NULL;
    gint64 store_run = 0;
    int code = tf_opt_parse_or_exit(&cmd, argc, argv, NULL);
    if (code < 0)
        code = tf_plugins_register(a.reg, tf_cli_bundled(), &plugins, &error) &&
                       open_store(&a, &store, &store_run, &error)
                   ? serve(&a, store, store_run, &set, &old, &error)
                   : 2;
    tf_plugin_args_clear(&plugins);
    if (store_run)
        code = close_store(store, store_run, code);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (error) {
        fprintf(stderr, "tf wire: %s\n", error->message);
        g_error_free(error);
    }
    if (store)
        tf_store_unref(store);
    tf_registry_free(a.reg);
    return code;
}
