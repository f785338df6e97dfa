/*
 * harness.c — the kexec-tools oracle: a request loop implementing oracle/PROTOCOL.md (v1).
 * Our own code (purgatory-oracle).
 *
 *   oracle                 serve requests on stdin, responses on stdout
 *   oracle --info          print one JSON line describing this build, then exit
 *   oracle --mark-stderr   also write "@@po-begin <id>" / "@@po-end <id>" lines on stderr around
 *                          each request, so sanitizer reports can be attributed to a request
 *   oracle --fork-server   serve from a forked child; when it dies inside a request, answer that
 *                          request "crashed" (status 3) and fork a fresh child (PROTOCOL.md).
 *                          A load that faults (SIGSEGV, SIGBUS, SIGILL, SIGFPE) is answered the same
 *                          way by the child itself, which carries on without a fork: the request
 *                          arena (shim.c) leaves nothing of the crashed load behind
 *
 * Environment: PO_ORACLE_NO_ARENA=1 serves the loader's blocks from malloc, as kexec-tools does
 * (host_buf then depends on the heap); PO_ORACLE_NO_RECOVER=1 makes every crash end the child.
 *
 * All framing integers are little-endian, encoded bytewise (the oracle also runs big-endian).
 * Exit: 0 on PEND or EOF at a record boundary, 3 on a malformed stream.
 * Supports the optional FLAG_SAME_ELF, FLAG_IMAGE_DELTA and FLAG_DETAILS extensions (PROTOCOL.md),
 * announced in --info "features".
 */
#define _GNU_SOURCE /* F_SETPIPE_SZ */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "po.h"
#include "shim.h"

#ifndef PO_KEXEC_TOOLS_VERSION
#define PO_KEXEC_TOOLS_VERSION "unknown"
#endif
#ifndef PO_TARGET
#define PO_TARGET "unknown"
#endif
#ifndef PO_SANITIZE
#define PO_SANITIZE 0
#endif

#define MAGIC_REQ 0x51524f50u  /* "PORQ" */
#define MAGIC_END 0x444e4550u  /* "PEND" */
#define MAGIC_RSP 0x53524f50u  /* "PORS" */
#define FLAG_SAME_ELF 0x1u     /* optional extension: reuse the previous request's ELF */
#define FLAG_IMAGE_DELTA 0x2u  /* optional extension: the image may come back as a delta */
#define FLAG_DETAILS 0x4u      /* optional extension: add_buffer's arguments, e_entry, symbol probes */
#define STATUS_DETAILS 0x100u  /* status bit: the details follow the image */
#define PROBE_MAX_SIZE ((uint64_t)1 << 20) /* largest symbol a probe may read */
#define STATUS_OK 0u
#define STATUS_DIED 1u
#define STATUS_OK_DELTA 2u
#define STATUS_CRASHED 3u      /* --fork-server: the child died inside this request */
/* --fork-server child: exit status meaning "recycle me" (between requests; the parent forks anew) */
#define EXIT_RECYCLE 75
/* a child recycles itself after this many recovered crashes: each leaks its capture stream, and a
 * wild write that did not fault may have reached memory outside the arena */
#define RECOVERED_CRASH_LIMIT 512

/*
 * --fork-server: what the serving child shares with the parent, which outlives it. busy/id: the
 * request in progress (set before the load, cleared once its response is written). The ELF of
 * the last request that carried one (FLAG_SAME_ELF) lives here too, so that a fresh child can
 * serve the same-ELF requests already written behind the one that crashed.
 */
#define SHARED_ELF_MAX ((size_t)64 << 20)
struct shared_state {
	volatile uint32_t busy, id;
	volatile uint32_t elf_len;
	volatile int have_elf;
};
static int fork_server;
static struct shared_state *shared;
/* --fork-server child: catch a fault inside a load and answer it without dying */
static int recover;
static sigjmp_buf crash_env;
static volatile sig_atomic_t crash_armed;
static unsigned recovered_crashes;
static uint8_t *shared_elf;

/* The ELF of the last request that carried one (for FLAG_SAME_ELF). */
static uint8_t *last_elf;
static uint32_t last_elf_len;
static int have_last_elf;

/* The image of the last ok response written to a FLAG_IMAGE_DELTA request (the delta base). */
static uint8_t *prev_img;
static size_t prev_len, prev_cap;
static int have_prev_img;

