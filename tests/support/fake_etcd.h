/* fake_etcd.h: a stand-in etcd member for what real etcd will not do (two leaders in one
 * term, a write acknowledged on demand), run by the real cluster launcher from a spec:
 * the test binary starts itself as each member (its main hands "fake-etcd" to
 * fake_etcd_main), so the runner, launcher, observer and steps under test are the real
 * ones. Serves GET /debug/vars (raft.status), POST /v3/maintenance/status, /v3/kv/put,
 * /v3/kv/range and /v3/kv/txn (a compare-and-set: the client workload's shape) on keys
 * of its own (members share none), GET /health, on fixture_http. */
#ifndef TF_TEST_FAKE_ETCD_H
#define TF_TEST_FAKE_ETCD_H

#include <glib.h>

/* The member: argv after "fake-etcd": --id N --port P [--term T] [--applied-term A]
 * [--leaders A,B,..] [--put ok|refuse] [--die MESSAGE]. Members listed in --leaders claim
 * leadership of term T; the others follow the first of them. The v3 status reports the
 * applied term A as raftTerm (default T; etcd's lags T right after an election). --put
 * refuse answers puts and txns with etcd's "request timed out" (their outcome unknown). --die
 * prints MESSAGE on stderr and exits 3.
 * Serves until SIGTERM or SIGINT; returns the exit code. */
int fake_etcd_main(int argc, char **argv);

/* Writes DIR/etcd-3.json (returns its path, g_free): 3 members of this program run as
 * fake members with `extra` (a JSON fragment of more arguments, e.g. "\"--leaders\",\"1,3\"",
 * or "") and, when with_source is FALSE, no "source" (an invalid spec for the steps). */
char *fake_etcd_write_spec(const char *dir, const char *extra, gboolean with_source);

#endif
