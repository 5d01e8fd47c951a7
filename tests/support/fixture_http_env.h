/* fixture_http_env.h: cmocka helpers shared by the tests of tf_http against fixture_http:
 * a per-test server + client, one-request batches, and checks on error messages.
 * Include after cmocka.h; everything here is static to the including test. */
#ifndef TF_TEST_FIXTURE_HTTP_ENV_H
#define TF_TEST_FIXTURE_HTTP_ENV_H

#include <string.h>
#include "fixture_http.h"
#include "tf/error.h"
#include "tf/http.h"

#define SEC G_USEC_PER_SEC

typedef struct {
    fixture_http *f;
    tf_http *h;
} env;

static G_GNUC_UNUSED int setup(void **state)
{
    env *e = g_new0(env, 1);
    e->f = fixture_http_start();
    e->h = tf_http_new();
    *state = e;
    return 0;
}

static G_GNUC_UNUSED int teardown(void **state)
{
    env *e = *state;
    tf_http_free(e->h);
    fixture_http_free(e->f);
    g_free(e);
    return 0;
}

/* Runs one request and returns its batch (caller frees). */
static G_GNUC_UNUSED tf_http_batch *run_one(env *e, const char *label, const char *method, const char *url,
                              const char *body, gint64 timeout_us)
{
    tf_http_batch *b = tf_http_batch_new(e->h);
    tf_http_batch_add(b, label, method, url, body, timeout_us);
    tf_http_batch_run(b);
    return b;
}

/* The error of request 0 of b (asserting there is one, with the given code). */
static G_GNUC_UNUSED char *req_error(tf_http_batch *b, int code)
{
    GError *err = NULL;
    assert_false(tf_http_req_ok(tf_http_batch_req(b, 0), &err));
    assert_non_null(err);
    assert_true(err->domain == TF_ERROR);
    if (err->code != code)
        fail_msg("code %d, expected %d: %s", err->code, code, err->message);
    char *msg = g_strdup(err->message);
    g_error_free(err);
    return msg;
}

static G_GNUC_UNUSED void assert_printable(const char *s)
{
    for (const char *p = s; *p; p++)
        if ((guchar)*p < 0x20 || (guchar)*p >= 0x7f)
            fail_msg("unprintable byte 0x%02x in: %s", (guchar)*p, s);
}

#endif