#if PO_SANITIZE
#include <sanitizer/common_interface_defs.h>

/*
 * --fork-server under ASan: initialise the sanitizers' symbolizer in the parent (GCC's libasan
 * symbolizes in-process with libbacktrace, reading each module's DWARF on first use), so that every
 * child inherits it instead of starting it for its first report (each crash ends a child under
 * ASan). Measured per crashing case: ~260 ms before, ~63 ms after.
 */
static void warm_symbolizer(void)
{
	char buf[512];
	__sanitizer_symbolize_pc((void *)(uintptr_t)&po_load, "%p %F %L", buf, sizeof(buf));
}
#endif

#if PO_SANITIZE
/* ASan: report huge allocations as NULL (kexec-tools then dies "Cannot malloc"), abort on a
 * finding so the runner sees a signal, no leak check (the oracle frees per request). */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "allocator_may_return_null=1:detect_leaks=0:abort_on_error=1:halt_on_error=1:"
	       "handle_abort=0:print_summary=1";
}
const char *__ubsan_default_options(void);
const char *__ubsan_default_options(void)
{
	return "print_stacktrace=1:halt_on_error=0:report_error_type=1";
}
#endif

static void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void fatal(const char *fmt, ...)
{
	va_list ap;
	fputs("oracle: protocol error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
	if (shared)
		shared->busy = 0; /* a malformed stream, not a crash: the fork server exits with 3 */
	exit(PO_EXIT_PROTOCOL);
}

/* ---- input ---------------------------------------------------------------------------- */

static uint8_t inbuf[1 << 16];
static size_t in_pos, in_len;

/* Read exactly n bytes; returns n, or the count read before EOF. */
static size_t read_exact(uint8_t *dst, size_t n)
{
	size_t got = 0;
	while (got < n) {
		if (in_pos == in_len) {
			ssize_t r;
			/* fork server: no read-ahead, so a dead child loses no request behind its own */
			if (fork_server || n - got >= sizeof(inbuf)) {
				r = read(0, dst + got, n - got);
				if (r < 0 && errno == EINTR)
					continue;
				if (r < 0)
					fatal("read: %s", strerror(errno));
				if (r == 0)
					return got;
				got += (size_t)r;
				continue;
			}
			r = read(0, inbuf, sizeof(inbuf));
			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0)
				fatal("read: %s", strerror(errno));
			if (r == 0)
				return got;
			in_pos = 0;
			in_len = (size_t)r;
		}
		{
			size_t take = in_len - in_pos;
			if (take > n - got)
				take = n - got;
			memcpy(dst + got, inbuf + in_pos, take);
			in_pos += take;
			got += take;
		}
	}
	return got;
}

static uint32_t get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get_u64(const uint8_t *p)
{
	return (uint64_t)get_u32(p) | (uint64_t)get_u32(p + 4) << 32;
}

/* ---- output --------------------------------------------------------------------------- */

static uint8_t *out;
static size_t out_len, out_cap;

static void out_reserve(size_t more)
{
	if (out_len + more > out_cap) {
		size_t cap = out_cap ? out_cap : 1 << 16;
		while (cap < out_len + more)
			cap *= 2;
		out = realloc(out, cap);
		if (!out) {
			po_diag("oracle: out of memory for a %zu-byte response\n", cap);
			_exit(PO_EXIT_RESOURCE_LIMIT);
		}
		out_cap = cap;
	}
}

static void put_u32(uint32_t v)
{
	out_reserve(4);
	out[out_len++] = (uint8_t)v;
	out[out_len++] = (uint8_t)(v >> 8);
	out[out_len++] = (uint8_t)(v >> 16);
	out[out_len++] = (uint8_t)(v >> 24);
}

static void put_u64(uint64_t v)
{
	put_u32((uint32_t)v);
	put_u32((uint32_t)(v >> 32));
}

static void put_bytes(const void *p, size_t n)
{
	out_reserve(n);
	if (n)
		memcpy(out + out_len, p, n);
	out_len += n;
}

static void patch_u32(size_t at, uint32_t v)
{
	out[at] = (uint8_t)v;
	out[at + 1] = (uint8_t)(v >> 8);
	out[at + 2] = (uint8_t)(v >> 16);
	out[at + 3] = (uint8_t)(v >> 24);
}

