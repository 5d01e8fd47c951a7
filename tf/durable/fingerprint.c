/* fingerprint.c: what stored state (an observer's checkpoint, a cached projection)
 * depends on, as one hash: a name and logic version, the canonical config, the ELF
 * build-id of the object holding the code and the fingerprints it builds on. Any change
 * means a checkpoint cannot be trusted. The observer's wrapper is tf/observe's. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <string.h>
#include "durable_priv.h"

typedef struct {
    ElfW(Addr) addr;  /* the function's address */
    char *build_id;   /* found: hex */
    gboolean matched; /* the object holding addr was found */
} find_ctx;

/* Reads NT_GNU_BUILD_ID from the PT_NOTE segments of one loaded object. */
static char *note_build_id(struct dl_phdr_info *info)
{
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_NOTE)
            continue;
        const char *p = (const char *)(info->dlpi_addr + ph->p_vaddr);
        const char *end = p + ph->p_memsz;
        while (p + sizeof(ElfW(Nhdr)) <= end) {
            const ElfW(Nhdr) *n = (const ElfW(Nhdr) *)p;
            const char *name = p + sizeof *n;
            const unsigned char *desc =
                (const unsigned char *)name + ((n->n_namesz + 3) & ~3u);
            if (n->n_type == NT_GNU_BUILD_ID && n->n_namesz == 4 && !memcmp(name, "GNU", 4)) {
                GString *hex = g_string_new(NULL);
                for (ElfW(Word) k = 0; k < n->n_descsz; k++)
                    g_string_append_printf(hex, "%02x", desc[k]);
                return g_string_free(hex, FALSE);
            }
            p = (const char *)desc + ((n->n_descsz + 3) & ~3u);
        }
    }
    return NULL;
}

static int find_object(struct dl_phdr_info *info, size_t size, void *data)
{
    find_ctx *c = data;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        ElfW(Addr) lo = info->dlpi_addr + ph->p_vaddr;
        if (ph->p_type == PT_LOAD && c->addr >= lo && c->addr < lo + ph->p_memsz) {
            c->matched = TRUE;
            c->build_id = note_build_id(info);
            return 1;
        }
    }
    return 0;
}

char *tf_build_id_of(const void *fn, GError **error)
{
    find_ctx c = {.addr = (ElfW(Addr))fn};
    dl_iterate_phdr(find_object, &c);
    if (c.build_id)
        return c.build_id;
    Dl_info di = {0};
    const char *obj = dladdr(fn, &di) && di.dli_fname ? di.dli_fname : "(unknown object)";
    g_set_error(error, TF_ERROR, TF_ERROR_INVALID,
                "build-id of %s: %s", obj,
                c.matched ? "the object has no NT_GNU_BUILD_ID note (link with --build-id)"
                          : "no loaded object holds this address");
    return NULL;
}

char *tf_fingerprint(const char *name, guint version, json_t *config, const void *code,
                     const char *const *depends_on, GError **error)
{
    char *build_id = tf_build_id_of(code, error);
    if (!build_id)
        return NULL;
    char *canon = tf_json_canonical(config);
    GString *text = g_string_new("tf-fingerprint/1\n");
    g_string_append_printf(text, "name=%s\nversion=%u\nconfig=%s\nbuild-id=%s\n", name,
                           version, canon, build_id);
    for (const char *const *d = depends_on; d && *d; d++)
        g_string_append_printf(text, "depends=%s\n", *d);
    char *fp = tf_sha256_hex(text->str, text->len);
    g_string_free(text, TRUE);
    g_free(canon);
    g_free(build_id);
    return fp;
}
