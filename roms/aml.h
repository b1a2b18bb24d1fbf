/* A tiny AML byte emitter for hvemu's DSDT (ACPI 6.4 §20 "ACPI Machine Language
 * Specification").  Only what the DSDT needs: names, integers, packages, buffers,
 * scopes and devices.  Constructs with a PkgLength (§20.2.4) are built in two
 * steps: aml_open() remembers where the body starts, aml_close() inserts the
 * encoded length in front of it once the body is known.
 *
 * The emitter writes into a caller-supplied buffer; running out of room sets
 * `overflow` and drops further bytes (check it once at the end). */
#ifndef HVEMU_ROMS_AML_H
#define HVEMU_ROMS_AML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Opcodes (ACPI 6.4 §20.3, §20.2.5) */
#define AML_ZERO_OP      0x00
#define AML_ONE_OP       0x01
#define AML_NAME_OP      0x08
#define AML_BYTE_PREFIX  0x0A
#define AML_WORD_PREFIX  0x0B
#define AML_DWORD_PREFIX 0x0C
#define AML_QWORD_PREFIX 0x0E
#define AML_SCOPE_OP     0x10
#define AML_BUFFER_OP    0x11
#define AML_PACKAGE_OP   0x12
#define AML_DUAL_NAME    0x2E
#define AML_MULTI_NAME   0x2F
#define AML_ROOT_CHAR    0x5C   /* '\' */
#define AML_EXT_OP       0x5B
#define AML_DEVICE_OP    0x82   /* after AML_EXT_OP */
#define AML_ONES_OP      0xFF

struct aml {
    uint8_t *buf;
    size_t len, cap;
    bool overflow;
};

void aml_init(struct aml *a, uint8_t *buf, size_t cap);
void aml_byte(struct aml *a, uint8_t b);
void aml_bytes(struct aml *a, const void *p, size_t n);
/* The shortest encoding: ZeroOp, OneOp, or Byte/Word/DWord/QWord prefix + value. */
void aml_integer(struct aml *a, uint64_t v);
/* A NameString: optional leading '\', then 1-4 character segments separated by
 * '.', each padded with '_' to four characters ("\\_SB.COM1"). */
void aml_namestring(struct aml *a, const char *path);

/* Begin a PkgLength construct: emit the opcode byte(s), return the body start. */
size_t aml_open(struct aml *a, const uint8_t *op, size_t oplen);
/* End it: insert the PkgLength (which counts itself and the body). */
void aml_close(struct aml *a, size_t body_start);

/* Encode a PkgLength for a body of len bytes (§20.2.4); returns its size (1-4),
 * or 0 if the total exceeds 2^28 - 1. */
unsigned aml_pkglength(size_t body_len, uint8_t out[4]);

/* A compressed EISA ID, as the ASL EISAID() macro ("PNP0501" -> 0x0105D041). */
uint32_t aml_eisaid(const char *id);

#endif