static void flush_out(void)
{
	size_t done = 0;
	while (done < out_len) {
		ssize_t w = write(1, out + done, out_len - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			po_diag("oracle: write: %s\n", strerror(errno));
			exit(PO_EXIT_PROTOCOL);
		}
		done += (size_t)w;
	}
	out_len = 0;
}

/* ---- requests ------------------------------------------------------------------------- */

struct ok_ctx {
	uint32_t id;
	uint32_t flags;
	int written;
};

static uint64_t load_u64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

/* The byte the delta is taken against at offset i: the previous image, 0 past its end. */
static uint8_t prev_at(size_t i)
{
	return i < prev_len ? prev_img[i] : 0;
}

/*
 * Write the image as delta runs against the previous one (PROTOCOL.md, status 2): nruns, then
 * per run offset, length, bytes. Runs separated by fewer equal bytes than a run header (8) are
 * merged. Returns 0, writing nothing, when the delta would not be smaller than half the image.
 */
static int put_delta(const uint8_t *img, size_t n)
{
	size_t start = out_len, nruns_at, limit = n / 2, i = 0, common = n < prev_len ? n : prev_len;
	uint32_t nruns = 0;
	nruns_at = out_len;
	put_u32(0);
	while (i < n) {
		size_t run, last;
		while (i + 8 <= common && load_u64(img + i) == load_u64(prev_img + i))
			i += 8;
		while (i < n && img[i] == prev_at(i))
			i++;
		if (i >= n)
			break;
		run = i;
		last = i;
		while (i < n && i - last <= 8) {
			if (img[i] != prev_at(i))
				last = i;
			i++;
		}
		i = last + 1;
		if (out_len - start + 8 + (i - run) > limit) {
			out_len = start;
			return 0;
		}
		put_u32((uint32_t)run);
		put_u32((uint32_t)(i - run));
		put_bytes(img + run, i - run);
		nruns++;
	}
	patch_u32(nruns_at, nruns);
	return 1;
}

/*
 * The delta base lives in its own mapping, not on the malloc heap: the loads that follow see the
 * same heap (and the same host_buf, which REL32 writes into images) as without the extension.
 */
static void keep_prev(const uint8_t *img, size_t n)
{
	if (n > prev_cap) {
		size_t page = (size_t)po_pagesize(), cap = (n + page - 1) / page * page;
		void *p;
		if (cap < ((size_t)1 << 20))
			cap = (size_t)1 << 20;
		p = mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED) {
			po_diag("oracle: cannot map %zu bytes for the delta base\n", cap);
			_exit(PO_EXIT_RESOURCE_LIMIT);
		}
		if (prev_img)
			munmap(prev_img, prev_cap);
		prev_img = p;
		prev_cap = cap;
	}
	if (n)
		memcpy(prev_img, img, n);
	prev_len = n;
	have_prev_img = 1;
}

static void on_ok(void *vctx, const struct po_loaded *res)
{
	struct ok_ctx *ctx = vctx;
	size_t len_at, status_at;
	uint32_t i;
	if (res->image_len > 0xffffffffu - 64 - (uint64_t)res->shnum * 8) {
		po_diag("oracle: image of %llu bytes does not fit a response\n",
			(unsigned long long)res->image_len);
		_exit(PO_EXIT_RESOURCE_LIMIT);
	}
	put_u32(MAGIC_RSP);
	len_at = out_len;
	put_u32(0);
	put_u32(ctx->id);
	status_at = out_len;
	put_u32(STATUS_OK);
	put_u64(res->rel_addr);
	put_u64(res->rel_size);
	put_u64(res->entry);
	put_u64(res->host_buf);
	put_u32(res->shnum);
	for (i = 0; i < res->shnum; i++)
		put_u64(res->sh_addr[i]);
	put_u32((uint32_t)res->image_len);
	if ((ctx->flags & FLAG_IMAGE_DELTA) && have_prev_img && put_delta(res->image, (size_t)res->image_len))
		patch_u32(status_at, STATUS_OK_DELTA);
	else
		put_bytes(res->image, (size_t)res->image_len);
	if (res->details) {
		const struct po_details *d = res->details;
		patch_u32(status_at, (get_u32(out + status_at) | STATUS_DETAILS));
		put_u64(d->memsz);
		put_u64(d->buf_align);
		put_u64(d->buf_min);
		put_u64(d->buf_max);
		put_u32((uint32_t)d->buf_end);
		put_u64(d->e_entry);
		put_u32(d->nprobes);
		for (i = 0; i < d->nprobes; i++) {
			uint64_t n = d->probes[i].len;
			if (n > 0xffff0000u)
				n = 0xffff0000u;
			put_u32(d->probes[i].died ? 1u : 0u);
			put_u32((uint32_t)n);
			put_bytes(d->probes[i].bytes, (size_t)n);
		}
	}
	patch_u32(len_at, (uint32_t)(out_len - len_at - 4));
	/* Kept only for clients that use the extension: the heap of the others is as it was. */
	if (ctx->flags & FLAG_IMAGE_DELTA)
		keep_prev(res->image, (size_t)res->image_len);
	else
		have_prev_img = 0;
	ctx->written = 1;
}

