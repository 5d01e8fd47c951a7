/* deploy_priv.h: what the compose and Kubernetes backends of tf_cluster share.
 * A "remote" cluster is a member table fed by a driver (compose ps, a Kubernetes watch)
 * behind the same tf_cluster API as the local launcher; the kubeconfig reader, its YAML
 * subset and the API client are here so unit tests can reach them directly. */
#ifndef TF_DEPLOY_PRIV_H
#define TF_DEPLOY_PRIV_H

#include <glib.h>
#include <jansson.h>
#include "tf/cluster.h"

/* ---- yaml_subset.c ---- */
/* Parses the YAML subset kubeconfig files use (block maps/sequences, quoted and plain
 * scalars as strings, one-level {..} and [..]) into JSON (new ref). NULL + "where:LINE: why". */
json_t *tf_yaml_subset_parse(const char *text, const char *where, GError **error);

/* ---- kubeconfig.c ---- */
/* The current context of a kubeconfig, resolved. Credentials are never printed. */
typedef struct {
    gchar *path;       /* the file read */
    gchar *context;    /* names, for messages */
    gchar *cluster;
    gchar *user;
    gchar *server;     /* "https://host:6443" */
    gchar *ns;         /* context namespace, NULL when unset */
    gchar *token;      /* bearer token (token or tokenFile), or NULL */
    GBytes *ca;        /* PEM: certificate-authority(-data), or NULL */
    GBytes *cert;      /* PEM: client-certificate(-data), or NULL */
    GBytes *key;       /* PEM: client-key(-data), or NULL */
    gboolean insecure; /* insecure-skip-tls-verify */
} tf_kubeconfig;

/* The kubeconfig file to use: path if given, else the first file of $KUBECONFIG, else
 * ~/.kube/config (newly allocated). */
gchar *tf_kubeconfig_default_path(const char *path);
/* Reads path (NULL: tf_kubeconfig_default_path) and resolves its current-context.
 * NULL + "PATH: what: why" (no context, unknown cluster, exec credentials...). */
tf_kubeconfig *tf_kubeconfig_load(const char *path, GError **error);
/* The same from text already read; relative file names are taken from dir. */
tf_kubeconfig *tf_kubeconfig_parse(const char *text, const char *where, const char *dir,
                                   GError **error);
void tf_kubeconfig_free(tf_kubeconfig *kc);

/* ---- k8s_api.c ---- */
/* An API server connection from a kubeconfig (HTTPS with its CA, client cert or token). */
typedef struct tf_k8s_api tf_k8s_api;
/* Copies what it needs from kc (borrowed). */
tf_k8s_api *tf_k8s_api_new(const tf_kubeconfig *kc);
void tf_k8s_api_free(tf_k8s_api *api);
/* One request to server+path; returns the parsed body (new ref; NULL when the body is not
 * JSON) and sets *status (0 on transport failure, then error is set and NULL returned). */
json_t *tf_k8s_api_call(tf_k8s_api *api, const char *method, const char *path,
                        gint64 timeout_us, long *status, GError **error);
/* The same with a JSON body (borrowed; sent compact with Content-Type content_type,
 * NULL: application/json): POST, PUT and PATCH (merge-patch+json). */
json_t *tf_k8s_api_send(tf_k8s_api *api, const char *method, const char *path,
                        const char *content_type, json_t *payload, gint64 timeout_us,
                        long *status, GError **error);
/* Called with each complete line of a watch stream; FALSE stops the stream. */
typedef gboolean (*tf_k8s_line_fn)(const char *line, gsize len, void *user);
/* Streams server+path calling fn per line until the server ends it, fn returns FALSE or
 * tf_k8s_api_interrupt is called. Returns the HTTP status (0 + error on transport
 * failure; the body of a non-2xx answer is handed to fn as lines too). */
long tf_k8s_api_stream(tf_k8s_api *api, const char *path, tf_k8s_line_fn fn, void *user,
                       GError **error);
/* Makes a running and every later tf_k8s_api_stream return at once (thread-safe). */
void tf_k8s_api_interrupt(tf_k8s_api *api);

/* ---- k8s_netpol.c: network faults as NetworkPolicies ---- */
/* The label that marks a pod cut off by tf (the policies select on it). */
#define TF_K8S_ISOLATED_LABEL "tf.isolated"
/* The NetworkPolicy that isolates pod (new JSON): see k8s_netpol.c. selector: the
 * members' label selector ("k=v[,k2=v2]", equality only); owner: a token (owner.h) for
 * its tf.owner label, or NULL. NULL + error for a selector it cannot express. */
json_t *tf_k8s_isolation_policy(const char *pod, const char *selector, const char *owner,
                                GError **error);
/* Cuts pod off from the other members (on) or reconnects it (off), in namespace ns:
 * on = create the policy, then label the pod (the label is the switch); off = unlabel,
 * then delete the policy. Idempotent. FALSE + error naming the call and the API's answer. */
gboolean tf_k8s_isolate(tf_k8s_api *api, const char *ns, const char *pod, const char *selector,
                        const char *owner, gboolean on, GError **error);

