// SPDX-License-Identifier: GPL-2.0-only
/*
 * harness.c — batch driver for the kernel's kexec_file purgatory loader, run in userspace.
 *
 * Reads requests from stdin and writes responses to stdout as oracle/PROTOCOL.md describes. For
 * each request it points kexec_purgatory at the request's ELF bytes, calls the kernel's own
 * kexec_load_purgatory() (extracted unmodified into a generated file compiled with this one),
 * then applies the symbol writes with kexec_purgatory_get_set_symbol(..., false), and reports
 * kbuf->mem, kbuf->memsz, image->start, the purgatory buffer and every section's sh_addr. With
 * FLAG_DETAILS (PROTOCOL.md) it then reads each symbol probe back with
 * kexec_purgatory_get_set_symbol(..., true) and reports them with kexec_add_buffer's kbuf.
 *
 * Memory model (NOTES.md, "Memory"): the input ELF ends 8-byte aligned right before 1 GiB of
 * PROT_NONE address space (and starts 1 GiB after another), so reads outside it fault; vzalloc is
 * page-granular and guarded the same way, so writes past its last page fault and writes past the
 * buffer inside its last page are silently absorbed, as in the kernel. A fault kills the process; the
 * TS runner reports it as `crashed` and restarts us.
 */
#define _GNU_SOURCE
#include "shim.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#define REQ_MAGIC 0x51524f50u  /* "PORQ" */
#define END_MAGIC 0x444e4550u  /* "PEND" */
#define RESP_MAGIC 0x53524f50u /* "PORS" */
#define FLAG_DETAILS 0x4u      /* optional extension: kexec_add_buffer's kbuf, e_entry, symbol probes */
#define STATUS_DETAILS 0x100u  /* status bit: the details follow the image */
#define PROBE_MAX_SIZE ((uint64_t)1 << 20) /* largest symbol a probe may read */
#define PROBE_FILL 0x5a        /* a probe's buffer before the read (as the kexec-tools harness) */

/* Exit statuses the TS runner (src/oracle/batch.ts) reads: a malformed request is not a crash of
 * the loader, and running out of host memory is a resource limit. */
#define EXIT_PROTOCOL 3
#define EXIT_RESOURCE_LIMIT 77
#define EXIT_IO 2

/* --mark-stderr: "@@po-begin <id>" / "@@po-end <id>" around each request on stderr, so that
 * WARN_ON reports reach the runner as that request's diagnostics. */
static int mark_stderr;
static uint32_t current_id;

/* The model machine's RAM: vmalloc refuses sizes above it ("exceeds total pages"). */
#define SHIM_TOTALRAM_BYTES (1UL << 30)

char *shim_kexec_purgatory;
size_t kexec_purgatory_size;
static unsigned long request_base;

/* ---------------------------------------------------------------- messages */

static char *msg_buf;
static size_t msg_len, msg_cap;

void shim_printk(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (msg_len + (size_t)n + 1 > msg_cap) {
		size_t cap = (msg_len + (size_t)n + 1) * 2;
		char *p = realloc(msg_buf, cap);
		if (!p) {
			fprintf(stderr, "kernel-oracle: out of memory for messages\n");
			exit(EXIT_RESOURCE_LIMIT);
		}
		msg_buf = p;
		msg_cap = cap;
	}
	va_start(ap, fmt);
	vsnprintf(msg_buf + msg_len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	msg_len += (size_t)n;
}

void shim_warn(const char *file, int line)
{
	fprintf(stderr, "kernel-oracle: WARNING at %s:%d\n", file, line);
}

/* ---------------------------------------------------------------- memory */

static size_t page_size(void)
{
	static size_t ps;
	if (!ps)
		ps = (size_t)sysconf(_SC_PAGESIZE);
	return ps;
}

/* Usable bytes surrounded by reserved PROT_NONE address space, GUARD_BYTES on each side: any
 * access up to 1 GiB before or after the block faults instead of reading or corrupting whatever
 * else is mapped there (the other blocks are mapped nearby). Reserving costs no memory natively;
 * under qemu-user it costs time in proportion to the size, so the emulated builds pass
 * -DSHIM_GUARD_BYTES=(1UL<<20) (scripts/build-kernel-oracle.sh). */
#ifndef SHIM_GUARD_BYTES
#define SHIM_GUARD_BYTES (1UL << 30)
#endif
#define GUARD_BYTES SHIM_GUARD_BYTES

struct region {
	void *map;
	size_t map_len;
};

static void *map_guarded(size_t size, size_t align_end, struct region *r)
{
	size_t ps = page_size();
	size_t body = (size + ps - 1) / ps * ps;
	if (body == 0)
		body = ps;
	size_t len = GUARD_BYTES + body + GUARD_BYTES;
	char *m = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m == MAP_FAILED)
		return NULL;
	char *start = m + GUARD_BYTES;
	if (mprotect(start, body, PROT_READ | PROT_WRITE) != 0) {
		munmap(m, len);
		return NULL;
	}
	r->map = m;
	r->map_len = len;
	if (!align_end)
		return start;
	size_t rounded = (size + align_end - 1) / align_end * align_end;
	return start + body - rounded;
}