/* The "crashed" response (status 3) to request id, stderr marker first: the runner waits for that
 * line, after any report the crash printed. Written by the fork-server parent when a child died,
 * and by a child that caught the fault itself. */
static void put_crash(uint32_t id, uint32_t sig, uint32_t exit_status, int mark)
{
	po_diag(mark ? "@@po-end %u\n" : "@@po-crash %u\n", id);
	out_len = 0;
	put_u32(MAGIC_RSP);
	put_u32(16);
	put_u32(id);
	put_u32(STATUS_CRASHED);
	put_u32(sig);
	put_u32(exit_status);
	flush_out();
}

/* guarded_load's jump value (and, negated, result) for a resource-limit answer; signals are below */
#define JUMP_RESOURCE_LIMIT 0x100

/* Overrides shim.c's weak default. A recovering child answers the request as the fork server
 * answers a child that exited with PO_EXIT_RESOURCE_LIMIT, and carries on. */
void po_resource_limit_exceeded(size_t size)
{
	po_report_resource_limit(size);
	if (crash_armed) {
		crash_armed = 0;
		siglongjmp(crash_env, JUMP_RESOURCE_LIMIT);
	}
	_exit(PO_EXIT_RESOURCE_LIMIT);
}

static void on_fault(int sig)
{
	if (crash_armed) {
		crash_armed = 0;
		siglongjmp(crash_env, sig);
	}
	/* outside a load: die of it, and let the fork server answer */
	signal(sig, SIG_DFL);
	raise(sig);
}

static void install_fault_handlers(void)
{
	static const int sigs[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE };
	static uint8_t altstack[1 << 16];
	stack_t ss = { .ss_sp = altstack, .ss_size = sizeof(altstack), .ss_flags = 0 };
	struct sigaction sa;
	size_t i;
	if (sigaltstack(&ss, NULL) != 0)
		fatal("sigaltstack: %s", strerror(errno));
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_fault;
	sa.sa_flags = SA_ONSTACK;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (sigaction(sigs[i], &sa, NULL) != 0)
			fatal("sigaction: %s", strerror(errno));
}

/* po_load; when recovering, a fault inside it is caught: returns -signal (-JUMP_RESOURCE_LIMIT for
 * an allocation over the limit), the request abandoned */
static int guarded_load(const uint8_t *elf, uint32_t elf_len, uint64_t base, uint8_t fill,
	const struct po_symwrite *syms, uint32_t nsyms, const struct po_symprobe *probes, uint32_t nprobes,
	struct ok_ctx *ctx, const char **msg, size_t *msg_len)
{
	int died, sig, details = (ctx->flags & FLAG_DETAILS) != 0;
	if (!recover)
		return po_load_probed(elf, elf_len, base, fill, syms, nsyms, details, probes, nprobes, on_ok, ctx, msg, msg_len);
	sig = sigsetjmp(crash_env, 1);
	if (sig != 0) {
		po_abandon_request();
		return -sig;
	}
	crash_armed = 1;
	died = po_load_probed(elf, elf_len, base, fill, syms, nsyms, details, probes, nprobes, on_ok, ctx, msg, msg_len);
	crash_armed = 0;
	return died;
}

