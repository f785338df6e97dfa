/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * shim.h — the userspace stand-in for the few kernel headers that the kexec_file purgatory loader
 * functions need. Our own code: the kernel functions themselves are extracted unmodified from the
 * fetched sources into a generated file that includes this header (see NOTES.md).
 *
 * Build-time parameters:
 *   SHIM_PAGE_SHIFT   12 for x86_64; 16 for the ppc64le variant (Debian's ppc64el kernels are
 *                     built with CONFIG_PPC_64K_PAGES=y)
 *   SHIM_ARCH_X86_64  1 when the x86_64 arch_kexec_apply_relocations_add is compiled in
 */
#ifndef PURGATORY_ORACLE_KERNEL_SHIM_H
#define PURGATORY_ORACLE_KERNEL_SHIM_H

#include <elf.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* The ELF is read with host-endian Elf64 structs, as the kernel reads its own embedded blob: a
 * big-endian build (s390x, under qemu-user) is the big-endian kernel's loader. */
#if __SIZEOF_LONG__ != 8
#error "the kernel oracle reads the ELF with Elf64 structs and 64-bit longs: build it for a 64-bit target"
#endif

/* ---- include/uapi/asm-generic/int-ll64.h, include/linux/types.h ---- */
typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef unsigned long long u64;
typedef int8_t s8;
typedef int16_t s16;
typedef int32_t s32;
typedef long long s64;

/* ---- include/linux/elf.h: the 64-bit ELF class ---- */
#define Elf_Ehdr Elf64_Ehdr
#define Elf_Shdr Elf64_Shdr
#define Elf_Sym Elf64_Sym
#define Elf_Rel Elf64_Rel
#define Elf_Rela Elf64_Rela
#define Elf_Addr Elf64_Addr
#define ELF_ST_BIND(x) ((x) >> 4)
#define ELF_ST_TYPE(x) ((x) & 0xf)

/* ---- attributes and compiler helpers ---- */
#define __weak __attribute__((weak))
#define __init
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

/* ---- include/uapi/linux/const.h, include/linux/align.h ---- */
#define __ALIGN_KERNEL(x, a) __ALIGN_KERNEL_MASK(x, (__typeof__(x))(a) - 1)
#define __ALIGN_KERNEL_MASK(x, mask) (((x) + (mask)) & ~(mask))
#define ALIGN(x, a) __ALIGN_KERNEL((x), (a))

/* ---- include/linux/minmax.h (without the type-check noise) ---- */
#define min(a, b) ({ __typeof__(a) _a = (a); __typeof__(b) _b = (b); _a < _b ? _a : _b; })
#define max(a, b) ({ __typeof__(a) _a = (a); __typeof__(b) _b = (b); _a > _b ? _a : _b; })

/* ---- include/linux/overflow.h: array_size saturates at SIZE_MAX ---- */
static inline size_t array_size(size_t a, size_t b)
{
	size_t r;
	if (__builtin_mul_overflow(a, b, &r))
		return SIZE_MAX;
	return r;
}

/* ---- pages ---- */
#ifndef SHIM_PAGE_SHIFT
#define SHIM_PAGE_SHIFT 12
#endif
#define PAGE_SHIFT SHIM_PAGE_SHIFT
#define PAGE_SIZE (1UL << PAGE_SHIFT)
#define PAGE_ALIGN(x) ALIGN(x, PAGE_SIZE)

/* ---- include/linux/err.h ---- */
#define MAX_ERRNO 4095
#define IS_ERR_VALUE(x) unlikely((unsigned long)(void *)(x) >= (unsigned long)-MAX_ERRNO)
static inline void *ERR_PTR(long error) { return (void *)error; }
static inline long PTR_ERR(const void *ptr) { return (long)ptr; }
static inline bool IS_ERR(const void *ptr) { return IS_ERR_VALUE((unsigned long)ptr); }

/* ---- printk: pr_err text is collected for the response; pr_debug compiles to nothing, as in a
 *      kernel whose dynamic debug sites are off (its arguments are never evaluated) ---- */