/* vmalloc'd blocks: looked up by address for vfree. A handful live at once. */
#define MAX_VBLOCKS 16
static struct {
	void *addr;
	struct region r;
} vblocks[MAX_VBLOCKS];

void *vmalloc(unsigned long size)
{
	/* mm/vmalloc.c __vmalloc_node_range: a zero size and a size above total RAM fail. */
	if (size == 0 || PAGE_ALIGN(size) == 0 || PAGE_ALIGN(size) > SHIM_TOTALRAM_BYTES)
		return NULL;
	for (int i = 0; i < MAX_VBLOCKS; i++) {
		if (vblocks[i].addr)
			continue;
		/* Kernel pages may be larger than ours (64K on ppc64el): map whole kernel pages. */
		void *p = map_guarded(PAGE_ALIGN(size), 0, &vblocks[i].r);
		if (!p)
			return NULL;
		vblocks[i].addr = p;
		return p;
	}
	fprintf(stderr, "kernel-oracle: more than %d live vmalloc blocks\n", MAX_VBLOCKS);
	exit(EXIT_RESOURCE_LIMIT);
}

void *vzalloc(unsigned long size)
{
	return vmalloc(size); /* fresh anonymous pages are zero, as vzalloc's are */
}

void vfree(const void *addr)
{
	if (!addr)
		return;
	for (int i = 0; i < MAX_VBLOCKS; i++) {
		if (vblocks[i].addr == addr) {
			munmap(vblocks[i].r.map, vblocks[i].r.map_len);
			vblocks[i].addr = NULL;
			return;
		}
	}
	fprintf(stderr, "kernel-oracle: vfree of an unknown pointer %p\n", addr);
	abort();
}

void kfree(const void *addr)
{
	free((void *)addr);
}

/* ---------------------------------------------------------------- placement */

int shim_locate_mem_hole_bottom_up(unsigned long start, unsigned long end, struct kexec_buf *kbuf);

/*
 * kexec_locate_mem_hole (kernel/kexec_file.c) walks the free RAM ranges with
 * locate_mem_hole_callback. Our model machine has one free range, [base, ULONG_MAX], searched
 * bottom-up with the kernel's own locate_mem_hole_bottom_up: the buffer lands at
 * ALIGN(max(base, buf_min), buf_align), buf_align already raised to PAGE_SIZE by
 * kexec_add_buffer. NOTES.md says why (x86 itself searches top-down from buf_max).
 * The machine has SHIM_TOTALRAM_BYTES of RAM, so no range is larger: locate_mem_hole_callback
 * skips every range smaller than the buffer (`if (sz < kbuf->memsz) return 0;`), and a memsz
 * (bss included, page-rounded) above it finds no hole: -EADDRNOTAVAIL, no message.
 */
int arch_kexec_locate_mem_hole(struct kexec_buf *kbuf)
{
	if (kbuf->mem != KEXEC_BUF_MEM_UNKNOWN)
		return 0;
	if (kbuf->memsz > SHIM_TOTALRAM_BYTES)
		return -EADDRNOTAVAIL;
	int ret = shim_locate_mem_hole_bottom_up(request_base, ULONG_MAX, kbuf);
	return ret == 1 ? 0 : -EADDRNOTAVAIL;
}

