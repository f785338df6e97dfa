/*
 * load.c — one purgatory load through the unmodified kexec-tools loader.
 * Our own code (purgatory-oracle); compiled against the fetched tree's headers.
 */
#include <limits.h>
#include <setjmp.h>
#include <string.h>

#include "kexec.h"      /* upstream */
#include "kexec-elf.h"  /* upstream */
#include "po.h"
#include "shim.h"

/* The (min, max, end) window each architecture's loader passes to elf_rel_build_load for the
 * purgatory (kexec/arch/x86_64/kexec-bzImage64.c, kexec/arch/ppc64/kexec-elf-ppc64.c). Our
 * add_buffer ignores the window (the request gives the base), but elf_rel_load clamps max first,
 * so pass the real values. */
#if defined(__x86_64__)
#define PO_MIN 0x3000UL
#define PO_MAX 0x7fffffffUL
#define PO_END (-1)
#else
#define PO_MIN 0UL
#define PO_MAX ULONG_MAX
#define PO_END 1
#endif

static struct kexec_info info;
static jmp_buf jmp;

/* The byte a probe's buffer holds before elf_rel_get_symbol copies into it. */
#define PO_PROBE_FILL 0x5a

/*
 * Read each probe with elf_rel_get_symbol, as kexec-tools' arch code reads purgatory variables
 * after the load. A probe that dies is answered with what die() printed; the load stays valid
 * (die() left nothing half-done: elf_rel_get_symbol only reads) and the next probe runs.
 */
static void run_probes(struct mem_ehdr *ehdr, const struct po_symprobe *probes, uint32_t n,
	struct po_probe_out *out)
{
	uint32_t i;
	for (i = 0; i < n; i++) {
		jmp_buf pj;
		jmp_buf *prev;
		const char *text;
		size_t before = po_captured(&text), after;
		uint8_t *buf = po_tracked_malloc(probes[i].size ? (size_t)probes[i].size : 1);
		memset(buf, PO_PROBE_FILL, probes[i].size ? (size_t)probes[i].size : 1);
		prev = po_set_die_jmp(&pj);
		if (setjmp(pj) == 0) {
			elf_rel_get_symbol(ehdr, probes[i].name, buf, (size_t)probes[i].size);
			out[i].died = 0;
			out[i].bytes = buf;
			out[i].len = probes[i].size;
		} else {
			uint8_t *m;
			after = po_captured(&text);
			m = po_tracked_malloc(after - before + 1);
			memcpy(m, text + before, after - before);
			out[i].died = 1;
			out[i].bytes = m;
			out[i].len = after - before;
		}
		po_set_die_jmp(prev);
	}
}

int po_load(const uint8_t *elf, uint32_t len, uint64_t base, uint8_t fill,
	const struct po_symwrite *syms, uint32_t nsyms, po_ok_fn ok, void *ctx,
	const char **msg, size_t *msg_len)
{
	return po_load_probed(elf, len, base, fill, syms, nsyms, 0, NULL, 0, ok, ctx, msg, msg_len);
}

int po_load_probed(const uint8_t *elf, uint32_t len, uint64_t base, uint8_t fill,
	const struct po_symwrite *syms, uint32_t nsyms, int details,
	const struct po_symprobe *probes, uint32_t nprobes, po_ok_fn ok, void *ctx,
	const char **msg, size_t *msg_len)
{
	volatile int died = 0;

	memset(&info, 0, sizeof(info));
	po_begin_request(base, fill, &jmp);
	if (setjmp(jmp) == 0) {
		struct mem_ehdr *ehdr = &info.rhdr;
		struct po_loaded res;
		uint64_t *sh_addr;
		uint8_t *copy;
		uint32_t i;

		/* kexec-tools loads the purgatory from a buffer of exactly its size */
		copy = po_tracked_malloc(len);
		memcpy(copy, elf, len);
		elf_rel_build_load(&info, ehdr, (const char *)copy, (off_t)len, PO_MIN, PO_MAX, PO_END, 0);
		for (i = 0; i < nsyms; i++)
			elf_rel_set_symbol(ehdr, syms[i].name, syms[i].data, syms[i].len);
		if (po_last_buffer.calls != 1)
			die("oracle: add_buffer was called %d times (expected once)\n", po_last_buffer.calls);

		sh_addr = po_tracked_malloc((size_t)ehdr->e_shnum * sizeof(*sh_addr));
		for (i = 0; i < ehdr->e_shnum; i++)
			sh_addr[i] = ehdr->e_shdr[i].sh_addr;
		res.rel_addr = ehdr->rel_addr;
		res.rel_size = ehdr->rel_size;
		res.entry = (uint64_t)(uintptr_t)info.entry;
		res.host_buf = (uint64_t)(uintptr_t)po_last_buffer.buf;
		res.shnum = ehdr->e_shnum;
		res.sh_addr = sh_addr;
		res.image = po_last_buffer.buf;
		res.image_len = po_last_buffer.bufsz;
		res.details = NULL;
		if (details) {
			static struct po_details det;
			struct po_probe_out *out = po_tracked_malloc((nprobes ? nprobes : 1) * sizeof(*out));
			det.memsz = po_last_buffer.memsz;
			det.buf_align = po_last_buffer.buf_align;
			det.buf_min = po_last_buffer.buf_min;
			det.buf_max = po_last_buffer.buf_max;
			det.buf_end = po_last_buffer.buf_end;
			det.e_entry = ehdr->e_entry;
			run_probes(ehdr, probes, nprobes, out);
			det.nprobes = nprobes;
			det.probes = out;
			res.details = &det;
		}
		ok(ctx, &res);
	} else {
		died = 1;
	}
	po_end_request(msg, msg_len);
	return died;
}