/* ---- k8s_forward.c ---- */
/* A running `kubectl port-forward` to one pod. */
typedef struct tf_k8s_forward tf_k8s_forward;
/* Starts kubectl (on PATH) forwarding a free 127.0.0.1 port to the pod's port and waits
 * up to timeout_us until it says which. Call it from a long-lived thread: kubectl gets
 * SIGTERM when the spawning thread ends. uid: the pod's, kept for the caller. */
tf_k8s_forward *tf_k8s_forward_start(const char *kubeconfig, const char *ns, const char *pod,
                                     const char *uid, guint port, gint64 timeout_us,
                                     GError **error);
/* "http://127.0.0.1:PORT" (borrowed) and the pod uid given at start (borrowed). */
const char *tf_k8s_forward_url(tf_k8s_forward *f);
const char *tf_k8s_forward_uid(tf_k8s_forward *f);
/* FALSE once kubectl has ended (its pod went away, say). */
gboolean tf_k8s_forward_alive(tf_k8s_forward *f);
/* Ends kubectl and frees. NULL is a no-op. */
void tf_k8s_forward_free(tf_k8s_forward *f);

/* ---- remote.c ---- */
typedef struct tf_remote tf_remote;

/* A fault a driver is asked to inject on one member. ISOLATE and REJOIN go to the
 * driver's `isolate` (a driver without one cannot cut a member off). */
typedef enum {
    TF_REMOTE_START, TF_REMOTE_STOP, TF_REMOTE_KILL, TF_REMOTE_PAUSE, TF_REMOTE_RESUME,
    TF_REMOTE_RESTART, TF_REMOTE_ISOLATE, TF_REMOTE_REJOIN,
} tf_remote_op;

/* The attribute a driver sets (JSON true) on a member cut off from the others. */
#define TF_REMOTE_ISOLATED "isolated"

/* The lower-case name of an operation ("pause"). */
const char *tf_remote_op_name(tf_remote_op op);

/* What a backend implements. Calls are serialised per member by the remote. */
typedef struct {
    const char *kind; /* "compose", "k8s": prefixes every message */
    /* Brings the deployment up (compose up -d, watch start); may be NULL. */
    gboolean (*start)(void *self, tf_remote *r, GError **error);
    /* Re-reads members now (for drivers without a watch); force skips any throttling. */
    gboolean (*refresh)(void *self, tf_remote *r, gboolean force, GError **error);
    /* Injects op (START..RESTART) on member name; on success the state it leaves is *after.
     * Never called to stop or kill a member already stopped or exited. */
    gboolean (*op)(void *self, tf_remote *r, const char *member, tf_remote_op op,
                   tf_node_state *after, GError **error);
    /* Cuts member off the network joining it to the others (on) or reconnects it (off);
     * its process state does not change. NULL: isolation is not supported. */
    gboolean (*isolate)(void *self, tf_remote *r, const char *member, gboolean on,
                        GError **error);
    /* The last max_bytes of a member's log (newly allocated), or NULL; may be NULL. */
    gchar *(*log_tail)(void *self, const char *member, gsize max_bytes);
    /* Stops background work (before free; the remote is still valid). May be NULL. */
    void (*stop)(void *self);
    void (*free)(void *self);
} tf_remote_driver;

/* A tf_cluster on the remote backend over a driver (takes self). name: the cluster's name;
 * where: what tf_cluster_dir says ("compose project tf-etcd"); expect: members
 * tf_cluster_start waits for (0 = any); start_timeout_us: how long it waits. */
tf_cluster *tf_cluster_remote_new(const tf_remote_driver *drv, void *self, const char *name,
                                  const char *where, guint expect, gint64 start_timeout_us);

/* Driver side: sets a member's URL (NULL = unreachable), state and attributes (taken),
 * adding it when new. Members are never removed: one that goes away is set STOPPED or
 * EXITED and keeps its index and name. Wakes tf_remote_wait. */
void tf_remote_update(tf_remote *r, const char *name, const char *url, tf_node_state state,
                      json_t *attrs);
/* Number of updates so far (a generation for tf_remote_wait). */
guint64 tf_remote_generation(tf_remote *r);
/* Waits until the generation passes `after` or timeout_us passes (FALSE) or the remote
 * is being freed (FALSE). */
gboolean tf_remote_wait(tf_remote *r, guint64 after, gint64 timeout_us);
/* Waits on the remote's condition for up to timeout_us without a predicate: how a driver
 * with no watch paces itself or backs off; ends early when the remote is freed (FALSE). */
gboolean tf_remote_pause(tf_remote *r, gint64 timeout_us);
/* The driver's state (borrowed). */
void *tf_remote_self(tf_remote *r);
/* Names of every known member in index order (g_strfreev). */
gchar **tf_remote_member_names(tf_remote *r);

/* Driver side: the member table as the tf_cluster API sees it (the backend's hooks in
 * remote.c use the same): member count, index by name (-1), URL (borrowed, NULL when
 * unreachable), state, isolation, and a fault on member i through the driver (serialised
 * per member; FALSE + error). */