/* ---------------------------------------------------------------- protocol I/O */

static void read_exact(void *p, size_t n)
{
	if (n && fread(p, 1, n, stdin) != n) {
		fprintf(stderr, "kernel-oracle: truncated request (%s)\n", feof(stdin) ? "EOF" : "read error");
		exit(EXIT_PROTOCOL);
	}
}

static uint32_t get_u32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get_u64(const unsigned char *p)
{
	return (uint64_t)get_u32(p) | (uint64_t)get_u32(p + 4) << 32;
}

static unsigned char *out;
static size_t out_len, out_cap;

static void put_bytes(const void *p, size_t n)
{
	if (out_len + n > out_cap) {
		size_t cap = (out_len + n) * 2 + 64;
		unsigned char *q = realloc(out, cap);
		if (!q) {
			fprintf(stderr, "kernel-oracle: out of memory for the response\n");
			exit(EXIT_RESOURCE_LIMIT);
		}
		out = q;
		out_cap = cap;
	}
	memcpy(out + out_len, p, n);
	out_len += n;
}

static void put_u32(uint32_t v)
{
	unsigned char b[4] = { v, v >> 8, v >> 16, v >> 24 };
	put_bytes(b, 4);
}

static void put_u64(uint64_t v)
{
	put_u32((uint32_t)v);
	put_u32((uint32_t)(v >> 32));
}

static void send_response(void)
{
	uint32_t len = (uint32_t)(out_len - 8);
	unsigned char b[4] = { len, len >> 8, len >> 16, len >> 24 };
	memcpy(out + 4, b, 4);
	if (fwrite(out, 1, out_len, stdout) != out_len || fflush(stdout) != 0) {
		fprintf(stderr, "kernel-oracle: cannot write the response\n");
		exit(EXIT_IO);
	}
	/* After the response: a runner that reads the two pipes as they come then sees the response
	 * first and keeps it until its stderr is complete. */
	if (mark_stderr)
		fprintf(stderr, "@@po-end %u\n", current_id);
}

static void begin_response(uint32_t id, uint32_t status)
{
	out_len = 0;
	put_u32(RESP_MAGIC);
	put_u32(0); /* length, patched by send_response */
	put_u32(id);
	put_u32(status);
}

static void compose_error(uint32_t id, int err)
{
	begin_response(id, 1);
	put_u32((uint32_t)(int32_t)err);
	put_u32((uint32_t)msg_len);
	put_bytes(msg_buf ? msg_buf : "", msg_len);
}

/* ---------------------------------------------------------------- one request */

static void fail_request(const char *what)
{
	fprintf(stderr, "kernel-oracle: malformed request: %s\n", what);
	exit(EXIT_PROTOCOL);
}

