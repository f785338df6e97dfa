/*
 * po.h — one load through the unmodified kexec-tools code (shared by the oracle and bench-load).
 * Our own code (purgatory-oracle).
 */
#ifndef PO_H
#define PO_H

#include <stddef.h>
#include <stdint.h>

struct po_symwrite {
	const char *name;     /* NUL-terminated */
	const uint8_t *data;
	uint32_t len;
};

/* Sink for the result of a successful load: called while the loader's memory is still live. */
struct po_loaded {
	uint64_t rel_addr, rel_size, entry, host_buf;
	uint32_t shnum;
	const uint64_t *sh_addr;   /* shnum entries */
	const uint8_t *image;      /* bufsz bytes given to add_buffer (NULL when 0) */
	uint64_t image_len;
};

typedef void (*po_ok_fn)(void *ctx, const struct po_loaded *res);

/*
 * Load elf[0..len) at base through elf_rel_build_load, then apply the symbol writes with
 * elf_rel_set_symbol. Returns 0 and calls ok() with the result, or returns 1 after a die(), with
 * everything written to stderr since the request began in msg and msg_len (valid until next call).
 */
int po_load(const uint8_t *elf, uint32_t len, uint64_t base, uint8_t fill,
	const struct po_symwrite *syms, uint32_t nsyms, po_ok_fn ok, void *ctx,
	const char **msg, size_t *msg_len);

#endif
