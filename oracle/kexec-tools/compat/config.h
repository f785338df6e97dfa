/*
 * config.h — our stand-in for kexec-tools' autoconf header (purgatory-oracle's own file).
 *
 * kexec/kexec.h includes "config.h"; none of the files the oracle compiles (kexec-elf.c,
 * kexec-elf-rel.c, arch/{x86_64,ppc64}/kexec-elf-rel-*.c) tests any of its macros, so the
 * oracle does not run upstream's ./configure. This directory comes first on the include path,
 * so a config.h left in a fetched tree is never used.
 */
#ifndef PO_COMPAT_CONFIG_H
#define PO_COMPAT_CONFIG_H
#define PACKAGE_NAME "kexec-tools"
#define PACKAGE_VERSION "purgatory-oracle"
#endif
