/* user_steps.c: a user's plug-in as test_plugins loads it with `tf run --plugin`: two steps,
 * one of which a bundled module also matches ("When node n1 is killed"), and an untagged
 * After hook, as in the report that made the bundled modules plug-ins of their own.
 * Built several ways (tests/CMakeLists.txt): as a user builds it (USER_PLUGIN_OK, through
 * TF_PLUGIN_DEFINE) and with what another tf would have put in it, by hand:
 *   USER_PLUGIN_NEXT_ABI   the record of a tf with the next ABI
 *   USER_PLUGIN_NEXT_CALLS the same, also calling a function this tf does not have
 *   USER_PLUGIN_PRE_RECORD no record, calling tf_handle_history (as before tf 0.2.0)
 *   USER_PLUGIN_SIZE_DRIFT this ABI's number, but a tf_observer 8 bytes larger
 *   USER_PLUGIN_SAME_ABI   another tf version ("0.2.99") of this ABI, the same sizes */
#include <tf/tf.h>

static tf_step_status killed(tf_step *step, GError **error)
{
    tf_world_log(tf_step_world(step), "user step: node %s killed", tf_step_arg_str(step, 0));
    return TF_STEP_PASSED;
}

static tf_step_status saw(tf_step *step, GError **error) { return TF_STEP_PASSED; }

static tf_step_status after(tf_world *world, GError **error)
{
    tf_world_log(world, "user After hook");
    return TF_STEP_PASSED;
}

static gboolean user_steps(tf_registry *reg, GError **error)
{
    TF_WHEN("node {word} is killed", killed);
    TF_THEN("the user saw node {word} killed", saw);
    TF_AFTER(NULL, after);
    return TRUE;
}

#if defined(USER_PLUGIN_OK)
TF_PLUGIN_DEFINE(user_steps)

#elif defined(USER_PLUGIN_NEXT_ABI) || defined(USER_PLUGIN_NEXT_CALLS)
/* A later tf's record: the first three fields keep their places; the rest may change. */
typedef struct {
    guint32 abi_version, record_size;
    const char *tf_version;
    guint64 something_new;
} next_record;
TF_PLUGIN_EXPORT extern const next_record tf_plugin_abi;
const next_record tf_plugin_abi = {TF_ABI_VERSION + 1, sizeof(next_record), "9.9.9", 42};
#ifdef USER_PLUGIN_NEXT_CALLS
void tf_function_of_the_future(void);
#endif
TF_PLUGIN_EXPORT gboolean tf_plugin_init(tf_registry *reg, GError **error);
gboolean tf_plugin_init(tf_registry *reg, GError **error)
{
#ifdef USER_PLUGIN_NEXT_CALLS
    tf_function_of_the_future();
#endif
    return user_steps(reg, error);
}

#elif defined(USER_PLUGIN_PRE_RECORD)
GPtrArray *tf_handle_history(tf_handle *h); /* renamed tf_handle_batches in 0.2.0 */
TF_PLUGIN_EXPORT gboolean tf_plugin_init(tf_registry *reg, GError **error);
gboolean tf_plugin_init(tf_registry *reg, GError **error)
{
    if (!reg)
        g_ptr_array_unref(tf_handle_history(NULL));
    return user_steps(reg, error);
}

#elif defined(USER_PLUGIN_SIZE_DRIFT)
static const tf_abi_size sizes[] = {{"tf_observer", sizeof(tf_observer) + 8}};
TF_PLUGIN_EXPORT extern const tf_abi_record tf_plugin_abi;
const tf_abi_record tf_plugin_abi = {TF_ABI_VERSION, sizeof(tf_abi_record), TF_VERSION, sizes, 1};
TF_PLUGIN_EXPORT gboolean tf_plugin_init(tf_registry *reg, GError **error);
gboolean tf_plugin_init(tf_registry *reg, GError **error) { return user_steps(reg, error); }

#elif defined(USER_PLUGIN_SAME_ABI)
static const tf_abi_size sizes[] = {TF_ABI_SIZES};
TF_PLUGIN_EXPORT extern const tf_abi_record tf_plugin_abi;
const tf_abi_record tf_plugin_abi = {TF_ABI_VERSION, sizeof(tf_abi_record), "0.2.99", sizes,
                                     G_N_ELEMENTS(sizes)};
TF_PLUGIN_EXPORT gboolean tf_plugin_init(tf_registry *reg, GError **error);
gboolean tf_plugin_init(tf_registry *reg, GError **error) { return user_steps(reg, error); }

#else
#error "build user_steps.c with one USER_PLUGIN_* variant"
#endif
