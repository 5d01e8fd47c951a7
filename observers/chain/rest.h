/* rest.h: a bitcoin-family node's REST interface (litecoind/bitcoind -rest): block headers
 * in binary, up to 2,000 per request, with no JSON on either side. Headers are parsed here
 * and their hashes computed (SHA-256 twice over the 80 bytes, shown byte-reversed as nodes
 * show them; litecoin's proof of work is scrypt, but its block hash is this one too), and
 * each block's work comes from its compact target. REST takes no credentials. */
#ifndef CHAIN_REST_H
#define CHAIN_REST_H

#include <glib.h>
#include <tf/http.h>
#include "chain/events.h"

G_BEGIN_DECLS

/* Most headers one /rest/headers request returns (the node's limit). */
#define CHAIN_REST_MAX_HEADERS 2000
/* Bytes of a serialized block header. */
#define CHAIN_HEADER_BYTES 80

/* One header as it is serialized, with its hash. */
typedef struct {
    char hash[CHAIN_HASH_BUF];
    char parent[CHAIN_HASH_BUF];  /* all zeros for a genesis block */
    guint32 version;
    guint32 time;
    guint32 bits;
    guint32 nonce;
} chain_bin_header;

/* Parses an 80-byte header and computes its hash. */
void chain_bin_header_parse(const guint8 *raw, chain_bin_header *out);
/* TRUE if the header's parent is the null hash (a genesis block). */
gboolean chain_bin_header_is_genesis(const chain_bin_header *h);
/* Writes the 80 bytes of a header (version, parent, merkle root, time, bits, nonce; hashes
 * as 64 hex digits in display order) into raw, and its hash into hash_out (may be NULL).
 * For simulators and tests. */
void chain_bin_header_build(guint8 *raw, guint32 version, const char *parent, const char *merkle,
                            guint32 time, guint32 bits, guint32 nonce, char hash_out[CHAIN_HASH_BUF]);

/* One /rest/headers/COUNT/HASH.bin request: `count` headers of the node's active chain from
 * `start` (included) upwards. Filled by chain_rest_headers_run. */
typedef struct {
    char start[CHAIN_HASH_BUF];
    guint count;
    chain_bin_header *headers;    /* owned (g_free); fewer than count when the node's chain
                                     ends, none when start is not on it */
    guint n;
    long status;                  /* HTTP status; 0 when the transport failed */
    char *error;                  /* owned; NULL when the headers were read */
} chain_rest_req;

/* Sends the n requests concurrently on http to base_url (the node's RPC URL without a
 * trailing slash) and parses every answer. label names the node in errors. Returns the
 * number of HTTP requests sent. A node without -rest answers 404: status says so. */
guint chain_rest_headers_run(tf_http *http, const char *label, const char *base_url,
                             chain_rest_req *reqs, guint n, gint64 timeout_us);
/* Frees what the n requests own (not the array). */
void chain_rest_reqs_clear(chain_rest_req *reqs, guint n);

G_END_DECLS

#endif