static void serve_one(const uint8_t *rec, uint32_t len, int mark)
{
	uint32_t id, flags, nsyms, elf_len, i, nprobes = 0;
	uint64_t base;
	uint8_t fill;
	const uint8_t *p, *end = rec + len, *elf;
	struct po_symwrite *syms = NULL;
	struct po_symprobe *probes = NULL;
	char *names = NULL, *pnames = NULL;
	const char *msg;
	size_t msg_len, names_len = 0;
	struct ok_ctx ctx;
	int died;

	if (len < 28)
		fatal("request of %u bytes is shorter than its fixed part", len);
	id = get_u32(rec);
	flags = get_u32(rec + 4);
	if (flags & ~(FLAG_SAME_ELF | FLAG_IMAGE_DELTA | FLAG_DETAILS))
		fatal("request %u: unknown flags 0x%x", id, flags);
	base = get_u64(rec + 8);
	fill = rec[16];
	nsyms = get_u32(rec + 20);
	elf_len = get_u32(rec + 24);
	p = rec + 28;
	if (elf_len > (size_t)(end - p))
		fatal("request %u: elf_len %u exceeds the record", id, elf_len);
	elf = p;
	p += elf_len;
	if (flags & FLAG_SAME_ELF) {
		if (elf_len != 0)
			fatal("request %u: FLAG_SAME_ELF with elf_len %u", id, elf_len);
		if (fork_server && shared->have_elf) {
			elf = shared_elf;
			elf_len = shared->elf_len;
		} else {
			if (!have_last_elf)
				fatal("request %u: FLAG_SAME_ELF but no earlier request carried an ELF", id);
			elf = last_elf;
			elf_len = last_elf_len;
		}
	} else if (fork_server && elf_len <= SHARED_ELF_MAX) {
		memcpy(shared_elf, elf, elf_len);
		shared->elf_len = elf_len;
		shared->have_elf = 1;
		elf = shared_elf;
	} else {
		if (fork_server)
			shared->have_elf = 0;
		uint8_t *copy = realloc(last_elf, elf_len ? elf_len : 1);
		if (!copy)
			fatal("out of memory keeping a %u-byte ELF", elf_len);
		memcpy(copy, elf, elf_len);
		last_elf = copy;
		last_elf_len = elf_len;
		have_last_elf = 1;
		elf = last_elf;
	}

	if (nsyms > (size_t)(end - p) / 8)
		fatal("request %u: %u symbol writes cannot fit the record", id, nsyms);
	if (nsyms) {
		const uint8_t *q = p;
		syms = calloc(nsyms, sizeof(*syms));
		if (!syms)
			fatal("out of memory");
		/* first pass: validate and size the names */
		for (i = 0; i < nsyms; i++) {
			uint32_t nl, dl;
			if ((size_t)(end - q) < 4)
				fatal("request %u: symbol %u truncated", id, i);
			nl = get_u32(q);
			q += 4;
			if (nl > (size_t)(end - q))
				fatal("request %u: symbol %u name truncated", id, i);
			q += nl;
			names_len += (size_t)nl + 1;
			if ((size_t)(end - q) < 4)
				fatal("request %u: symbol %u truncated", id, i);
			dl = get_u32(q);
			q += 4;
			if (dl > (size_t)(end - q))
				fatal("request %u: symbol %u data truncated", id, i);
			q += dl;
		}
		names = malloc(names_len);
		if (!names)
			fatal("out of memory");
		names_len = 0;
		for (i = 0; i < nsyms; i++) {
			uint32_t nl = get_u32(p), dl;
			p += 4;
			memcpy(names + names_len, p, nl);
			names[names_len + nl] = '\0';
			syms[i].name = names + names_len;
			names_len += (size_t)nl + 1;
			p += nl;
			dl = get_u32(p);
			p += 4;
			syms[i].data = p;
			syms[i].len = dl;
			p += dl;
		}
	}
	if (flags & FLAG_DETAILS) {
		/* u32 nprobes, then per probe: u32 name_len, name bytes, u64 size */
		const uint8_t *q;
		size_t pn_len = 0;
		if ((size_t)(end - p) < 4)
			fatal("request %u: probe count truncated", id);
		nprobes = get_u32(p);
		p += 4;
		if (nprobes > (size_t)(end - p) / 12)
			fatal("request %u: %u probes cannot fit the record", id, nprobes);
		for (q = p, i = 0; i < nprobes; i++) {
			uint32_t nl;
			if ((size_t)(end - q) < 4)
				fatal("request %u: probe %u truncated", id, i);
			nl = get_u32(q);
			q += 4;
			if (nl > (size_t)(end - q) || (size_t)(end - q) - nl < 8)
				fatal("request %u: probe %u truncated", id, i);
			if (get_u64(q + nl) > PROBE_MAX_SIZE)
				fatal("request %u: probe %u reads more than %llu bytes", id, i, (unsigned long long)PROBE_MAX_SIZE);
			q += nl + 8;
			pn_len += (size_t)nl + 1;
		}
		probes = calloc(nprobes ? nprobes : 1, sizeof(*probes));
		pnames = malloc(pn_len ? pn_len : 1);
		if (!probes || !pnames)
			fatal("out of memory");
		for (pn_len = 0, i = 0; i < nprobes; i++) {
			uint32_t nl = get_u32(p);
			p += 4;
			memcpy(pnames + pn_len, p, nl);
			pnames[pn_len + nl] = '\0';
			probes[i].name = pnames + pn_len;
			pn_len += (size_t)nl + 1;
			p += nl;
			probes[i].size = get_u64(p);
			p += 8;
		}
	}
	if (p != end)
		fatal("request %u: %zu trailing bytes", id, (size_t)(end - p));

	if (mark)
		po_diag("@@po-begin %u\n", id);
	ctx.id = id;
	ctx.flags = flags;
	ctx.written = 0;
	died = guarded_load(elf, elf_len, base, fill, syms, nsyms, probes, nprobes, &ctx, &msg, &msg_len);
	if (died < 0) {
		/* the load faulted; the arena kept all it left, and is reset */
		have_prev_img = 0; /* the next ok answer is sent whole */
		if (died == -JUMP_RESOURCE_LIMIT)
			put_crash(id, 0, PO_EXIT_RESOURCE_LIMIT, mark);
		else
			put_crash(id, (uint32_t)-died, 0xffffffffu, mark);
		shared->busy = 0;
		free(syms);
		free(names);
		free(probes);
		free(pnames);
		if (++recovered_crashes >= RECOVERED_CRASH_LIMIT)
			exit(EXIT_RECYCLE);
		return;
	}
	if (died) {
		size_t len_at;
		out_len = 0; /* nothing of a half-built ok response */
		if (msg_len > 0xffffff00u)
			msg_len = 0xffffff00u;
		put_u32(MAGIC_RSP);
		len_at = out_len;
		put_u32(0);
		put_u32(id);
		put_u32(STATUS_DIED);
		put_u32(0);  /* errno: kexec-tools has none */
		put_u32((uint32_t)msg_len);
		put_bytes(msg, msg_len);
		patch_u32(len_at, (uint32_t)(out_len - len_at - 4));
	} else if (msg_len && getenv("PO_ORACLE_VERBOSE")) {
		po_diag("oracle: request %u printed: %.*s", id, (int)msg_len, msg);
	}
	if (mark)
		po_diag("@@po-end %u\n", id);
	flush_out();
	if (fork_server)
		shared->busy = 0;
	free(syms);
	free(names);
	free(probes);
	free(pnames);
}