void shim_printk(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void shim_warn(const char *file, int line);
#define pr_err(fmt, ...) shim_printk(pr_fmt(fmt), ##__VA_ARGS__)
#define pr_warn(fmt, ...) shim_printk(pr_fmt(fmt), ##__VA_ARGS__)
#define pr_debug(fmt, ...) do { if (0) shim_printk(pr_fmt(fmt), ##__VA_ARGS__); } while (0)
#define kexec_dprintk(fmt, ...) do { if (0) shim_printk(pr_fmt(fmt), ##__VA_ARGS__); } while (0)
/* WARN_ON: the kernel prints a backtrace and goes on; we note file:line on stderr and go on. */
#define WARN_ON(condition) ({ int __ret_warn_on = !!(condition); \
	if (unlikely(__ret_warn_on)) shim_warn(__FILE__, __LINE__); unlikely(__ret_warn_on); })
#define WARN_ON_ONCE(condition) WARN_ON(condition)

/* ---- mm: vmalloc family (see harness.c for the page/guard-page model) ---- */
void *vzalloc(unsigned long size);
void *vmalloc(unsigned long size);
void vfree(const void *addr);
void kfree(const void *addr);

/* ---- include/linux/list.h (only what kexec_add_buffer asks) ---- */
struct list_head { struct list_head *next, *prev; };
static inline int list_empty(const struct list_head *head) { return head->next == head; }

/* ---- include/linux/kexec.h: the structures the loader touches ---- */
#define KEXEC_SEGMENT_MAX 16
#define KEXEC_BUF_MEM_UNKNOWN 0
#define KEXEC_TYPE_DEFAULT 0
#define KEXEC_TYPE_CRASH 1

struct kexec_segment {
	union {
		void *buf;
		void *kbuf;
	};
	size_t bufsz;
	unsigned long mem;
	size_t memsz;
};

struct purgatory_info {
	const Elf_Ehdr *ehdr;
	Elf_Shdr *sechdrs;
	void *purgatory_buf;
};

struct kimage {
	unsigned long start;
	unsigned long nr_segments;
	struct kexec_segment segment[KEXEC_SEGMENT_MAX];
	struct list_head control_pages;
	unsigned int type : 1;
	unsigned int file_mode : 1;
	struct purgatory_info purgatory_info;
};

struct kexec_buf {
	struct kimage *image;
	void *buffer;
	unsigned long bufsz;
	unsigned long mem;
	unsigned long memsz;
	unsigned long buf_align;
	unsigned long buf_min;
	unsigned long buf_max;
	bool top_down;
};

/* kernel/kexec_internal.h: the embedded purgatory, here set per request */
extern char *shim_kexec_purgatory;
#define kexec_purgatory shim_kexec_purgatory
extern size_t kexec_purgatory_size;

/* kernel/kexec_core.c: no other segment is loaded, so nothing is ever a destination */
static inline int kimage_is_destination_range(struct kimage *image, unsigned long start,
					      unsigned long end)
{
	(void)image; (void)start; (void)end;
	return 0;
}

/* The memory-hole search: our stand-in for arch_kexec_locate_mem_hole (harness.c). */
int arch_kexec_locate_mem_hole(struct kexec_buf *kbuf);

#if SHIM_ARCH_X86_64
/* arch/x86/include/asm/kexec.h */
extern int arch_kexec_apply_relocations_add(struct purgatory_info *pi, Elf_Shdr *section,
					    const Elf_Shdr *relsec, const Elf_Shdr *symtab);
#define arch_kexec_apply_relocations_add arch_kexec_apply_relocations_add
#endif

/* Entry points the harness calls; defined by the extracted kernel code. */
int kexec_load_purgatory(struct kimage *image, struct kexec_buf *kbuf);
int kexec_purgatory_get_set_symbol(struct kimage *image, const char *name, void *buf,
				   unsigned int size, bool get_value);
int kexec_add_buffer(struct kexec_buf *kbuf);

#endif
