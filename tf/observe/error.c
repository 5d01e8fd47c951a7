/* error.c: the TF_ERROR GError domain. */
#include "tf/error.h"

G_DEFINE_QUARK(tf-error-quark, tf_error)