static void print_info(void)
{
	printf("{\"oracle\":\"kexec-tools\",\"protocol\":1,\"kexec_tools\":\"%s\",\"target\":\"%s\","
	       "\"pagesize\":%lu,\"big_endian\":%s,\"call_elf\":%d,\"sanitize\":%s,"
	       "\"long_bits\":%d,\"features\":[\"same-elf\",\"image-delta\",\"fork-server\",\"details\"]}\n",
		PO_KEXEC_TOOLS_VERSION, PO_TARGET, po_pagesize(),
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
		"true",
#else
		"false",
#endif
#if defined(_CALL_ELF)
		_CALL_ELF,
#else
		0,
#endif
		PO_SANITIZE ? "true" : "false", (int)(sizeof(long) * 8));
}

/* The request loop; returns the process exit status (0: PEND or EOF at a record boundary). */
static int serve_loop(int mark)
{
	uint8_t *rec = NULL;
	size_t rec_cap = 0;

	for (;;) {
		uint8_t hdr[8];
		uint32_t magic, len;
		size_t got = read_exact(hdr, 8);
		if (got == 0)
			return 0; /* EOF at a record boundary */
		if (got < 8)
			fatal("EOF inside a record header");
		magic = get_u32(hdr);
		len = get_u32(hdr + 4);
		if (magic == MAGIC_END) {
			if (len != 0)
				fatal("PEND record with length %u", len);
			return 0;
		}
		if (magic != MAGIC_REQ)
			fatal("bad magic 0x%08x", magic);
		if (len > rec_cap && fork_server) {
			/* off the heap: an earlier load may have corrupted it, and a child that died
			 * here, inside a record, would leave the stream between two record boundaries */
			void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (p == MAP_FAILED)
				fatal("cannot map a %u-byte request", len);
			if (rec)
				munmap(rec, rec_cap);
			rec = p;
			rec_cap = len;
		} else if (len > rec_cap) {
			free(rec);
			rec_cap = len;
			rec = malloc(rec_cap);
			if (!rec)
				fatal("out of memory for a %u-byte request", len);
		}
		if (read_exact(rec, len) != len)
			fatal("EOF inside a %u-byte request", len);
		if (fork_server) {
			/* from here until its response is written, a death is this request's crash */
			shared->id = len >= 4 ? get_u32(rec) : 0;
			shared->busy = 1;
		}
		serve_one(rec, len, mark);
	}
}

