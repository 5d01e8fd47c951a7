/* version.c: the version of the libtf running. A program or plug-in compiled against
 * another tf/version.h compares it with its own TF_VERSION / TF_ABI_VERSION. */
#include "tf/version.h"

const char *tf_version(void) { return TF_VERSION; }

int tf_abi_version(void) { return TF_ABI_VERSION; }