guint tf_remote_size(tf_remote *r);
gint tf_remote_index(tf_remote *r, const char *name);
const char *tf_remote_node_url(tf_remote *r, guint i);
tf_node_state tf_remote_node_state(tf_remote *r, guint i);
gboolean tf_remote_node_isolated(tf_remote *r, guint i);
gboolean tf_remote_node_op(tf_remote *r, guint i, tf_remote_op op, GError **error);

/* ---- run.c ---- */
/* Runs argv (argv[0] looked up in PATH) to completion, stdin from /dev/null. Returns
 * TRUE when it exited 0; stdout in *out (may be NULL). Otherwise FALSE + error
 * "where: ARGV0 ARGS...: exit N: stderr tail". */
gboolean tf_deploy_run(const char *where, char **argv, gchar **out, GError **error);
/* The same with env ("NAME=value" entries set, "NAME" unset, over this process's
 * environment, for the child only; NULL: unchanged) and, on success, stderr in *err
 * (may be NULL: some tools exit 0 and say on stderr what went wrong). */
gboolean tf_deploy_run_env(const char *where, char **argv, const char *const *env, gchar **out,
                           gchar **err, GError **error);

/* ---- compose_engine.c ---- */
/* Which compose implementation drives a project, in tf's order of preference. */
typedef enum {
    TF_COMPOSE_DOCKER,         /* `docker compose` (Compose v2) against a reachable daemon */
    TF_COMPOSE_PODMAN,         /* `podman compose` (podman 4.7+, an external provider) */
    TF_COMPOSE_PODMAN_COMPOSE, /* `podman-compose` (Python; what Debian bookworm has) */
} tf_compose_kind;

typedef struct {
    tf_compose_kind kind;
    const char *name;   /* "docker", "podman" or "podman-compose": TF_COMPOSE_ENGINE's values */
    const char *cli;    /* the container CLI behind it: "docker" or "podman" */
    gchar *skipped;     /* why engines preferred to it were not used ("docker: ..."), or NULL */
} tf_compose_engine;

/* Picks the engine named want (a TF_COMPOSE_ENGINE value), or with want NULL the first
 * usable one in order of preference, probing each: docker needs its compose plug-in and
 * a daemon that answers, podman the `compose` subcommand, podman-compose itself and
 * podman on PATH. env: extra environment for the probes (tf_deploy_run_env). FALSE +
 * error saying why each candidate was not usable. Clear *out with tf_compose_engine_clear. */
gboolean tf_compose_engine_pick(const char *want, const char *const *env, tf_compose_engine *out,
                                GError **error);
void tf_compose_engine_clear(tf_compose_engine *e);
/* argv of a project command: `docker compose|podman compose|podman-compose -p PROJECT
 * [-f FILE] ARGS...` (g_strfreev). */
gchar **tf_compose_project_argv(const tf_compose_engine *e, const char *project, const char *file,
                                const char *const *args);
/* argv of a container CLI command: `docker|podman ARGS...` (g_strfreev). */
gchar **tf_compose_cli_argv(const tf_compose_engine *e, const char *const *args);

/* ---- compose_json.c ---- */
/* What the engines print as JSON lists (ps, network ls, volume ls): one JSON array (podman,
 * compose before 2.21) or one object per line (docker, compose 2.21+). A JSON array (new
 * ref), or NULL + error "where: what: line N is not a JSON object: TEXT". */
json_t *tf_compose_parse_list(const char *where, const char *what, const char *out,
                              GError **error);
/* The value of label key on a listed object (borrowed, or NULL): "Labels"/"labels" as an
 * object (podman) or one "k=v,k=v" string (docker; then copied into *tmp, g_free it). */
const char *tf_compose_label(json_t *obj, const char *key, gchar **tmp);
/* A listed object's name: "Name", "name" or the first of "Names" (borrowed). */
const char *tf_compose_name(json_t *obj);

/* ---- compose_owner.c ---- */
/* The label naming the process that owns what a compose file created (owner.h token).
 * scenarios/deploy/compose/etcd-3.yml sets it from TF_COMPOSE_OWNER, "user" by default:
 * anything not a live-or-dead token is never removed. */
#define TF_COMPOSE_OWNER_LABEL "tf.owner"
/* Removes the containers (with their anonymous volumes), networks and volumes labelled
 * with an owner that is dead (tf_owner_token_state), with cli ("docker"/"podman") and env
 * as for tf_deploy_run_env; never one whose owner lives or cannot be told. Adds what it
 * removed to removed ("container NAME (owner TOKEN)"; may be NULL). FALSE + error when the
 * engine could not list or remove (what was removed before stays removed). */
gboolean tf_compose_sweep(const char *cli, const char *const *env, GPtrArray *removed,
                          GError **error);
/* Removes every container, network and volume of a compose project whatever its state:
 * what `down -v` should do (podman-compose 1.0.3's `down` leaves the network behind). */
gboolean tf_compose_remove_project(const char *cli, const char *const *env, const char *project,
                                   GError **error);

#endif
