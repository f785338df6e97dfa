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
	const struct po_details *details; /* po_load_probed with details: else NULL */
};

typedef void (*po_ok_fn)(void *ctx, const struct po_loaded *res);

/* A symbol read after the load: elf_rel_get_symbol(ehdr, name, buf, size) (FLAG_DETAILS). */
struct po_symprobe {
	const char *name;     /* NUL-terminated */
	uint64_t size;
};

/* Its result: the bytes read, or (died) the text die() printed. */
struct po_probe_out {
	int died;
	const uint8_t *bytes;
	uint64_t len;
};

/* What elf_rel_load handed to add_buffer, and what the load left behind (FLAG_DETAILS). */
struct po_details {
	uint64_t memsz, buf_align, buf_min, buf_max;
	int32_t buf_end;
	uint64_t e_entry;          /* ehdr->e_entry after the load */
	uint32_t nprobes;
	const struct po_probe_out *probes;
};

/*
 * Load elf[0..len) at base through elf_rel_build_load, then apply the symbol writes with
 * elf_rel_set_symbol. Returns 0 and calls ok() with the result, or returns 1 after a die(), with
 * everything written to stderr since the request began in msg and msg_len (valid until next call).
 */
int po_load(const uint8_t *elf, uint32_t len, uint64_t base, uint8_t fill,
	const struct po_symwrite *syms, uint32_t nsyms, po_ok_fn ok, void *ctx,
	const char **msg, size_t *msg_len);

/* po_load that also reports po_details (details != 0) and, after the symbol writes, reads each
 * probe with elf_rel_get_symbol: a probe that dies is reported as such and the next one runs. */
int po_load_probed(const uint8_t *elf, uint32_t len, uint64_t base, uint8_t fill,
	const struct po_symwrite *syms, uint32_t nsyms, int details,
	const struct po_symprobe *probes, uint32_t nprobes, po_ok_fn ok, void *ctx,
	const char **msg, size_t *msg_len);

#endif
