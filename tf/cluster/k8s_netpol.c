/* k8s_netpol.c: the Kubernetes mapping of network faults. Isolating a member pod is one
 * NetworkPolicy, "tf-isolate-<pod>", that selects pods labelled tf.isolated=true among the
 * members and lets them talk only to pods that are not members (the runner when it runs
 * in the cluster, anything else) and to DNS; the pod gets that label. Policies are
 * allow-lists once a pod is selected, so this cuts the isolated pod from every other
 * member both ways while non-members still reach it. Rejoining removes the label, then
 * the policy. What it cannot do: traffic from `kubectl port-forward` enters the pod on
 * its loopback and is never filtered (a runner outside the cluster keeps observing the
 * isolated pod), kubelet probes from the node may be filtered depending on the network
 * plug-in (the pod may turn NotReady while isolated), and a plug-in without
 * NetworkPolicy support (kindnet before v0.24, flannel alone) silently ignores it.
 * Partitions into groups, one-way cuts and packet loss have no NetworkPolicy form. */
#include <string.h>
#include "tf/error.h"
#include "deploy_priv.h"

#define CALL_TIMEOUT_US (30 * G_USEC_PER_SEC)

/* "k=v,k2=v2" as {k: v, k2: v2}; NULL for anything else (set-based, !=, existence). */
static json_t *equality_labels(const char *selector)
{
    json_t *labels = json_object();
    gchar **parts = g_strsplit(selector, ",", -1);
    gboolean ok = parts[0] != NULL;
    for (gchar **p = parts; ok && *p; p++) {
        gchar **kv = g_strsplit(g_strstrip(*p), "=", 2);
        const char *k = kv[0] ? g_strstrip(kv[0]) : NULL, *v = kv[1] ? g_strstrip(kv[1]) : NULL;
        if (v && *v == '=') /* "k==v" is equality too */
            v = g_strstrip((char *)v + 1);
        ok = k && *k && v && *v && !strpbrk(k, "!() ") && !strpbrk(v, "!() ");
        if (ok)
            json_object_set_new(labels, k, json_string(v));
        g_strfreev(kv);
    }
    g_strfreev(parts);
    if (!ok) {
        json_decref(labels);
        return NULL;
    }
    return labels;
}

/* The peers that are not members: a member carries every selector label, so a pod that
 * lacks any one (NotIn also matches a pod without the key) is not one. One peer per
 * label: a policy's peers are OR-ed. In every namespace. */
static json_t *non_members(json_t *labels)
{
    json_t *peers = json_array();
    const char *k;
    json_t *v;
    json_object_foreach(labels, k, v)
        json_array_append_new(peers, json_pack("{s:{}, s:{s:[{s:s, s:s, s:[O]}]}}", "namespaceSelector",
                                               "podSelector", "matchExpressions", "key", k,
                                               "operator", "NotIn", "values", v));
    return peers;
}

json_t *tf_k8s_isolation_policy(const char *pod, const char *selector, const char *owner,
                                GError **error)
{
    json_t *labels = equality_labels(selector ? selector : "");
    if (!labels) {
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID,
                    "isolating %s: the member selector '%s' is not k=v[,k2=v2]: a NetworkPolicy "
                    "can only tell members from other pods by equal labels", pod, selector);
        return NULL;
    }
    json_t *select = json_deep_copy(labels);
    json_object_set_new(select, TF_K8S_ISOLATED_LABEL, json_string("true"));
    json_t *meta_labels = json_pack("{s:s}", "tf.isolates", pod);
    if (owner)
        json_object_set_new(meta_labels, "tf.owner", json_string(owner));
    gchar *name = g_strdup_printf("tf-isolate-%s", pod);
    json_t *dns = json_pack("[{s:s, s:i}, {s:s, s:i}]", "protocol", "UDP", "port", 53, "protocol",
                            "TCP", "port", 53);
    json_t *policy = json_pack(
        "{s:s, s:s, s:{s:s, s:o}, s:{s:{s:o}, s:[s, s], s:[{s:o}], s:[{s:o}, {s:o}]}}",
        "apiVersion", "networking.k8s.io/v1", "kind", "NetworkPolicy",
        "metadata", "name", name, "labels", meta_labels,
        "spec", "podSelector", "matchLabels", select, "policyTypes", "Ingress", "Egress",
        "ingress", "from", non_members(labels),
        "egress", "to", non_members(labels), "ports", dns);
    g_free(name);
    json_decref(labels);
    return policy;
}

/* FALSE + error "k8s/NS: what: METHOD PATH: HTTP N: the Status message" unless the status
 * is 2xx or one of the ok ones (404 on a delete, 409 on a create: already so). */
static gboolean answered(const char *ns, const char *what, const char *method, const char *path,
                         json_t *body, long status, long ok1, long ok2, GError **error)
{
    if ((status >= 200 && status < 300) || status == ok1 || status == ok2)
        return TRUE;
    const char *msg = json_string_value(json_object_get(body, "message"));
    g_set_error(error, TF_ERROR, TF_ERROR_HTTP, "k8s/%s: %s: %s %s: HTTP %ld%s%s", ns, what, method,
                path, status, msg ? ": " : "", msg ? msg : "");
    return FALSE;
}

static gboolean label_pod(tf_k8s_api *api, const char *ns, const char *pod, gboolean on,
                          const char *what, GError **error)
{
    gchar *path = g_strdup_printf("/api/v1/namespaces/%s/pods/%s", ns, pod);
    json_t *patch = json_pack("{s:{s:{s:o}}}", "metadata", "labels", TF_K8S_ISOLATED_LABEL,
                              on ? json_string("true") : json_null());
    long status = 0;
    json_t *body = tf_k8s_api_send(api, "PATCH", path, "application/merge-patch+json", patch,
                                   CALL_TIMEOUT_US, &status, error);
    /* a pod gone since (deleted, recreated without the label) needs no reconnecting */
    gboolean ok = status && answered(ns, what, "PATCH", path, body, status, on ? 0 : 404, 0, error);
    json_decref(body);
    json_decref(patch);
    g_free(path);
    return ok;
}

gboolean tf_k8s_isolate(tf_k8s_api *api, const char *ns, const char *pod, const char *selector,
                        const char *owner, gboolean on, GError **error)
{
    gchar *what = g_strdup_printf("%s %s", on ? "isolating" : "reconnecting", pod);
    gchar *policies = g_strdup_printf("/apis/networking.k8s.io/v1/namespaces/%s/networkpolicies", ns);
    gboolean ok;
    long status = 0;
    if (on) {
        json_t *policy = tf_k8s_isolation_policy(pod, selector, owner, error);
        json_t *body = policy ? tf_k8s_api_send(api, "POST", policies, NULL, policy, CALL_TIMEOUT_US,
                                                &status, error)
                              : NULL;
        ok = policy && status && answered(ns, what, "POST", policies, body, status, 409, 0, error) &&
             label_pod(api, ns, pod, TRUE, what, error); /* the label switches it on */
        json_decref(body);
        json_decref(policy);
    } else {
        gchar *path = g_strdup_printf("%s/tf-isolate-%s", policies, pod);
        ok = label_pod(api, ns, pod, FALSE, what, error); /* off first, then tidy up */
        json_t *body = ok ? tf_k8s_api_call(api, "DELETE", path, CALL_TIMEOUT_US, &status, error) : NULL;
        ok = ok && status && answered(ns, what, "DELETE", path, body, status, 404, 0, error);
        json_decref(body);
        g_free(path);
    }
    g_free(policies);
    g_free(what);
    return ok;
}