/*
 * --fork-server: the parent never loads anything. It forks a child that runs serve_loop on the
 * same stdin/stdout; when the child dies inside a request, the parent writes that request's
 * "crashed" response (status 3: signal, exit status) and forks a fresh child, which carries on
 * with the next request in the pipe (children read no further ahead than the current request).
 * Far cheaper than the runner starting a new process (or a new qemu) after every crash.
 */
static int run_fork_server(int mark)
{
	pid_t parent = getpid();
	void *sh = mmap(NULL, sizeof(*shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	void *se = mmap(NULL, SHARED_ELF_MAX, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (sh == MAP_FAILED || se == MAP_FAILED)
		fatal("fork server: cannot map shared memory: %s", strerror(errno));
	shared = sh;
	shared_elf = se;
	memset(sh, 0, sizeof(*shared));
#if PO_SANITIZE
	warm_symbolizer();
#endif
	for (;;) {
		int st;
		uint32_t id;
		pid_t pid = fork();
		if (pid < 0)
			fatal("fork server: fork: %s", strerror(errno));
		if (pid == 0) {
			/* a child stuck in a request dies with the parent (the runner kills it on timeout) */
			(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
			if (getppid() != parent)
				_exit(0);
			if (recover)
				install_fault_handlers();
			exit(serve_loop(mark));
		}
		while (waitpid(pid, &st, 0) < 0) {
			if (errno != EINTR)
				fatal("fork server: waitpid: %s", strerror(errno));
		}
		if (!shared->busy) {
			if (WIFEXITED(st) && WEXITSTATUS(st) != EXIT_RECYCLE)
				return WEXITSTATUS(st);
			continue; /* recycled, or died between requests (its response is out): carry on */
		}
		id = shared->id;
		shared->busy = 0;
		put_crash(id, WIFSIGNALED(st) ? (uint32_t)WTERMSIG(st) : 0u,
			  WIFEXITED(st) ? (uint32_t)WEXITSTATUS(st) : 0xffffffffu, mark);
	}
}

#if !PO_SANITIZE
static int getenv_flag(const char *name)
{
	const char *v = getenv(name);
	return v && *v && strcmp(v, "0") != 0;
}
#endif

int main(int argc, char **argv)
{
	int mark = 0, i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--info")) {
			print_info();
			return 0;
		} else if (!strcmp(argv[i], "--mark-stderr")) {
			mark = 1;
		} else if (!strcmp(argv[i], "--fork-server")) {
			fork_server = 1;
		} else {
			fprintf(stderr, "usage: %s [--info] [--mark-stderr] [--fork-server]\n", argv[0]);
			return 2;
		}
	}

	/* Larger pipes: a 40 KB request or response then needs one wake-up, not several.
	 * Best effort (not a pipe, an old kernel, or an emulator without it: fine). */
#ifdef F_SETPIPE_SZ
	(void)fcntl(0, F_SETPIPE_SZ, 1 << 20);
	(void)fcntl(1, F_SETPIPE_SZ, 1 << 20);
#endif
#if !PO_SANITIZE
	/* ASan must see every block, and reports a fault itself (sanitizer builds keep both off) */
	if (!getenv_flag("PO_ORACLE_NO_ARENA") && po_use_arena() != 0)
		return PO_EXIT_RESOURCE_LIMIT;
	recover = fork_server && !getenv_flag("PO_ORACLE_NO_RECOVER");
#endif
	return fork_server ? run_fork_server(mark) : serve_loop(mark);
}
