/* rest.c: binary block headers over the node's REST interface: request, parse, hash.
 * The hash is SHA-256d of the serialized header; hashes travel in the header as little-
 * endian bytes and are shown reversed, which is why every conversion here flips them. */
#include <string.h>
#include "chain/rest.h"

static const char hexdigits[] = "0123456789abcdef";

/* 32 little-endian bytes as the 64 hex digits nodes show (most significant first). */
static void hash_to_hex(const guint8 *le, char *out)
{
    for (int i = 0; i < 32; i++) {
        guint8 b = le[31 - i];
        out[2 * i] = hexdigits[b >> 4];
        out[2 * i + 1] = hexdigits[b & 0xf];
    }
    out[64] = '\0';
}

/* The inverse of hash_to_hex; a short or non-hex string gives zeros where it fails. */
static void hex_to_hash(const char *hex, guint8 *le)
{
    memset(le, 0, 32);
    for (int i = 0; i < 32 && hex && hex[2 * i] && hex[2 * i + 1]; i++) {
        int hi = g_ascii_xdigit_value(hex[2 * i]), lo = g_ascii_xdigit_value(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            break;
        le[31 - i] = (guint8)(hi << 4 | lo);
    }
}

static guint32 le32(const guint8 *p)
{
    return (guint32)p[0] | (guint32)p[1] << 8 | (guint32)p[2] << 16 | (guint32)p[3] << 24;
}

static void put_le32(guint8 *p, guint32 v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (guint8)(v >> (8 * i));
}

static void sha256d(const guint8 *data, gsize len, guint8 out[32])
{
    GChecksum *c = g_checksum_new(G_CHECKSUM_SHA256);
    gsize n = 32;
    g_checksum_update(c, data, (gssize)len);
    g_checksum_get_digest(c, out, &n);
    g_checksum_reset(c);
    g_checksum_update(c, out, 32);
    n = 32;
    g_checksum_get_digest(c, out, &n);
    g_checksum_free(c);
}

void chain_bin_header_parse(const guint8 *raw, chain_bin_header *out)
{
    guint8 h[32];
    out->version = le32(raw);
    hash_to_hex(raw + 4, out->parent);
    out->time = le32(raw + 68);
    out->bits = le32(raw + 72);
    out->nonce = le32(raw + 76);
    sha256d(raw, CHAIN_HEADER_BYTES, h);
    hash_to_hex(h, out->hash);
}

gboolean chain_bin_header_is_genesis(const chain_bin_header *h)
{
    for (const char *p = h->parent; *p; p++)
        if (*p != '0')
            return FALSE;
    return TRUE;
}

void chain_bin_header_build(guint8 *raw, guint32 version, const char *parent, const char *merkle,
                            guint32 time, guint32 bits, guint32 nonce, char hash_out[CHAIN_HASH_BUF])
{
    put_le32(raw, version);
    hex_to_hash(parent, raw + 4);
    hex_to_hash(merkle, raw + 36);
    put_le32(raw + 68, time);
    put_le32(raw + 72, bits);
    put_le32(raw + 76, nonce);
    if (hash_out) {
        guint8 h[32];
        sha256d(raw, CHAIN_HEADER_BYTES, h);
        hash_to_hex(h, hash_out);
    }
}

static void read_answer(chain_rest_req *q, tf_http_req *r)
{
    gsize len = 0;
    const char *body = tf_http_req_body(r, &len);
    q->status = tf_http_req_status(r);
    GError *err = NULL;
    if (!tf_http_req_ok(r, &err)) {
        q->error = g_strdup(err->message);
        g_error_free(err);
        return;
    }
    if (len % CHAIN_HEADER_BYTES || len / CHAIN_HEADER_BYTES > q->count) {
        q->error = g_strdup_printf("/rest/headers/%u/%s.bin: %" G_GSIZE_FORMAT " bytes is not a list of "
                                   "at most %u 80-byte headers", q->count, q->start, len, q->count);
        return;
    }
    q->n = (guint)(len / CHAIN_HEADER_BYTES);
    q->headers = g_new(chain_bin_header, MAX(q->n, 1));
    for (guint i = 0; i < q->n; i++)
        chain_bin_header_parse((const guint8 *)body + (gsize)i * CHAIN_HEADER_BYTES, &q->headers[i]);
}

guint chain_rest_headers_run(tf_http *http, const char *label, const char *base_url,
                             chain_rest_req *reqs, guint n, gint64 timeout_us)
{
    tf_http_batch *b = tf_http_batch_new(http);
    for (guint i = 0; i < n; i++) {
        chain_rest_req *q = &reqs[i];
        g_clear_pointer(&q->headers, g_free);
        g_clear_pointer(&q->error, g_free);
        q->n = 0;
        q->status = 0;
        char *url = g_strdup_printf("%s/rest/headers/%u/%s.bin", base_url, q->count, q->start);
        tf_http_batch_add(b, label, "GET", url, NULL, timeout_us);
        g_free(url);
    }
    if (n)
        tf_http_batch_run(b);
    for (guint i = 0; i < n; i++)
        read_answer(&reqs[i], tf_http_batch_req(b, i));
    tf_http_batch_free(b);
    return n;
}

void chain_rest_reqs_clear(chain_rest_req *reqs, guint n)
{
    for (guint i = 0; i < n; i++) {
        g_clear_pointer(&reqs[i].headers, g_free);
        g_clear_pointer(&reqs[i].error, g_free);
    }
}