static void handle(const unsigned char *rec, size_t len)
{
	if (len < 28)
		fail_request("shorter than its fixed fields");
	uint32_t id = get_u32(rec);
	uint32_t flags = get_u32(rec + 4);
	if (flags & ~FLAG_DETAILS)
		fail_request("unknown flags");
	uint64_t base = get_u64(rec + 8);
	/* rec[16] is the fill byte: vzalloc zeroes, so it has no effect on this loader. */
	uint32_t nsyms = get_u32(rec + 20);
	uint32_t elf_len = get_u32(rec + 24);
	if ((size_t)elf_len > len - 28)
		fail_request("elf_len runs past the record");
	const unsigned char *elf = rec + 28;
	const unsigned char *syms = elf + elf_len;
	const unsigned char *end = rec + len;

	/* Check the symbol records before loading: a malformed request is refused whole. */
	const unsigned char *p = syms;
	for (uint32_t s = 0; s < nsyms; s++) {
		for (int part = 0; part < 2; part++) {
			if ((size_t)(end - p) < 4)
				fail_request("symbol record past the record");
			uint32_t n = get_u32(p);
			p += 4;
			if ((size_t)(end - p) < n)
				fail_request("symbol record past the record");
			p += n;
		}
	}
	/* FLAG_DETAILS: u32 nprobes, then per probe u32 name_len, name bytes, u64 size. */
	const unsigned char *probes = p;
	uint32_t nprobes = 0;
	if (flags & FLAG_DETAILS) {
		if ((size_t)(end - p) < 4)
			fail_request("probe count past the record");
		nprobes = get_u32(p);
		p += 4;
		probes = p;
		for (uint32_t s = 0; s < nprobes; s++) {
			if ((size_t)(end - p) < 4)
				fail_request("probe record past the record");
			uint32_t n = get_u32(p);
			p += 4;
			if ((size_t)(end - p) < n || (size_t)(end - p) - n < 8)
				fail_request("probe record past the record");
			p += n;
			if (get_u64(p) > PROBE_MAX_SIZE)
				fail_request("a probe reads more than 1 MiB");
			p += 8;
		}
	}
	if (p != end)
		fail_request("trailing bytes after the symbol records");

	current_id = id;
	if (mark_stderr)
		fprintf(stderr, "@@po-begin %u\n", id);
	msg_len = 0;
	request_base = base;

	/* The embedded purgatory: the request's bytes, ending right before a guard page. */
	struct region er;
	char *copy = map_guarded(elf_len, 8, &er);
	if (!copy) {
		fprintf(stderr, "kernel-oracle: cannot map %u bytes of input\n", elf_len);
		exit(EXIT_RESOURCE_LIMIT);
	}
	memcpy(copy, elf, elf_len);
	shim_kexec_purgatory = copy;
	kexec_purgatory_size = elf_len;

	struct kimage image;
	memset(&image, 0, sizeof(image));
	image.file_mode = 1;
	image.type = KEXEC_TYPE_DEFAULT;
	image.control_pages.next = image.control_pages.prev = &image.control_pages;
	/* As kexec-bzimage64.c sets pbuf, except buf_min (see NOTES.md, "Placement"). */
	struct kexec_buf kbuf = { .image = &image, .buf_min = 0, .buf_max = ULONG_MAX,
				  .top_down = true, .mem = KEXEC_BUF_MEM_UNKNOWN };

	int ret = kexec_load_purgatory(&image, &kbuf);
	struct purgatory_info *pi = &image.purgatory_info;

	for (uint32_t s = 0; ret == 0 && s < nsyms; s++) {
		uint32_t nl = get_u32(syms);
		syms += 4;
		char *name = malloc((size_t)nl + 1);
		memcpy(name, syms, nl);
		name[nl] = 0;
		syms += nl;
		uint32_t dl = get_u32(syms);
		syms += 4;
		void *data = malloc(dl ? dl : 1);
		memcpy(data, syms, dl);
		syms += dl;
		ret = kexec_purgatory_get_set_symbol(&image, name, data, dl, false);
		free(name);
		free(data);
	}

	/* Probes: each read with the kernel's own getter into a PROBE_FILL'd buffer; a failed one is
	 * answered with its negative errno and what it printed (the load's messages are not part of
	 * it). The getter only reads, so later probes see the same load. */
	struct probe_result { int ret; size_t len; unsigned char *bytes; } *results = NULL;
	if (ret == 0 && nprobes) {
		results = calloc(nprobes, sizeof(*results));
		if (!results) {
			fprintf(stderr, "kernel-oracle: out of memory for %u probes\n", nprobes);
			exit(EXIT_RESOURCE_LIMIT);
		}
		const unsigned char *q = probes;
		for (uint32_t s = 0; s < nprobes; s++) {
			uint32_t nl = get_u32(q);
			char *name = malloc((size_t)nl + 1);
			memcpy(name, q + 4, nl);
			name[nl] = 0;
			uint64_t size = get_u64(q + 4 + nl);
			q += 4 + nl + 8;
			unsigned char *buf = malloc(size ? size : 1);
			if (!name || !buf) {
				fprintf(stderr, "kernel-oracle: out of memory for a probe\n");
				exit(EXIT_RESOURCE_LIMIT);
			}
			memset(buf, PROBE_FILL, size);
			size_t before = msg_len;
			int r = kexec_purgatory_get_set_symbol(&image, name, buf, (unsigned int)size, true);
			results[s].ret = r;
			if (r == 0) {
				results[s].len = size;
				results[s].bytes = buf;
			} else {
				free(buf);
				results[s].len = msg_len - before;
				results[s].bytes = malloc(results[s].len ? results[s].len : 1);
				memcpy(results[s].bytes, msg_buf ? msg_buf + before : "", results[s].len);
				msg_len = before;
			}
			free(name);
		}
	}

	/* The response is composed here and sent after the cleanup below, so that a leak found
	 * there is this request's crash, not the next one's. */
	if (ret != 0) {
		compose_error(id, ret);
	} else {
		const Elf_Ehdr *ehdr = pi->ehdr;
		begin_response(id, (flags & FLAG_DETAILS) ? STATUS_DETAILS : 0);
		put_u64(kbuf.mem);
		put_u64(kbuf.memsz);
		put_u64(image.start);
		put_u64((uint64_t)(uintptr_t)pi->purgatory_buf);
		put_u32(ehdr->e_shnum);
		for (unsigned i = 0; i < ehdr->e_shnum; i++)
			put_u64(pi->sechdrs[i].sh_addr);
		put_u32((uint32_t)kbuf.bufsz);
		put_bytes(pi->purgatory_buf, kbuf.bufsz);
		if (flags & FLAG_DETAILS) {
			/* kbuf after kexec_add_buffer (memsz page-rounded, buf_align at least PAGE_SIZE), the
			 * window our caller set (buf_end: -1 top-down, as kexec-tools' add_buffer has it). */
			put_u64(kbuf.memsz);
			put_u64(kbuf.buf_align);
			put_u64(kbuf.buf_min);
			put_u64(kbuf.buf_max);
			put_u32(kbuf.top_down ? (uint32_t)-1 : 1u);
			put_u64(ehdr->e_entry);
			put_u32(nprobes);
			for (uint32_t s = 0; s < nprobes; s++) {
				/* died: 0, or the getter's negative errno (PROTOCOL.md) */
				put_u32((uint32_t)results[s].ret);
				put_u32((uint32_t)results[s].len);
				put_bytes(results[s].bytes, results[s].len);
			}
		}
	}
	if (results) {
		for (uint32_t s = 0; s < nprobes; s++)
			free(results[s].bytes);
		free(results);
	}

	/* kimage_file_post_load_cleanup frees these after a successful load. */
	vfree(pi->purgatory_buf);
	vfree(pi->sechdrs);
	munmap(er.map, er.map_len);
	/* The loader frees what it allocated on every error path (kexec_load_purgatory,
	 * kexec_purgatory_setup_kbuf): a block still mapped now was leaked by the load. The kernel
	 * would lose that memory for good; the oracle reports it as a crash of this request. */
	for (int i = 0; i < MAX_VBLOCKS; i++) {
		if (vblocks[i].addr) {
			fprintf(stderr, "kernel-oracle: the load leaked a vmalloc block (%p)\n", vblocks[i].addr);
			abort();
		}
	}
	send_response();
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--mark-stderr")) {
			mark_stderr = 1;
		} else if (!strcmp(argv[i], "--info")) {
			/* What scripts/build-kernel-oracle.sh records in build.json: the protocol extensions. */
			printf("{\"oracle\":\"kernel\",\"protocol\":1,\"page_size\":%lu,\"features\":[\"details\"]}\n", PAGE_SIZE);
			return 0;
		} else {
			fprintf(stderr, "usage: %s [--mark-stderr | --info]\n", argv[0]);
			return EXIT_PROTOCOL;
		}
	}
	unsigned char hdr[8];
	unsigned char *rec = NULL;
	size_t rec_cap = 0;
	for (;;) {
		size_t got = fread(hdr, 1, 8, stdin);
		if (got == 0 && feof(stdin))
			return 0;
		if (got != 8)
			fail_request("truncated header");
		uint32_t magic = get_u32(hdr), len = get_u32(hdr + 4);
		if (magic == END_MAGIC)
			return 0;
		if (magic != REQ_MAGIC)
			fail_request("bad magic");
		if (len > rec_cap) {
			unsigned char *p = realloc(rec, len);
			if (!p) {
				fprintf(stderr, "kernel-oracle: cannot hold a %u-byte request\n", len);
				exit(EXIT_RESOURCE_LIMIT);
			}
			rec = p;
			rec_cap = len;
		}
		read_exact(rec, len);
		handle(rec, len);
	}
}
