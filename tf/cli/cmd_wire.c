/* cmd_wire.c: `tf wire`: serves the bundled step modules plus any `--plugin FILE.so` over
 * Cucumber's wire protocol, so a team's existing Cucumber runs tf's C steps. Runs until
 * SIGINT/SIGTERM; then open scenarios get their After hooks and cleanups before exit. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli_priv.h"
#include "tf/durable.h"
#include "bundled.h"
#include "runner/option_value.h"
#include "runner/wire.h"

static const char usage_text[] =
    "usage: tf wire [OPTIONS]\n"
    "  --host ADDR          numeric address to listen on (default 127.0.0.1)\n"
    "  --port N             TCP port (default 0: any free port, printed on start)\n"
    "  --plugin FILE.so     also serve the step definitions of a plug-in (repeatable)\n"
    "  --step-timeout S     seconds a step or hook may take: 30, 2.5, 500ms, up to a year\n"
    "                       (default 60; 0: none)\n"
    "  --store PATH         scenarios journal and take effect claims in this store, as one\n"
    "                       run (default: $TF_STORE; none without either; created with\n"
    "                       its missing directories)\n"
    "  -q, --quiet          do not log connections and failing steps to stderr\n"
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

/* Registers a plug-in's steps into reg. The handle stays open for the process lifetime:
 * the plug-in's code may still run on an abandoned (timed-out) step thread. */
static gboolean load_plugin(tf_registry *reg, const char *file, GError **error)
{
    tf_plugin_init_fn init = tf_cli_plugin_load(file, error);
    return init && init(reg, error);
}

int tf_cmd_wire(int argc, char **argv)
{
    tf_wire_options opts = {.host = "127.0.0.1", .step_timeout_us = 60 * G_USEC_PER_SEC,
                            .log = stderr};
    /* Blocked before any thread starts (step modules and plug-ins may start some), so
     * every thread inherits the mask and only the sigwait below sees SIGINT/SIGTERM. */
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, &old);
    tf_registry *reg = tf_registry_new();
    GError *error = NULL;
    int code = 2;
    tf_wire_server *srv = NULL;
    tf_store *store = NULL;
    const char *store_path = g_getenv("TF_STORE");
    gboolean store_given = FALSE;
    if (!tf_steps_bundled_register(reg, &error))
        goto out;
    for (int i = 1; i < argc; i++) {
        /* --opt VALUE or --opt=VALUE, as tf run takes them */
        char *a = g_strdup(argv[i]);
        const char *val = NULL;
        char *eq = g_str_has_prefix(a, "--") ? strchr(a, '=') : NULL;
        if (eq) {
            *eq = '\0';
            val = argv[i] + (eq - a) + 1; /* in argv: outlives a */
        }
        gboolean takes = !strcmp(a, "--host") || !strcmp(a, "--port") || !strcmp(a, "--store") ||
                         !strcmp(a, "--plugin") || !strcmp(a, "--step-timeout");
        if (takes && !val && i + 1 < argc)
            val = argv[++i];
        gboolean ok = TRUE;
        guint64 port = 0;
        if (takes && !val) {
            g_set_error(&error, TF_ERROR, TF_ERROR_INVALID, "%s needs a value", a);
            ok = FALSE;
        } else if (!takes && eq) {
            g_set_error(&error, TF_ERROR, TF_ERROR_INVALID, "unknown argument '%s'", argv[i]);
            ok = FALSE;
        } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(usage_text, stdout);
            code = 0;
            ok = FALSE;
        } else if (!strcmp(a, "--host")) {
            opts.host = val;
        } else if (!strcmp(a, "--port")) {
            ok = tf_opt_parse_uint("--port", val, 0, 65535, &port, &error);
            opts.port = (guint16)port;
        } else if (!strcmp(a, "--plugin")) {
            ok = load_plugin(reg, val, &error);
        } else if (!strcmp(a, "--step-timeout")) {
            ok = tf_opt_parse_seconds("--step-timeout", val, &opts.step_timeout_us, &error);
        } else if (!strcmp(a, "--store")) {
            store_path = val;
            store_given = TRUE; /* even "": an empty --store is an error, not "no store" */
        } else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
            opts.log = NULL;
        } else {
            g_set_error(&error, TF_ERROR, TF_ERROR_INVALID, "unknown argument '%s'", a);
            ok = FALSE;
        }
        g_free(a);
        if (!ok)
            goto out;
    }
    if (store_path && (*store_path || store_given)) {
        if (!(store = tf_store_open(store_path, &error)))
            goto out;
        if (!(opts.store_run = tf_store_run_begin(store, "tf wire", &error)))
            goto out;
        opts.store = store;
    }
    srv = tf_wire_server_new(reg, &opts, &error);
    if (srv && !tf_wire_server_start(srv, &error))
        code = 1;
    if (!error) {
        printf("tf wire: listening on %s:%u\n", opts.host, tf_wire_server_port(srv));
        fflush(stdout);
        int sig = 0;
        while (sigwait(&set, &sig) != 0)
            ;
        fprintf(stderr, "tf wire: %s: stopping (open scenarios get their After hooks and "
                        "cleanups; send it again to cut those short)\n",
                sig == SIGINT ? "SIGINT" : "SIGTERM");
        /* Unblocked here only: a second signal finds this thread and ends the process. */
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        code = 0;
    }
    tf_wire_server_free(srv); /* ends every open scenario first */
    if (opts.store_run) {
        GError *e = NULL;
        if (!tf_store_run_end(store, opts.store_run, code == 0 ? "ended" : "failed", &e) ||
            !tf_store_flush(store, &e)) {
            fprintf(stderr, "tf wire: %s\n", e->message); /* store errors name the store */
            g_error_free(e);
            code = code ? code : 1;
        }
    }
out:
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (error) {
        fprintf(stderr, "tf wire: %s\n", error->message);
        if (code == 2 && error->domain == TF_ERROR && error->code == TF_ERROR_INVALID)
            fputs(usage_text, stderr);
        g_error_free(error);
    }
    if (store)
        tf_store_unref(store);
    tf_registry_free(reg);
    return code;
}
